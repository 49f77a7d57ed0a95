"""How much the event and frame logs keep and how often they write (the ``[event_log]`` table
of the configuration file; see docs/events.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

_HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class EventLogOptions:
    max_events: int = 10_000
    max_event_age_hours: float = 7 * 24.0
    max_frames: int = 10_000
    max_frame_age_hours: float = 24.0
    batch_size: int = 200  # entries written in one transaction at most; a full batch flushes
    # Longest wait of an entry in memory (queries write what is queued first, so it only
    # bounds what a power cut loses); longer means fewer, fuller transactions: less SD wear.
    flush_interval_s: float = 5.0
    max_pending: int = 20_000  # unwritten entries kept while the disk refuses; then oldest go
    # The frame log in memory, saved to the file at a clean stop (False), or written to the
    # file as it goes like the events (True): about 0.3 KB more per uplink on the SD card.
    frames_on_disk: bool = False

    def __post_init__(self) -> None:
        for name in ("max_events", "max_frames", "batch_size", "max_pending"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a whole number of at least 1, got {value!r}")
        for name in ("max_event_age_hours", "max_frame_age_hours", "flush_interval_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name}: must be a number above 0, got {value!r}")
        if not isinstance(self.frames_on_disk, bool):
            raise ValueError(f"frames_on_disk: must be true or false, got {self.frames_on_disk!r}")
        if self.max_pending < self.batch_size:
            raise ValueError(
                f"max_pending: must be at least batch_size ({self.batch_size}), "
                f"got {self.max_pending}"
            )

    @property
    def max_event_age(self) -> timedelta:
        return timedelta(seconds=self.max_event_age_hours * _HOUR_S)

    @property
    def max_frame_age(self) -> timedelta:
        return timedelta(seconds=self.max_frame_age_hours * _HOUR_S)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> EventLogOptions:
        """From a configuration table; ``ValueError`` names the first unknown or bad key."""
        known = [field.name for field in fields(cls)]
        for key in values:
            if key not in known:
                raise ValueError(f"{key}: unknown option (expected one of {', '.join(known)})")
        return cls(**values)
