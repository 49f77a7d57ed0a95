"""Link maintenance commands: LinkCheck (0x02), LinkADR (0x03), DutyCycle (0x04), DevStatus (0x06).

Layouts from LoRaWAN 1.0.4 section 5 (MAC commands); LoRaWAN 1.1 section 5 keeps them unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands.base import (
    BoolFields,
    EmptyCommand,
    IntFields,
    IntRange,
    MACCommand,
    bits,
    flags_byte,
)

CH_MASK_CHANNELS: Final = 16


@dataclass(frozen=True, slots=True)
class LinkCheckReq(EmptyCommand):
    """The end-device asks whether the network hears it."""

    CID: ClassVar[int] = 0x02
    UPLINK: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class LinkCheckAns(MACCommand):
    """Answer to LinkCheckReq for the uplink that carried it.

    ``margin`` is the link margin in dB of the best reception above the demodulation floor
    (255 is reserved by the specification but representable); ``gw_count`` the number of
    gateways that received the request.
    """

    CID: ClassVar[int] = 0x02
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 2
    INT_FIELDS: ClassVar[IntFields] = {"margin": bits(8), "gw_count": bits(8)}

    margin: int
    gw_count: int

    def payload(self) -> bytes:
        return bytes((self.margin, self.gw_count))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(margin=data[0], gw_count=data[1])


@dataclass(frozen=True, slots=True)
class LinkADRReq(MACCommand):
    """The network sets data rate, TX power, channel mask and repetitions.

    ``data_rate`` and ``tx_power`` are regional-table indexes (15 means "keep the current
    value" in 1.0.4 and 1.1); ``ch_mask`` has bit *n* set when channel *n* of the block chosen
    by ``ch_mask_cntl`` is usable (the meaning of ``ch_mask_cntl`` is regional);
    ``nb_trans`` is the number of transmissions of each unconfirmed uplink.
    """

    CID: ClassVar[int] = 0x03
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 4
    INT_FIELDS: ClassVar[IntFields] = {
        "data_rate": bits(4),
        "tx_power": bits(4),
        "ch_mask": bits(16),
        "ch_mask_cntl": bits(3),
        "nb_trans": bits(4),
    }

    data_rate: int
    tx_power: int
    ch_mask: int
    ch_mask_cntl: int
    nb_trans: int

    @staticmethod
    def mask_of(channels: Iterable[int]) -> int:
        """The ``ch_mask`` value enabling exactly ``channels`` (indexes 0..15)."""
        mask = 0
        for channel in channels:
            if not 0 <= channel < CH_MASK_CHANNELS:
                raise InvalidValueError(f"LinkADRReq channel index must be 0..15, got {channel}")
            mask |= 1 << channel
        return mask

    @property
    def channels(self) -> tuple[bool, ...]:
        """Sixteen flags, index *n* telling whether channel *n* of the block is enabled."""
        return tuple(bool(self.ch_mask >> n & 1) for n in range(CH_MASK_CHANNELS))

    @property
    def enabled_channels(self) -> tuple[int, ...]:
        return tuple(n for n in range(CH_MASK_CHANNELS) if self.ch_mask >> n & 1)

    def payload(self) -> bytes:
        return (
            bytes((self.data_rate << 4 | self.tx_power,))
            + self.ch_mask.to_bytes(2, "little")
            + bytes((self.ch_mask_cntl << 4 | self.nb_trans,))
        )

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(
            data_rate=data[0] >> 4,
            tx_power=data[0] & 0x0F,
            ch_mask=data[1] | data[2] << 8,
            # Bit 7 of the Redundancy byte is RFU.
            ch_mask_cntl=data[3] >> 4 & 0x07,
            nb_trans=data[3] & 0x0F,
        )

    def _json_extra(self) -> dict[str, Any]:
        return {"enabled_channels": list(self.enabled_channels)}


@dataclass(frozen=True, slots=True)
class LinkADRAns(MACCommand):
    """The end-device accepts (True) or rejects each part of a LinkADRReq."""

    CID: ClassVar[int] = 0x03
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    BOOL_FIELDS: ClassVar[BoolFields] = ("power_ack", "data_rate_ack", "channel_mask_ack")

    power_ack: bool
    data_rate_ack: bool
    channel_mask_ack: bool

    def payload(self) -> bytes:
        return bytes((flags_byte(self.channel_mask_ack, self.data_rate_ack, self.power_ack),))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        status = data[0]
        return cls(
            power_ack=bool(status & 0x04),
            data_rate_ack=bool(status & 0x02),
            channel_mask_ack=bool(status & 0x01),
        )


@dataclass(frozen=True, slots=True)
class DutyCycleReq(MACCommand):
    """The network caps the end-device's aggregated duty cycle at ``1 / 2**max_duty_cycle``.

    LoRaWAN 1.0 gave the value 255 the meaning "stop transmitting"; since 1.0.2 the upper four
    bits are RFU, so 255 on the wire decodes as 15 here.
    """

    CID: ClassVar[int] = 0x04
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"max_duty_cycle": bits(4)}

    max_duty_cycle: int

    @property
    def duty_cycle(self) -> float:
        """The aggregated duty cycle as a fraction (0 means no limit beyond the regional one)."""
        return 1.0 / (1 << self.max_duty_cycle)

    def payload(self) -> bytes:
        return bytes((self.max_duty_cycle,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(max_duty_cycle=data[0] & 0x0F)

    def _json_extra(self) -> dict[str, Any]:
        return {"duty_cycle": self.duty_cycle}


@dataclass(frozen=True, slots=True)
class DutyCycleAns(EmptyCommand):
    CID: ClassVar[int] = 0x04
    UPLINK: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class DevStatusReq(EmptyCommand):
    """The network asks for battery level and demodulation margin."""

    CID: ClassVar[int] = 0x06
    UPLINK: ClassVar[bool] = False


BATTERY_EXTERNAL_POWER: Final = 0
BATTERY_UNKNOWN: Final = 255
_MARGIN_RANGE: Final = IntRange(-32, 31)


@dataclass(frozen=True, slots=True)
class DevStatusAns(MACCommand):
    """The end-device's status.

    ``battery``: 0 = external power, 1..254 = level from empty to full, 255 = cannot measure.
    ``margin``: SNR in dB of the last DevStatusReq received, rounded, signed 6 bits (-32..31).
    """

    CID: ClassVar[int] = 0x06
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 2
    INT_FIELDS: ClassVar[IntFields] = {"battery": bits(8), "margin": _MARGIN_RANGE}

    battery: int
    margin: int

    @property
    def battery_level(self) -> float | None:
        """Charge as a fraction 0..1, or None on external power or when unknown."""
        if self.battery in (BATTERY_EXTERNAL_POWER, BATTERY_UNKNOWN):
            return None
        return (self.battery - 1) / 253

    def payload(self) -> bytes:
        return bytes((self.battery, self.margin & 0x3F))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        # Sign-extend the 6-bit two's complement margin; bits 7:6 are RFU.
        raw = data[1] & 0x3F
        return cls(battery=data[0], margin=raw - 64 if raw & 0x20 else raw)

    def _json_extra(self) -> dict[str, Any]:
        return {
            "external_power": self.battery == BATTERY_EXTERNAL_POWER,
            "battery_level": self.battery_level,
        }
