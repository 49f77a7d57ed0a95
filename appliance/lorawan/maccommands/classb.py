"""Class B commands: PingSlotInfo (0x10), PingSlotChannel (0x11), BeaconTiming (0x12) and
BeaconFreq (0x13).

Layouts from the Class B MAC command sections of LoRaWAN 1.0.4 and LoRaWAN 1.1. BeaconTiming is
the LoRaWAN 1.0 Class B command that 1.0.3 and 1.1 deprecated in favour of DeviceTimeReq; it
is decoded so that older Class B devices still show up readably.

PingSlotInfoReq uses the 1.0.3+/1.1 layout (Periodicity in bits 2:0, the rest RFU). The
LoRaWAN 1.0 draft also packed a data rate into bits 3:0, which this layout does not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

from appliance.lorawan.maccommands.base import (
    FREQUENCY,
    BoolFields,
    EmptyCommand,
    IntFields,
    MACCommand,
    bits,
    flags_byte,
    frequency_from_wire,
    frequency_to_wire,
)


@dataclass(frozen=True, slots=True)
class PingSlotInfoReq(MACCommand):
    """The end-device announces its ping slot period: one ping slot every 2**periodicity s."""

    CID: ClassVar[int] = 0x10
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"periodicity": bits(3)}

    periodicity: int

    @property
    def ping_period_seconds(self) -> int:
        return 1 << self.periodicity

    def payload(self) -> bytes:
        return bytes((self.periodicity,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(periodicity=data[0] & 0x07)

    def _json_extra(self) -> dict[str, Any]:
        return {"ping_period_seconds": self.ping_period_seconds}


@dataclass(frozen=True, slots=True)
class PingSlotInfoAns(EmptyCommand):
    CID: ClassVar[int] = 0x10
    UPLINK: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class PingSlotChannelReq(MACCommand):
    """The network sets the ping slot frequency (0 = regional default) and data rate."""

    CID: ClassVar[int] = 0x11
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 4
    INT_FIELDS: ClassVar[IntFields] = {"frequency_hz": FREQUENCY, "data_rate": bits(4)}

    frequency_hz: int
    data_rate: int

    def payload(self) -> bytes:
        return frequency_to_wire(self.frequency_hz) + bytes((self.data_rate,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(frequency_hz=frequency_from_wire(data[0:3]), data_rate=data[3] & 0x0F)


@dataclass(frozen=True, slots=True)
class PingSlotChannelAns(MACCommand):
    CID: ClassVar[int] = 0x11
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    BOOL_FIELDS: ClassVar[BoolFields] = ("data_rate_ok", "channel_frequency_ok")

    data_rate_ok: bool
    channel_frequency_ok: bool

    def payload(self) -> bytes:
        return bytes((flags_byte(self.channel_frequency_ok, self.data_rate_ok),))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(data_rate_ok=bool(data[0] & 0x02), channel_frequency_ok=bool(data[0] & 0x01))


@dataclass(frozen=True, slots=True)
class BeaconTimingReq(EmptyCommand):
    """Deprecated: the end-device asks when the next beacon comes."""

    CID: ClassVar[int] = 0x12
    UPLINK: ClassVar[bool] = True


BEACON_TIMING_STEP_MS: Final = 30


@dataclass(frozen=True, slots=True)
class BeaconTimingAns(MACCommand):
    """Deprecated: the next beacon starts between ``delay * 30`` and ``(delay + 1) * 30`` ms
    after the end of the uplink, on beacon channel ``channel`` (0 when the beacon frequency
    is fixed)."""

    CID: ClassVar[int] = 0x12
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 3
    INT_FIELDS: ClassVar[IntFields] = {"delay": bits(16), "channel": bits(8)}

    delay: int
    channel: int

    @property
    def delay_ms(self) -> int:
        """The earliest start of the next beacon, in ms after the end of the uplink."""
        return self.delay * BEACON_TIMING_STEP_MS

    def payload(self) -> bytes:
        return self.delay.to_bytes(2, "little") + bytes((self.channel,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(delay=data[0] | data[1] << 8, channel=data[2])

    def _json_extra(self) -> dict[str, Any]:
        return {"delay_ms": self.delay_ms}


@dataclass(frozen=True, slots=True)
class BeaconFreqReq(MACCommand):
    """The network moves the beacon to ``frequency_hz`` (0 = back to the regional default)."""

    CID: ClassVar[int] = 0x13
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 3
    INT_FIELDS: ClassVar[IntFields] = {"frequency_hz": FREQUENCY}

    frequency_hz: int

    def payload(self) -> bytes:
        return frequency_to_wire(self.frequency_hz)

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(frequency_hz=frequency_from_wire(data))


@dataclass(frozen=True, slots=True)
class BeaconFreqAns(MACCommand):
    CID: ClassVar[int] = 0x13
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    BOOL_FIELDS: ClassVar[BoolFields] = ("beacon_frequency_ok",)

    beacon_frequency_ok: bool

    def payload(self) -> bytes:
        return bytes((int(self.beacon_frequency_ok),))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(beacon_frequency_ok=bool(data[0] & 0x01))
