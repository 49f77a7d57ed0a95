"""The exceptions of the Basics Station backend, in one place.

    BasicStationError
    ├── StationMessageError   a station sent something we cannot use (its fault: count, move on)
    └── DownlinkEncodeError   the network server asked for a transmission Station cannot express

``StationMessageError.reason`` is the key under which the drop is counted; reasons come from
this package's code (never from the received text), so the set of counters stays bounded.
"""

from __future__ import annotations

from hal.model import TxAckStatus


class BasicStationError(Exception):
    """Base of every error raised by ``hal.basic_station``."""


class StationMessageError(BasicStationError):
    """A message from a station is unusable; ``reason`` names the drop counter."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class DownlinkEncodeError(BasicStationError):
    """A downlink cannot be put into a ``dnmsg``; ``status`` is what its items are acked with."""

    def __init__(self, detail: str, status: TxAckStatus = TxAckStatus.INTERNAL_ERROR) -> None:
        super().__init__(detail)
        self.status = status
