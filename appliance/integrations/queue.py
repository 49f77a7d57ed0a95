"""One delivery target's queue: the events waiting for it, in the order they were recorded.

Every event is on disk (the outbox file); the queue keeps the next ones in memory too, with
the record they came from (its JSON is computed once for every target). When more than
``memory_limit`` wait, the rest stay only on disk and are read back in order as the target
catches up (``overflow``). The queue is a range of sequence numbers:

    settled_upto  <  taken_upto  <  (in memory)  <  (on disk only, when overflowing)
    delivered or     handed to the target,
    refused          not yet settled

A target settles what it took in order, so everything at or below ``settled_upto`` can be
deleted from the file; a courier that stops mid-batch ``rewind``s, and what it held is taken
again (a duplicate, never a loss).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from appliance.app.events import (
    EVENT_MESSAGES,
    EventBuildError,
    EventKind,
    EventRecord,
    message_from_bytes,
)


@dataclass(slots=True)
class Entry:
    seq: int
    stored_ns: int  # the outbox's wall clock when the event was recorded
    kind: str  # an EventKind's value
    body: bytes  # the event's protobuf bytes
    record: EventRecord | None = None  # when the entry came in with its record

    def event(self) -> EventRecord:
        """The record (decoded from ``body`` for an entry read back from disk);
        ``EventBuildError`` when the stored bytes no longer decode."""
        if self.record is None:
            try:
                kind = EventKind(self.kind)
            except ValueError:
                raise EventBuildError(f"unknown event kind {self.kind[:20]!r}") from None
            message = message_from_bytes(self.body, EVENT_MESSAGES[kind])
            # The gateways a record is found by are the event log's business, not a target's.
            self.record = EventRecord(message, gateway_ids=())
        return self.record


class TargetQueue:
    def __init__(self, name: str, target_id: int, *, memory_limit: int) -> None:
        self.name = name
        self.id = target_id
        self.memory_limit = memory_limit
        self.count = 0  # waiting: not yet settled (in flight included)
        self.bytes = 0
        self.head: deque[Entry] = deque()
        self.overflow = False  # rows beyond ``head`` wait on disk only
        self.taken_upto = 0
        self.settled_upto = 0
        self.deleted_upto = 0  # settled rows deleted from the file up to here
        self.in_flight = 0
        self.trim_pending = False  # no take until the outbox has trimmed (see Outbox)
        self.generation = 0  # bumped when ``head`` is dropped; stale reads are ignored
        self.closed = False
        self.delivered = 0
        self.refused = 0
        self.dropped: dict[str, int] = {}
        self.wake = asyncio.Event()

    @property
    def loaded_upto(self) -> int:
        return self.head[-1].seq if self.head else self.taken_upto

    def loaded(self, entries: Sequence[Entry], *, read_back: bool = False) -> None:
        """Entries made durable, or ``read_back`` from the file, in order; kept in memory
        when they extend it (a new one while older ones wait on disk only does not)."""
        for entry in entries:
            if entry.seq <= self.loaded_upto:
                continue  # already here (a read raced with an append)
            if (self.overflow and not read_back) or len(self.head) >= self.memory_limit:
                self.overflow = True
                break
            self.head.append(entry)
        self.wake.set()

    def added(self, count: int, size: int) -> None:
        self.count += count
        self.bytes += size
        self.wake.set()

    def take(self, limit: int) -> list[Entry]:
        """Up to ``limit`` entries from memory (none while a trim is pending)."""
        if self.trim_pending or self.closed:
            return []
        taken: list[Entry] = []
        head = self.head
        while head and len(taken) < limit:
            taken.append(head.popleft())
        if taken:
            self.taken_upto = taken[-1].seq
            self.in_flight += len(taken)
        return taken

    def settle(self, entries: Sequence[Entry], *, refused: int = 0) -> None:
        """``entries`` (the oldest in flight, in order) are done: delivered, or ``refused``
        of them refused by the target."""
        if not entries:
            return
        self.settled_upto = max(self.settled_upto, entries[-1].seq)
        self.in_flight = max(0, self.in_flight - len(entries))
        self.count = max(0, self.count - len(entries))
        self.bytes = max(0, self.bytes - sum(len(entry.body) for entry in entries))
        self.delivered += len(entries) - refused
        self.refused += refused

    def rewind(self) -> None:
        """Forget what was taken but not settled and what is in memory: the next take
        reads on from ``settled_upto`` on disk."""
        self.taken_upto = self.settled_upto
        self.in_flight = 0
        self.drop_memory()

    def drop_memory(self) -> None:
        self.head.clear()
        self.overflow = True
        self.generation += 1
        self.wake.set()

    def count_drop(self, reason: str, rows: int, size: int) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + rows
        self.count = max(0, self.count - rows)
        self.bytes = max(0, self.bytes - size)
