"""What the network server asks a radio source to transmit, and how the source answers.

Modelled on ChirpStack's ``gw.DownlinkFrame``/``gw.DownlinkTxAck``: a downlink carries
alternatives (typically RX1 then RX2); the source tries the next only if the previous is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.model.modulation import Modulation


@dataclass(frozen=True, slots=True)
class Immediately:
    """Transmit as soon as possible (Class C)."""


@dataclass(frozen=True, slots=True)
class Delay:
    """Transmit ``delay_ns`` after the uplink identified by the item's ``context`` (Class A)."""

    delay_ns: int

    def __post_init__(self) -> None:
        if self.delay_ns < 0:
            raise InvalidValueError(f"downlink delay cannot be negative, got {self.delay_ns} ns")


@dataclass(frozen=True, slots=True)
class GPSEpoch:
    """Transmit at a GPS time (Class B ping slots, beacons)."""

    time_since_gps_epoch_ns: int


Timing = Immediately | Delay | GPSEpoch


@dataclass(frozen=True, slots=True)
class DownlinkTxInfo:
    frequency: int  # Hz
    power: int  # dBm EIRP
    modulation: Modulation
    timing: Timing
    board: int = 0
    antenna: int = 0
    context: bytes = b""


@dataclass(frozen=True, slots=True)
class DownlinkItem:
    phy_payload: bytes
    tx_info: DownlinkTxInfo


@dataclass(frozen=True, slots=True)
class DownlinkFrame:
    downlink_id: int
    gateway_id: EUI64
    items: tuple[DownlinkItem, ...]

    def __post_init__(self) -> None:
        if not self.items:
            raise InvalidValueError("a downlink needs at least one item")
        if not 0 <= self.downlink_id <= 0xFFFFFFFF:
            raise InvalidValueError(f"downlink_id is 32 bits, got {self.downlink_id}")


class TxAckStatus(IntEnum):
    """Values match ``gw.TxAckStatus``."""

    IGNORED = 0  # not tried because an earlier item was sent
    OK = 1
    TOO_LATE = 2
    TOO_EARLY = 3
    COLLISION_PACKET = 4
    COLLISION_BEACON = 5
    TX_FREQ = 6
    TX_POWER = 7
    GPS_UNLOCKED = 8
    QUEUE_FULL = 9
    INTERNAL_ERROR = 10
    DUTY_CYCLE_OVERFLOW = 11


@dataclass(frozen=True, slots=True)
class DownlinkTxAck:
    gateway_id: EUI64
    downlink_id: int
    items: tuple[TxAckStatus, ...]

    @property
    def sent_item(self) -> int | None:
        """Index of the item that was transmitted, or None when every item was refused."""
        for index, status in enumerate(self.items):
            if status is TxAckStatus.OK:
                return index
        return None
