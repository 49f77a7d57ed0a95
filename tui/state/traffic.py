"""Traffic figures for the dashboard: uplinks per minute (from the appliance's counter, so
they are right even without the live stream) and receptions per channel and spreading factor
(from the live stream's uplink frames). ``now`` is always passed in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from tui.client.stream_items import FrameItem


class UplinkRate:
    """Uplinks per wall-clock minute over the last ``minutes`` minutes."""

    def __init__(self, minutes: int = 30) -> None:
        self.minutes = minutes
        self._buckets: dict[int, int] = {}
        self._last_total: int | None = None

    def observe(self, total: int, now: datetime) -> None:
        """The appliance's uplink counter read at ``now``; a restart (smaller total) rebases."""
        minute = int(now.timestamp()) // 60
        if self._last_total is not None and total >= self._last_total:
            self._buckets[minute] = self._buckets.get(minute, 0) + total - self._last_total
        else:
            self._buckets.setdefault(minute, 0)
        self._last_total = total
        for old in [m for m in self._buckets if m <= minute - self.minutes]:
            del self._buckets[old]

    def series(self, now: datetime) -> list[int]:
        """Oldest first, ``minutes`` values, the current (partial) minute last."""
        minute = int(now.timestamp()) // 60
        return [self._buckets.get(m, 0) for m in range(minute - self.minutes + 1, minute + 1)]


class ChannelTraffic:
    """Uplink receptions counted by (frequency in Hz, spreading factor)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[int, int]] = Counter()

    def add(self, items: Iterable[object]) -> None:
        for item in items:
            if isinstance(item, FrameItem) and item.direction == "up":
                frequency, sf = item.frequency, item.spreading_factor
                if frequency is not None and sf is not None:
                    self.counts[frequency, sf] += 1

    def by_channel(self) -> dict[int, Counter[int]]:
        table: dict[int, Counter[int]] = {}
        for (frequency, sf), count in sorted(self.counts.items()):
            table.setdefault(frequency, Counter())[sf] += count
        return table
