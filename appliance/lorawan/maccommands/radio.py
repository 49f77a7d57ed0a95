"""Radio setup commands: RXParamSetup (0x05), NewChannel (0x07), RXTimingSetup (0x08),
TxParamSetup (0x09) and DlChannel (0x0A).

Layouts from LoRaWAN 1.0.4 section 5 (MAC commands); LoRaWAN 1.1 section 5 keeps them unchanged.
Frequencies are 24-bit little-endian counts of 100 Hz on the wire and plain hertz here.
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
class RXParamSetupReq(MACCommand):
    """The network moves the RX2 window and changes the RX1 data-rate offset.

    ``rx1_dr_offset`` and ``rx2_data_rate`` are regional-table indexes; ``frequency_hz`` is the
    RX2 frequency.
    """

    CID: ClassVar[int] = 0x05
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 4
    INT_FIELDS: ClassVar[IntFields] = {
        "rx1_dr_offset": bits(3),
        "rx2_data_rate": bits(4),
        "frequency_hz": FREQUENCY,
    }

    rx1_dr_offset: int
    rx2_data_rate: int
    frequency_hz: int

    def payload(self) -> bytes:
        return bytes((self.rx1_dr_offset << 4 | self.rx2_data_rate,)) + frequency_to_wire(
            self.frequency_hz
        )

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        # DLsettings bit 7 is RFU here: OptNeg only exists in the Join-Accept's DLSettings.
        return cls(
            rx1_dr_offset=data[0] >> 4 & 0x07,
            rx2_data_rate=data[0] & 0x0F,
            frequency_hz=frequency_from_wire(data[1:4]),
        )


@dataclass(frozen=True, slots=True)
class RXParamSetupAns(MACCommand):
    """The end-device accepts (True) or rejects each part of an RXParamSetupReq."""

    CID: ClassVar[int] = 0x05
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    BOOL_FIELDS: ClassVar[BoolFields] = ("rx1_dr_offset_ack", "rx2_data_rate_ack", "channel_ack")

    rx1_dr_offset_ack: bool
    rx2_data_rate_ack: bool
    channel_ack: bool

    def payload(self) -> bytes:
        return bytes(
            (flags_byte(self.channel_ack, self.rx2_data_rate_ack, self.rx1_dr_offset_ack),)
        )

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        status = data[0]
        return cls(
            rx1_dr_offset_ack=bool(status & 0x04),
            rx2_data_rate_ack=bool(status & 0x02),
            channel_ack=bool(status & 0x01),
        )


@dataclass(frozen=True, slots=True)
class NewChannelReq(MACCommand):
    """The network creates or changes uplink channel ``ch_index``; frequency 0 disables it.

    ``min_dr``/``max_dr`` bound the data rates allowed on the channel (regional indexes).
    """

    CID: ClassVar[int] = 0x07
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 5
    INT_FIELDS: ClassVar[IntFields] = {
        "ch_index": bits(8),
        "frequency_hz": FREQUENCY,
        "min_dr": bits(4),
        "max_dr": bits(4),
    }

    ch_index: int
    frequency_hz: int
    min_dr: int
    max_dr: int

    def payload(self) -> bytes:
        return (
            bytes((self.ch_index,))
            + frequency_to_wire(self.frequency_hz)
            + bytes((self.max_dr << 4 | self.min_dr,))
        )

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(
            ch_index=data[0],
            frequency_hz=frequency_from_wire(data[1:4]),
            min_dr=data[4] & 0x0F,
            max_dr=data[4] >> 4,
        )


@dataclass(frozen=True, slots=True)
class NewChannelAns(MACCommand):
    CID: ClassVar[int] = 0x07
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    BOOL_FIELDS: ClassVar[BoolFields] = ("data_rate_range_ok", "channel_frequency_ok")

    data_rate_range_ok: bool
    channel_frequency_ok: bool

    def payload(self) -> bytes:
        return bytes((flags_byte(self.channel_frequency_ok, self.data_rate_range_ok),))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(
            data_rate_range_ok=bool(data[0] & 0x02),
            channel_frequency_ok=bool(data[0] & 0x01),
        )


@dataclass(frozen=True, slots=True)
class RXTimingSetupReq(MACCommand):
    """The network sets the delay between the end of an uplink and the RX1 window.

    ``delay`` is the wire value: 0 and 1 both mean one second, *n* means *n* seconds. It is
    kept as sent so that re-encoding a decoded command gives back the same bytes.
    """

    CID: ClassVar[int] = 0x08
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"delay": bits(4)}

    delay: int

    @property
    def delay_seconds(self) -> int:
        return max(self.delay, 1)

    def payload(self) -> bytes:
        return bytes((self.delay,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(delay=data[0] & 0x0F)

    def _json_extra(self) -> dict[str, Any]:
        return {"delay_seconds": self.delay_seconds}


@dataclass(frozen=True, slots=True)
class RXTimingSetupAns(EmptyCommand):
    CID: ClassVar[int] = 0x08
    UPLINK: ClassVar[bool] = True


# MaxEIRP index -> dBm, from the TxParamSetupReq description (1.0.4 and 1.1 section 5).
MAX_EIRP_DBM: Final = (8, 10, 12, 13, 14, 16, 18, 20, 21, 24, 26, 27, 29, 30, 33, 36)


@dataclass(frozen=True, slots=True)
class TxParamSetupReq(MACCommand):
    """The network sets dwell-time limits and the maximum EIRP (regions that allow it, e.g. AS923).

    A dwell-time flag True means "limited to 400 ms"; ``max_eirp`` indexes ``MAX_EIRP_DBM``.
    """

    CID: ClassVar[int] = 0x09
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"max_eirp": bits(4)}
    BOOL_FIELDS: ClassVar[BoolFields] = ("downlink_dwell_time_400ms", "uplink_dwell_time_400ms")

    downlink_dwell_time_400ms: bool
    uplink_dwell_time_400ms: bool
    max_eirp: int

    @property
    def max_eirp_dbm(self) -> int:
        return MAX_EIRP_DBM[self.max_eirp]

    def payload(self) -> bytes:
        dwell = flags_byte(self.uplink_dwell_time_400ms, self.downlink_dwell_time_400ms)
        return bytes((dwell << 4 | self.max_eirp,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(
            downlink_dwell_time_400ms=bool(data[0] & 0x20),
            uplink_dwell_time_400ms=bool(data[0] & 0x10),
            max_eirp=data[0] & 0x0F,
        )

    def _json_extra(self) -> dict[str, Any]:
        return {"max_eirp_dbm": self.max_eirp_dbm}


@dataclass(frozen=True, slots=True)
class TxParamSetupAns(EmptyCommand):
    CID: ClassVar[int] = 0x09
    UPLINK: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class DlChannelReq(MACCommand):
    """The network gives uplink channel ``ch_index`` a different RX1 downlink frequency."""

    CID: ClassVar[int] = 0x0A
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 4
    INT_FIELDS: ClassVar[IntFields] = {"ch_index": bits(8), "frequency_hz": FREQUENCY}

    ch_index: int
    frequency_hz: int

    def payload(self) -> bytes:
        return bytes((self.ch_index,)) + frequency_to_wire(self.frequency_hz)

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(ch_index=data[0], frequency_hz=frequency_from_wire(data[1:4]))


@dataclass(frozen=True, slots=True)
class DlChannelAns(MACCommand):
    CID: ClassVar[int] = 0x0A
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    BOOL_FIELDS: ClassVar[BoolFields] = ("uplink_frequency_exists", "channel_frequency_ok")

    uplink_frequency_exists: bool
    channel_frequency_ok: bool

    def payload(self) -> bytes:
        return bytes((flags_byte(self.channel_frequency_ok, self.uplink_frequency_exists),))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(
            uplink_frequency_exists=bool(data[0] & 0x02),
            channel_frequency_ok=bool(data[0] & 0x01),
        )
