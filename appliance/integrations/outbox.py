"""The durable outbox: every event is written to ``outbox.db`` once for each target that
should get it, before anyone sees it, and stays there until the target has it.

Group commits: ``append`` returns once the events are durable; the appends that arrive while
a batch is being written go into the next one, so one transaction and one fsync serve many
events. Under steady load a commit starts ``commit_interval_s`` after the previous one at the
earliest (an idle outbox commits a single event at once): every commit rewrites at least a
4 KiB block of the storage and costs about 200 µs of CPU whatever it holds, so at 1,000
events/s fewer, fuller commits write and spend a fraction of what one per event would, for
at most ``commit_interval_s`` more latency per event. Deliveries are deleted in the same
transactions, or every ``delete_interval_s`` when nothing is appended: a restart before
that sends the last few again (at least once, never lost).

Bounds, per target: ``max_events``, ``max_bytes`` and ``max_age_hours``. Past a bound the
oldest waiting events are dropped (down to 90 % of it), counted by reason and reported once
per trim. Rows a target is sending at that moment are never dropped under it.

The file is used from one worker thread; the event loop never waits for the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final, ParamSpec, TypeVar

from appliance.app.events import EventRecord
from appliance.integrations.errors import OutboxError
from appliance.integrations.limits import OutboxLimits
from appliance.integrations.outbox_store import Dropped, Job, OutboxStore, QueueStats, Trim
from appliance.integrations.queue import Entry, TargetQueue

log = logging.getLogger("appliance.integrations")

MAX_UNWRITTEN: Final = 20_000  # events kept in memory while the file refuses writes
COMMIT_INTERVAL_S: Final = 0.02
# Rows that make a commit full enough to start at once: a busy network is not held to one
# commit per interval (the application server hands over at most 256 events at a time).
FULL_COMMIT: Final = 256
READ_BATCH: Final = 512
WRITE_RETRY_S: Final = 1.0

P = ParamSpec("P")
T = TypeVar("T")
DropReporter = Callable[[TargetQueue, str, int], None]  # queue, reason, events


class Outbox:
    def __init__(
        self,
        path: Path,
        limits: OutboxLimits,
        *,
        clock: Callable[[], int],
        on_drop: DropReporter,
        wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
        commit_interval_s: float = COMMIT_INTERVAL_S,
    ) -> None:
        self.path = path
        self.limits = limits
        self.commit_interval_s = commit_interval_s
        self._next_commit = 0.0  # on the event loop's clock
        self._hurry = asyncio.Event()  # end the wait for the interval: full, or closing
        self._clock = clock
        self._on_drop = on_drop
        self._wait = wait
        self._executor: ThreadPoolExecutor | None = None
        self._store: OutboxStore | None = None
        self._known: dict[str, int] = {}  # target name -> id, as stored
        self._queues: dict[str, TargetQueue] = {}
        self._next_seq = 1
        self._pending: list[tuple[TargetQueue, Entry]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._flush_deletes = False
        self._closing = False
        self.write_errors = 0
        self.commits = 0  # transactions, each one fsync
        self.rows_written = 0  # an event for one target
        self.bytes_appended = 0  # event bytes handed to the file (one row per target)

    # --- the file ---------------------------------------------------------------------------

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        assert self._executor is not None, "the outbox is not open"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    @property
    def is_open(self) -> bool:
        return self._store is not None and not self._closing

    @property
    def store(self) -> OutboxStore:
        assert self._store is not None, "the outbox is not open"
        return self._store

    async def open(self) -> None:
        """Open (or create) the file; ``OutboxError`` names it and says why it cannot."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        try:
            self._store = await self._run(OutboxStore, self.path)
        except OutboxError:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise
        self._known = await self._run(self.store.targets)
        self._next_seq = await self._run(self.store.max_seq) + 1

    async def close(self) -> None:
        """Write what is pending, delete what was delivered, close the file."""
        if self._store is None:
            return
        self._closing = True
        self._hurry.set()
        for queue in self._queues.values():
            queue.closed = True
            queue.wake.set()
        self._flush_deletes = True
        self._kick()
        while self._writer is not None:
            await asyncio.shield(self._writer)
        await self._run(self.store.close)
        assert self._executor is not None
        self._executor.shutdown(wait=True)
        self._executor = None
        self._store = None
        self._closing = False

    # --- queues -----------------------------------------------------------------------------

    @property
    def queues(self) -> dict[str, TargetQueue]:
        return self._queues

    def stored_targets(self) -> list[str]:
        return sorted(self._known)

    async def queue(self, name: str) -> TargetQueue:
        """The queue of target ``name``, with what waits for it from earlier runs."""
        queue = self._queues.get(name)
        if queue is not None:
            return queue
        target_id = self._known.get(name)
        if target_id is None:
            target_id = await self._run(self.store.add_target, name)
            self._known[name] = target_id
        stats = await self._run(self.store.stats, target_id)
        queue = TargetQueue(name, target_id, memory_limit=self.limits.memory_events)
        queue.added(stats.count, stats.bytes)
        queue.overflow = stats.count > 0
        self._queues[name] = queue
        self._check_bounds(queue)
        return queue

    async def remove(self, name: str) -> QueueStats:
        """Forget target ``name`` and drop what waits for it."""
        queue = self._queues.pop(name, None)
        if queue is not None:
            queue.closed = True
            queue.wake.set()
        target_id = self._known.pop(name, None)
        if target_id is None:
            return QueueStats(0, 0)
        self._pending = [(q, entry) for q, entry in self._pending if q.id != target_id]
        return await self._run(self.store.remove_target, target_id)

    # --- in -------------------------------------------------------------------------------

    async def append(self, items: Sequence[tuple[EventRecord, Sequence[TargetQueue]]]) -> None:
        """Record each event for its queues; returns once they are durable (or, when the
        file refuses writes, once that has been logged: they wait in memory for a retry)."""
        if not self.is_open:
            raise OutboxError(f"{self.path}: the outbox is closed")
        now = self._clock()
        added = False
        for record, queues in items:
            if not queues:
                continue
            body = record.to_bytes()
            seq = self._next_seq
            self._next_seq += 1
            for queue in queues:
                self._pending.append((queue, Entry(seq, now, record.kind.value, body, record)))
                self.bytes_appended += len(body)
                added = True
        if not added:
            return
        if len(self._pending) >= FULL_COMMIT:
            self._hurry.set()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._kick()
        await waiter

    def _kick(self) -> None:
        if self._writer is None and self._store is not None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    def _check_bounds(self, queue: TargetQueue) -> None:
        limits = self.limits
        if queue.count > limits.max_events or queue.bytes > limits.max_bytes:
            self.request_trim(queue)

    def request_trim(self, queue: TargetQueue) -> None:
        if not queue.trim_pending and not queue.closed:
            queue.trim_pending = True
            self._kick()

    def check_ages(self) -> None:
        """Drop what is older than ``max_age_hours`` (and enforce the other bounds)."""
        for queue in self._queues.values():
            if queue.count:
                self.request_trim(queue)

    def flush_deletes(self) -> None:
        """Delete delivered rows now rather than with the next append."""
        if any(q.settled_upto > q.deleted_upto for q in self._queues.values()):
            self._flush_deletes = True
            self._kick()

    # --- the writer -----------------------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(
            self._pending
            or self._flush_deletes
            or any(q.trim_pending for q in self._queues.values())
        )

    def _job(self) -> tuple[Job, list[tuple[TargetQueue, Entry]], list[TargetQueue]]:
        # Closing, every target's queue is closed; what was appended still gets written (a
        # removed target's rows left the pending list with it).
        batch = [item for item in self._pending if self._closing or not item[0].closed]
        self._pending = []
        job = Job()
        job.inserts = [
            (queue.id, entry.seq, entry.stored_ns, entry.kind, entry.body) for queue, entry in batch
        ]
        limits = self.limits
        cutoff = self._clock() - limits.max_age_ns
        trimmed = []
        for queue in self._queues.values():
            # Deleting with every batch keeps the table small: freed pages are reused at
            # once (batching deletions was measured to write more, not less).
            if queue.settled_upto > queue.deleted_upto:
                job.deletes.append((queue.id, queue.settled_upto))
            if queue.trim_pending:
                trimmed.append(queue)
                job.trims.append(
                    Trim(
                        queue.id,
                        queue.taken_upto,
                        queue.in_flight,
                        limits.max_events,
                        limits.max_bytes,
                        max(0, cutoff),
                    )
                )
        self._flush_deletes = False
        return job, batch, trimmed

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._has_work():
                await asyncio.sleep(0)  # let the appends that are ready join this batch
                pause = self._next_commit - loop.time()
                if pause > 0 and len(self._pending) < FULL_COMMIT and not self._closing:
                    self._hurry.clear()
                    with contextlib.suppress(TimeoutError):  # appends meanwhile join the batch
                        await asyncio.wait_for(self._hurry.wait(), pause)
                self._next_commit = loop.time() + self.commit_interval_s
                job, batch, trimmed = self._job()
                waiters, self._waiters = self._waiters, []
                if not job:
                    self._release(waiters)
                    continue
                try:
                    dropped = await self._run(self.store.apply, job)
                except OutboxError as error:
                    self._failed(error, batch, trimmed)
                    self._release(waiters)
                    await self._wait(WRITE_RETRY_S)
                    continue
                self._applied(job, batch, trimmed, dropped)
                self._release(waiters)
        finally:
            self._writer = None

    @staticmethod
    def _release(waiters: list[asyncio.Future[None]]) -> None:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _failed(
        self,
        error: OutboxError,
        batch: list[tuple[TargetQueue, Entry]],
        trimmed: list[TargetQueue],
    ) -> None:
        self.write_errors += 1
        log.error("integrations outbox: %s; %d events wait in memory", error, len(batch))
        waiting = [item for item in batch if not item[0].closed] + self._pending
        excess = len(waiting) - MAX_UNWRITTEN
        if excess > 0:
            lost: dict[int, tuple[TargetQueue, int]] = {}
            for queue, _ in waiting[:excess]:
                lost[queue.id] = (queue, lost.get(queue.id, (queue, 0))[1] + 1)
                queue.dropped["write_failed"] = queue.dropped.get("write_failed", 0) + 1
            waiting = waiting[excess:]
            for queue, count in lost.values():
                self._on_drop(queue, "write_failed", count)
        self._pending = waiting
        for queue in trimmed:
            queue.trim_pending = False
            queue.wake.set()

    def _applied(
        self,
        job: Job,
        batch: list[tuple[TargetQueue, Entry]],
        trimmed: list[TargetQueue],
        dropped: list[Dropped],
    ) -> None:
        self.commits += 1
        self.rows_written += len(job.inserts)
        by_queue: dict[int, tuple[TargetQueue, list[Entry]]] = {}
        for queue, entry in batch:
            by_queue.setdefault(queue.id, (queue, []))[1].append(entry)
        for queue, entries in by_queue.values():
            if queue.closed:
                continue
            queue.added(len(entries), sum(len(entry.body) for entry in entries))
            queue.loaded(entries)
        deleted = dict(job.deletes)
        for queue in self._queues.values():
            if queue.id in deleted:
                queue.deleted_upto = max(queue.deleted_upto, deleted[queue.id])
        queues_by_id = {queue.id: queue for queue in self._queues.values()}
        for result in dropped:
            trimmed_queue = queues_by_id.get(result.target)
            if trimmed_queue is None:
                continue
            for reason, (rows, size) in result.by_reason.items():
                if rows:
                    trimmed_queue.count_drop(reason, rows, size)
                    self._on_drop(trimmed_queue, reason, rows)
            trimmed_queue.drop_memory()  # what was dropped may be in memory: read on from the file
        for queue in trimmed:
            queue.trim_pending = False
            queue.wake.set()
        for queue, _ in by_queue.values():
            self._check_bounds(queue)

    # --- out ------------------------------------------------------------------------------

    async def next_batch(self, queue: TargetQueue, limit: int) -> list[Entry]:
        """The next entries of ``queue`` in order, waiting for them; ``[]`` once it closes."""
        while not queue.closed:
            queue.wake.clear()
            batch = queue.take(limit)
            if batch:
                return batch
            if queue.overflow and not queue.trim_pending:
                await self._refill(queue)
                continue
            await queue.wake.wait()
        return []

    async def _refill(self, queue: TargetQueue) -> None:
        generation = queue.generation
        limit = min(READ_BATCH, queue.memory_limit)
        try:
            rows = await self._run(self.store.read, queue.id, queue.loaded_upto, limit)
        except OutboxError as error:
            log.error("integrations outbox: cannot read %s: %s", queue.name, error)
            await self._wait(WRITE_RETRY_S)
            return
        if generation != queue.generation or queue.closed:
            return  # a trim changed the queue meanwhile: read again
        entries = [Entry(row.seq, row.stored_ns, row.kind, row.body) for row in rows]
        queue.loaded(entries, read_back=True)
        if len(rows) < limit and len(queue.head) < queue.memory_limit:
            queue.overflow = False
