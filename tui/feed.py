"""Between the live stream and the screens: items are queued as they arrive and handed on in
batches a few times a second, so 200 frames/s cost a few screen updates, not 200.

The queue is bounded too: if the screens cannot keep up, the oldest queued items are dropped
and counted, the same way the appliance reports ``missed`` when the console reads too slowly.
"""

from __future__ import annotations

from collections import deque

from tui.client.stream_items import Missed, StreamItem
from tui.state.directory import Directory
from tui.state.frame_log import FrameLog, LogItem
from tui.state.traffic import ChannelTraffic


class LiveFeed:
    def __init__(self, *, log_capacity: int = 5_000, max_pending: int = 10_000) -> None:
        self.log = FrameLog(log_capacity)
        self.channels = ChannelTraffic()
        self.directory = Directory()
        self._pending: deque[StreamItem] = deque(maxlen=max_pending)
        self.received = 0
        self.dropped_locally = 0

    def push(self, item: StreamItem) -> None:
        if len(self._pending) == self._pending.maxlen:
            self.dropped_locally += 1
        self._pending.append(item)
        self.received += 1

    @property
    def pending(self) -> int:
        return len(self._pending)

    def take_batch(self) -> list[LogItem]:
        """Everything queued since the last batch, recorded in the log and the counters."""
        batch: list[LogItem] = []
        while self._pending:
            item = self._pending.popleft()
            if isinstance(item, Missed):
                self.log.missed += item.count
            else:
                batch.append(item)
        self.directory.learn(batch)
        self.log.extend(batch)
        self.channels.add(batch)
        return batch
