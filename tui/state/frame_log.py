"""The live log: a bounded record of stream items and the filter a person sets on it.

Memory stays bounded whatever arrives: the log keeps the newest ``capacity`` items; older
ones fall out. Each entry has a sequence number so a view can tell which it has shown.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tui.client.stream_items import EventItem, FrameItem
from tui.state.directory import Directory

LogItem = FrameItem | EventItem

# Type filter choices: (value, label).
TYPE_CHOICES: tuple[tuple[str, str], ...] = (
    ("all", "all types"),
    ("uplink", "uplink frames"),
    ("downlink", "downlink frames"),
    ("frames", "all frames"),
    ("events", "all events"),
    ("up", "up events"),
    ("join", "join events"),
    ("txack", "txack events"),
    ("ack", "ack events"),
    ("log", "log events"),
    ("status", "status events"),
)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    item: LogItem


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Every text field matches as a case-insensitive substring; empty matches all."""

    device: str = ""
    dev_addr: str = ""
    gateway: str = ""
    kind: str = "all"
    mic_failures_only: bool = False

    @property
    def is_empty(self) -> bool:
        return self == LogFilter()

    def matches(self, item: LogItem, directory: Directory | None = None) -> bool:
        if self.mic_failures_only and not item.is_mic_failure:
            return False
        if not _kind_matches(self.kind, item):
            return False
        if self.device:
            wanted = self.device.lower()
            if directory is not None:
                eui, name = directory.dev_eui_of(item) or "", directory.name_of(item)
            else:
                eui, name = item.dev_eui or "", ""
            if wanted not in eui.lower() and wanted not in name.lower():
                return False
        if self.dev_addr and self.dev_addr.lower() not in (item.dev_addr or "").lower():
            return False
        return not self.gateway or self.gateway.lower() in (item.gateway_id or "").lower()


def _kind_matches(kind: str, item: LogItem) -> bool:
    if kind == "all":
        return True
    if kind == "frames":
        return isinstance(item, FrameItem)
    if kind == "events":
        return isinstance(item, EventItem)
    return item.kind == kind


class FrameLog:
    def __init__(self, capacity: int = 5_000) -> None:
        self.capacity = capacity
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._next = 0
        self.missed = 0  # items the appliance dropped because the console was slow

    def extend(self, items: Iterable[LogItem]) -> None:
        for item in items:
            self._entries.append(Entry(self._next, item))
            self._next += 1

    @property
    def last_seq(self) -> int:
        return self._next - 1

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def since(self, seq: int) -> list[Entry]:
        """Entries newer than ``seq`` (all kept ones if ``seq`` fell out of the log)."""
        if not self._entries or seq >= self.last_seq:
            return []
        first = self._entries[0].seq
        start = max(seq + 1 - first, 0)
        return [self._entries[i] for i in range(start, len(self._entries))]

    def get(self, seq: int) -> Entry | None:
        if not self._entries:
            return None
        index = seq - self._entries[0].seq
        return self._entries[index] if 0 <= index < len(self._entries) else None

    def matching(self, log_filter: LogFilter, names: Directory, limit: int) -> list[Entry]:
        """The newest ``limit`` entries that match, oldest first."""
        found: list[Entry] = []
        for entry in reversed(self._entries):
            if log_filter.matches(entry.item, names):
                found.append(entry)
                if len(found) >= limit:
                    break
        found.reverse()
        return found
