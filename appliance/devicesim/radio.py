"""What the device puts on the air and when it listens: the values the radio glue consumes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

SECOND_NS: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class LoRaParameters:
    spreading_factor: int
    bandwidth_hz: int
    coding_rate: str = "4/5"  # LoRaWAN uses 4/5 everywhere


@dataclass(frozen=True, slots=True)
class FSKParameters:
    bitrate_bps: int


RadioModulation = LoRaParameters | FSKParameters


class TransmissionKind(StrEnum):
    JOIN_REQUEST = "join-request"
    REJOIN_REQUEST = "rejoin-request"
    DATA = "data"


@dataclass(frozen=True, slots=True)
class Transmission:
    """One frame for the radio: send ``phy_payload`` at ``start_ns`` with these settings.

    ``channel`` is the device's uplink channel index; ``attempt`` counts transmissions of the
    same frame (1 for the first, more for NbTrans repetitions and confirmed retransmissions);
    ``f_cnt`` is the 32-bit FCntUp of a data frame.
    """

    kind: TransmissionKind
    phy_payload: bytes
    frequency: int
    data_rate: int
    modulation: RadioModulation
    tx_power_dbm: float
    start_ns: int
    time_on_air_ns: int
    channel: int
    attempt: int = 1
    f_cnt: int | None = None
    confirmed: bool = False
    application_payload: bytes | None = None  # the FRMPayload in clear, for FPort > 0

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.time_on_air_ns


@dataclass(frozen=True, slots=True)
class ReceiveWindow:
    """A class A receive window: a downlink whose preamble starts in [open_ns, close_ns] on
    this frequency and data rate is received."""

    name: str  # "RX1" or "RX2"
    frequency: int
    data_rate: int
    modulation: RadioModulation
    open_ns: int
    close_ns: int

    def contains(self, time_ns: int) -> bool:
        return self.open_ns <= time_ns <= self.close_ns
