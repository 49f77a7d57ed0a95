"""The live stream: events and frames published in process, delivered to subscribers that
each say what they want (device, application, gateway, kinds).

``publish`` never waits and never grows memory without bound: every subscriber has a queue of
``max_queue`` items, and when a slow subscriber's queue is full the oldest item makes room.
The subscriber then receives ``Missed(count)`` before the next item, so a console can say
"12 events skipped" instead of silently showing a gap. Subscriptions are async iterators and
async context managers; leaving the ``async with`` (or ``close()``) unsubscribes.

Everything runs on the event loop's thread: call ``publish`` from it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType

from appliance.app.events.errors import SubscriberLimitError
from appliance.app.events.kinds import EventKind, FrameKind
from appliance.app.events.records import EventRecord, FrameRecord
from appliance.lorawan.identifiers import EUI64

StreamItem = EventRecord | FrameRecord


@dataclass(frozen=True, slots=True)
class Missed:
    """``count`` items were dropped before the next one because the subscriber fell behind."""

    count: int


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """What a subscriber wants; a field left None matches everything."""

    dev_eui: EUI64 | None = None
    application_id: uuid.UUID | None = None
    gateway_id: EUI64 | None = None
    kinds: frozenset[EventKind | FrameKind] | None = None

    @classmethod
    def of(
        cls,
        *,
        dev_eui: EUI64 | None = None,
        application_id: uuid.UUID | None = None,
        gateway_id: EUI64 | None = None,
        kinds: Collection[EventKind | FrameKind] | None = None,
    ) -> StreamFilter:
        return cls(dev_eui, application_id, gateway_id, None if kinds is None else frozenset(kinds))

    def matches(self, item: StreamItem) -> bool:
        if self.kinds is not None and item.kind not in self.kinds:
            return False
        if self.dev_eui is not None and item.dev_eui != self.dev_eui:
            return False
        if self.application_id is not None and item.application_id != self.application_id:
            return False
        return self.gateway_id is None or self.gateway_id in item.gateway_ids


class Subscription:
    def __init__(self, broker: EventBroker, stream_filter: StreamFilter, max_queue: int) -> None:
        self.filter = stream_filter
        self.max_queue = max_queue
        self.missed_total = 0
        self._broker = broker
        self._queue: deque[StreamItem] = deque()
        self._missed = 0
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False

    def offer(self, item: StreamItem) -> None:
        """Queue ``item`` (the broker calls this for matching items only)."""
        if len(self._queue) >= self.max_queue:
            self._queue.popleft()
            self._missed += 1
            self.missed_total += 1
        self._queue.append(item)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> StreamItem | Missed | None:
        """The next item (or the report of a gap) if one is queued, else None."""
        if self._missed:
            missed, self._missed = self._missed, 0
            return Missed(missed)
        if self._queue:
            return self._queue.popleft()
        return None

    def __len__(self) -> int:
        return len(self._queue)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> StreamItem | Missed:
        while True:
            item = self.get_nowait()
            if item is not None:
                return item
            if self.closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        """Unsubscribe; an iteration in progress ends once the queued items are taken."""
        if not self.closed:
            self.closed = True
            self._broker.unsubscribe(self)
            self._wake()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class EventBroker:
    def __init__(self, *, max_subscribers: int = 100) -> None:
        self.max_subscribers = max_subscribers
        self.published = 0
        self._subscribers: list[Subscription] = []

    def subscribe(
        self, stream_filter: StreamFilter | None = None, *, max_queue: int = 1_000
    ) -> Subscription:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        if len(self._subscribers) >= self.max_subscribers:
            raise SubscriberLimitError(
                f"the live stream has its maximum of {self.max_subscribers} subscribers"
            )
        subscription = Subscription(self, stream_filter or StreamFilter(), max_queue)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)
            subscription.close()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, item: StreamItem) -> int:
        """Hand ``item`` to every subscriber whose filter matches; how many it reached."""
        self.published += 1
        reached = 0
        for subscription in self._subscribers:
            if subscription.filter.matches(item):
                subscription.offer(item)
                reached += 1
        return reached

    def close(self) -> None:
        """End every subscription (shutdown)."""
        for subscription in list(self._subscribers):
            subscription.close()
