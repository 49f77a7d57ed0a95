"""The shapes every regional channel plan is made of: frozen dataclasses and the dynamic plan.

Numbers and rules come from LoRaWAN Regional Parameters RP002-1.0.4 (LoRa Alliance, 2022):

* section 2.3 (default settings): receive and join-accept delays, MAX_FCNT_GAP, ADR_ACK_LIMIT,
  ADR_ACK_DELAY, RETRANSMIT_TIMEOUT, PING_SLOT_PERIODICITY, the class B/C response timeouts;
* the "maximum payload size" subsection of every region (x.6): N, the application payload
  without FOpts, is always M - 8 (a 7-byte FHDR with no FOpts plus the FPort byte);
* the dynamic channel plans (EU868, AS923, KR920, IN865, RU864, EU433, CN779): default channels
  every device implements and joins on, up to 16 channels, RX1 on the uplink channel (x.2, x.7).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Final, Literal, Protocol, TypeAlias

from appliance.lorawan.errors import InvalidValueError

FHDR_AND_FPORT_SIZE: Final = 8
MAX_DATA_RATE_INDEX: Final = 15
SAME_AS_NO_DWELL: Final = "same"


def check_int(what: str, value: object, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) in ``low..high``, else InvalidValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"{what} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise InvalidValueError(f"{what} must be {low}..{high}, got {value}")
    return value


class Modulation(StrEnum):
    LORA = "LORA"
    FSK = "FSK"
    LR_FHSS = "LR-FHSS"


class CFListType(IntEnum):
    """The CFListType octet of a join-accept CFList: which kind of CFList a region uses."""

    FREQUENCIES = 0
    CHANNEL_MASK = 1


@dataclass(frozen=True, slots=True)
class MaxPayload:
    """M, the largest MACPayload of a data rate; N = M - 8 is the FRMPayload without FOpts."""

    mac_payload: int

    def __post_init__(self) -> None:
        check_int("maximum MACPayload size", self.mac_payload, FHDR_AND_FPORT_SIZE, 250)

    @property
    def app_payload(self) -> int:
        return self.mac_payload - FHDR_AND_FPORT_SIZE

    def to_json(self) -> dict[str, Any]:
        return {"M": self.mac_payload, "N": self.app_payload}


@dataclass(frozen=True, slots=True)
class DataRate:
    """One row of a region's data-rate table; which fields are set depends on the modulation.

    ``max_payload`` is None where the specification defines no size (the data rate cannot carry
    a frame); ``max_payload_dwell`` is the size under a 400 ms dwell-time limit (None: the data
    rate is not allowed then). Regions without dwell-time tables repeat ``max_payload`` there.
    """

    index: int
    modulation: Modulation
    uplink: bool
    downlink: bool
    max_payload: MaxPayload | None
    max_payload_dwell: MaxPayload | None
    spreading_factor: int | None = None
    bandwidth_hz: int | None = None
    bitrate_bps: int | None = None
    coding_rate: str | None = None
    occupied_channel_width_hz: int | None = None

    def __post_init__(self) -> None:
        check_int("data rate index", self.index, 0, MAX_DATA_RATE_INDEX)
        if not (self.uplink or self.downlink):
            raise InvalidValueError(f"DR{self.index} is neither an uplink nor a downlink rate")
        fields = {
            Modulation.LORA: (self.spreading_factor, self.bandwidth_hz),
            Modulation.FSK: (self.bitrate_bps,),
            Modulation.LR_FHSS: (self.coding_rate, self.occupied_channel_width_hz),
        }
        for modulation, values in fields.items():
            # The fields of this row's modulation must all be set, the others all unset.
            if any((value is None) == (modulation is self.modulation) for value in values):
                raise InvalidValueError(f"DR{self.index}: fields do not match {self.modulation}")
        if self.spreading_factor is not None:
            check_int("spreading factor", self.spreading_factor, 5, 12)

    def to_json(self, with_dwell: bool) -> dict[str, Any]:
        result: dict[str, Any] = {"index": self.index, "modulation": str(self.modulation)}
        if self.modulation is Modulation.LORA:
            result |= {"spreading_factor": self.spreading_factor, "bandwidth_hz": self.bandwidth_hz}
        elif self.modulation is Modulation.FSK:
            result["bitrate_bps"] = self.bitrate_bps
        else:
            result |= {
                "coding_rate": self.coding_rate,
                "occupied_channel_width_hz": self.occupied_channel_width_hz,
            }
        result |= {"uplink": self.uplink, "downlink": self.downlink}
        result["max_payload"] = None if self.max_payload is None else self.max_payload.to_json()
        if with_dwell:
            dwell = self.max_payload_dwell
            result["max_payload_dwell_time"] = None if dwell is None else dwell.to_json()
        return result


DwellPayload: TypeAlias = int | Literal["same"] | None


def _payloads(m: int | None, dwell_m: DwellPayload) -> tuple[MaxPayload | None, MaxPayload | None]:
    plain = None if m is None else MaxPayload(m)
    if dwell_m == SAME_AS_NO_DWELL:
        return plain, plain
    return plain, None if dwell_m is None else MaxPayload(dwell_m)


def lora(
    index: int,
    spreading_factor: int,
    bandwidth_khz: int,
    m: int | None,
    dwell_m: DwellPayload = SAME_AS_NO_DWELL,
    *,
    uplink: bool = True,
    downlink: bool = True,
) -> DataRate:
    plain, dwell = _payloads(m, dwell_m)
    return DataRate(
        index=index,
        modulation=Modulation.LORA,
        uplink=uplink,
        downlink=downlink,
        max_payload=plain,
        max_payload_dwell=dwell,
        spreading_factor=spreading_factor,
        bandwidth_hz=bandwidth_khz * 1000,
    )


def fsk(index: int, bitrate_bps: int, m: int) -> DataRate:
    plain, dwell = _payloads(m, SAME_AS_NO_DWELL)
    return DataRate(
        index=index,
        modulation=Modulation.FSK,
        uplink=True,
        downlink=True,
        max_payload=plain,
        max_payload_dwell=dwell,
        bitrate_bps=bitrate_bps,
    )


def lr_fhss(index: int, coding_rate: str, width_khz: int, m: int) -> DataRate:
    """LR-FHSS rates are uplink only in RP002-1.0.4; ``width_khz`` is the occupied channel width."""
    plain, dwell = _payloads(m, SAME_AS_NO_DWELL)
    return DataRate(
        index=index,
        modulation=Modulation.LR_FHSS,
        uplink=True,
        downlink=False,
        max_payload=plain,
        max_payload_dwell=dwell,
        coding_rate=coding_rate,
        occupied_channel_width_hz=width_khz * 1000,
    )


Rx1Rows: TypeAlias = tuple[tuple[int, tuple[int, ...]], ...]


def subtracting_rows(uplink_data_rates: Iterable[int], offsets: int, floor: int) -> Rx1Rows:
    """RX1 rows of the common rule: downlink DR = max(floor, uplink DR - RX1DROffset)."""
    return tuple(
        (dr, tuple(max(floor, dr - offset) for offset in range(offsets)))
        for dr in uplink_data_rates
    )


@dataclass(frozen=True, slots=True)
class Rx1DataRateTable:
    """A region's "downlink RX1 data rate mapping": (uplink DR, DR for each RX1DROffset)."""

    rows: Rx1Rows
    dwell_rows: Rx1Rows | None = None

    def __post_init__(self) -> None:
        dwell_rows = self.dwell_rows or self.rows
        if len({len(per_offset) for _, per_offset in self.rows + dwell_rows}) != 1:
            raise InvalidValueError("every RX1 row needs one entry per RX1DROffset")
        for rows in (self.rows, dwell_rows):
            if len({dr for dr, _ in rows}) != len(rows):
                raise InvalidValueError("an uplink data rate appears twice in an RX1 table")
        if [dr for dr, _ in dwell_rows] != [dr for dr, _ in self.rows]:
            raise InvalidValueError("both RX1 tables must cover the same uplink data rates")

    @property
    def offset_count(self) -> int:
        return len(self.rows[0][1])

    @property
    def uplink_data_rates(self) -> tuple[int, ...]:
        return tuple(dr for dr, _ in self.rows)

    def lookup(self, uplink_dr: int, rx1_dr_offset: int, dwell_time: bool) -> int:
        check_int("uplink data rate", uplink_dr, 0, MAX_DATA_RATE_INDEX)
        check_int("RX1DROffset", rx1_dr_offset, 0, 7)
        rows = self.dwell_rows if dwell_time and self.dwell_rows is not None else self.rows
        for dr, per_offset in rows:
            if dr == uplink_dr:
                if rx1_dr_offset >= len(per_offset):
                    allowed = f"0..{len(per_offset) - 1}"
                    raise InvalidValueError(
                        f"RX1DROffset {rx1_dr_offset} is reserved here (allowed {allowed})"
                    )
                return per_offset[rx1_dr_offset]
        raise InvalidValueError(f"DR{uplink_dr} is not an uplink data rate of this region")

    def to_json(self) -> dict[str, Any]:
        def table(rows: Rx1Rows) -> list[dict[str, Any]]:
            return [{"uplink_data_rate": dr, "rx1_data_rates": list(per)} for dr, per in rows]

        result: dict[str, Any] = {"offsets": list(range(self.offset_count))}
        result["table"] = table(self.rows)
        if self.dwell_rows is not None:
            result["table_downlink_dwell_time"] = table(self.dwell_rows)
        return result


@dataclass(frozen=True, slots=True)
class Channel:
    frequency_hz: int
    min_data_rate: int
    max_data_rate: int

    def to_json(self) -> dict[str, Any]:
        return {
            "frequency_hz": self.frequency_hz,
            "data_rates": [self.min_data_rate, self.max_data_rate],
        }


class ChannelPlan(Protocol):
    """What a region's channel arrangement answers; each kind adds its own helpers."""

    def rx1_frequency(self, uplink_frequency_hz: int, uplink_channel_index: int | None) -> int: ...

    def join_channels(self) -> tuple[Channel, ...]: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class DynamicChannelPlan:
    """Channels defined by the network (NewChannelReq, CFList type 0) on top of the defaults.

    End-devices join on every default channel (RP002-1.0.4 2.3), and RX1 uses the uplink channel.
    """

    default_channels: tuple[Channel, ...]
    max_channels: int = 16

    def rx1_frequency(self, uplink_frequency_hz: int, uplink_channel_index: int | None) -> int:
        if uplink_channel_index is not None:
            check_int("uplink channel index", uplink_channel_index, 0, self.max_channels - 1)
        return uplink_frequency_hz

    def join_channels(self) -> tuple[Channel, ...]:
        return self.default_channels

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "dynamic",
            "max_channels": self.max_channels,
            "default_channels": [c.to_json() for c in self.default_channels],
            "join_channels": [c.to_json() for c in self.join_channels()],
            "rx1_channel": "the uplink channel",
        }


@dataclass(frozen=True, slots=True)
class DutyCycleBand:
    """A sub-band with its own duty-cycle budget (fraction of time, 0.01 = 1 %)."""

    name: str
    min_frequency_hz: int
    max_frequency_hz: int
    max_duty_cycle: float
    max_erp_mw: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "min_frequency_hz": self.min_frequency_hz,
            "max_frequency_hz": self.max_frequency_hz,
            "max_duty_cycle": self.max_duty_cycle,
            "max_erp_mw": self.max_erp_mw,
        }


@dataclass(frozen=True, slots=True)
class ClassBChannel:
    """Default class B beacon or ping-slot channel: one frequency, or several and a rule."""

    data_rate: int
    frequencies_hz: tuple[int, ...]
    rule: str = "fixed frequency"

    def to_json(self) -> dict[str, Any]:
        return {
            "data_rate": self.data_rate,
            "frequencies_hz": list(self.frequencies_hz),
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class DefaultSettings:
    """RP002-1.0.4 section 2.3; the same for every region."""

    receive_delay1_s: int = 1
    receive_delay2_s: int = 2
    join_accept_delay1_s: int = 5
    join_accept_delay2_s: int = 6
    max_fcnt_gap: int = 16384
    adr_ack_limit: int = 64
    adr_ack_delay: int = 32
    retransmit_timeout_s: tuple[int, int] = (1, 3)
    ping_slot_periodicity: int = 7
    class_b_resp_timeout_s: int = 8
    class_c_resp_timeout_s: int = 8

    def to_json(self) -> dict[str, Any]:
        return {
            "receive_delay1_s": self.receive_delay1_s,
            "receive_delay2_s": self.receive_delay2_s,
            "join_accept_delay1_s": self.join_accept_delay1_s,
            "join_accept_delay2_s": self.join_accept_delay2_s,
            # Only older MAC versions check it: LoRaWAN 1.0.4 dropped the frame-counter gap limit.
            "max_fcnt_gap": self.max_fcnt_gap,
            "adr_ack_limit": self.adr_ack_limit,
            "adr_ack_delay": self.adr_ack_delay,
            "retransmit_timeout_s": list(self.retransmit_timeout_s),
            "ping_slot_periodicity": self.ping_slot_periodicity,
            "class_b_resp_timeout_s": self.class_b_resp_timeout_s,
            "class_c_resp_timeout_s": self.class_c_resp_timeout_s,
        }


DEFAULT_SETTINGS: Final = DefaultSettings()


def tx_power_steps(count: int) -> tuple[int, ...]:
    """TXPower 0..count-1 as dB below the max EIRP: 0, 2, 4, ... (every region uses 2 dB steps)."""
    return tuple(2 * index for index in range(count))
