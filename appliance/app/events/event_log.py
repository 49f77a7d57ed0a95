"""The event log and the frame log: recent events and frames for the console and the API.

The frame log lives in memory unless ``frames_on_disk`` (a database attached to the log's
connection, queried the same way), and is saved to the file's ``frames`` table at a clean
stop and loaded from it at start: it is about as large as the events and only for looking at
the radio, so it costs the SD card nothing while the appliance runs (as ChirpStack keeps its
frame logs in Redis). A crash or power cut loses the frames since the last clean stop.

Appending only queues the record in memory; ``flush`` writes everything queued, one
transaction per ``batch_size`` entries. ``flush_due(now)`` says when: a full batch, or
``flush_interval_s`` since the last flush. ``run()`` is the task that does this on the real
clock. Append and ``run()`` belong to the event loop's thread; queries take a lock, so API
handlers in worker threads may query too.

Retention, applied by ``flush``: by count whenever a table holds more than its limit (the
oldest go, down to 10 % below the limit, so deletions come in runs rather than one per
insert), and by age once a minute (the oldest entries, in the order they were written, until
the first one younger than the limit: it costs what it deletes; entries written with an older
clock than their successors go with them).

Queries write what is queued first, so they see everything appended before them, newest
first, ``limit`` at a time; ``Page.next_cursor`` passed as ``before`` gives the next page.
Cursors are row ids: they only grow while the log holds anything.

Checkpoints: ``run()`` copies the WAL into the database file from a worker thread on a
connection of its own once the WAL holds ``checkpoint_wal_bytes`` (PASSIVE: appends go on
meanwhile), rather than SQLite's 1,000 pages on the event loop's commits. A log kept at its
count limit rewrites the same pages over and over (retention frees the oldest, the next
appends reuse them); the longer between checkpoints, the more of those rewrites a checkpoint
writes to the file once (at 1,000 uplinks/s the log turns over in about 10 s, 16 MiB of WAL
is about 20 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from appliance.app.events.body_codec import BodyCodec
from appliance.app.events.errors import EventLogError
from appliance.app.events.kinds import EventKind, FrameKind
from appliance.app.events.log_options import EventLogOptions
from appliance.app.events.log_pending import Row, event_row, finished, frame_row
from appliance.app.events.log_rows import (
    EVENT_COLUMNS,
    FRAME_COLUMNS,
    Page,
    event_of_row,
    frame_of_row,
    key_bytes,
    page_of,
    where_clause,
)
from appliance.app.events.log_schema import (
    CHECKPOINT_WAL_BYTES,
    FILE_NAME,
    MEMORY_FRAMES,
    attach_memory_frames,
    open_database,
    save_memory_frames,
)
from appliance.app.events.records import EventRecord, FrameRecord
from appliance.lorawan.identifiers import EUI64, DevAddr

log = logging.getLogger(__name__)
PRUNE_INTERVAL_S = 60.0  # age retention runs this often (``run()`` flushes for it if idle)

_R = TypeVar("_R", EventRecord, FrameRecord)


@dataclass(slots=True)
class EventLogStats:
    events_written: int = 0
    frames_written: int = 0
    bytes_written: int = 0  # row payloads (keys and bodies), before SQLite's own overhead
    flushes: int = 0
    write_errors: int = 0
    dropped: int = 0  # unwritten entries given up while the disk refused them
    unreadable: int = 0  # stored rows that no longer decode (skipped by queries)
    checkpoints: int = 0  # of the WAL into the file, from a worker thread


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cutoff_ns(wall: datetime, age: timedelta) -> int:
    """Unix ns of ``wall - age``: entries older than this are removed."""
    try:
        oldest = wall - age
    except OverflowError:  # an age reaching before year 1 keeps everything
        return -(1 << 63)
    return (oldest - _UNIX_EPOCH) // timedelta(microseconds=1) * 1_000


class EventLog:
    def __init__(self, db: sqlite3.Connection, path: Path, options: EventLogOptions) -> None:
        self._db = db
        self.path = path
        self.options = options
        self.stats = EventLogStats()
        self._lock = threading.RLock()
        self._events: deque[Row] = deque()  # rows waiting for their write
        self._frames: deque[Row] = deque()
        self._last_flush: float | None = None
        self._last_prune: float | None = None
        self._wake = asyncio.Event()
        # Table -> the name queries use for it (the frame log may live in memory).
        self._tables = {"events": "events", "frames": "frames"}
        if not options.frames_on_disk:
            attach_memory_frames(db, path)
            self._tables["frames"] = MEMORY_FRAMES
        self._stored = {"events": 0, "frames": 0}
        self._stored["events"], self._stored["frames"] = self.counts()
        self._wal = path.with_name(path.name + "-wal")
        self.checkpoint_wal_bytes = CHECKPOINT_WAL_BYTES
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoint_lock = threading.Lock()  # held by a checkpoint, and by close()
        self._closed = False
        try:
            self._codec: BodyCodec = BodyCodec.load(db)
        except sqlite3.Error as error:
            raise EventLogError(f"cannot read event log {path}: {error}") from None

    @classmethod
    def open(cls, data_dir: Path, options: EventLogOptions | None = None) -> EventLog:
        """The log in ``data_dir/events.db`` (created when missing)."""
        path = data_dir / FILE_NAME
        db = open_database(path)
        try:
            return cls(db, path, options or EventLogOptions())
        except EventLogError:
            db.close()
            raise

    def close(self) -> None:
        """Write what is queued (best effort) and close the file."""
        with self._lock, self._checkpoint_lock:
            self._closed = True
            try:
                self._write_pending()
                if self._tables["frames"] == MEMORY_FRAMES:
                    save_memory_frames(self._db, self.path)
            except EventLogError as error:
                log.warning("%s", error)
            finally:
                if self._checkpointer is not None:
                    self._checkpointer.close()
                self._db.close()

    # --- appending and writing ------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._events) + len(self._frames)

    def append_event(self, record: EventRecord) -> None:
        row = self._row(event_row, record)
        if row is not None:
            with self._lock:
                self._events.append(row)
                self._bound(self._events)

    def append_frame(self, record: FrameRecord) -> None:
        row = self._row(frame_row, record)
        if row is not None:
            with self._lock:
                self._frames.append(row)
                self._bound(self._frames)

    def _row(self, build: Callable[[BodyCodec, _R], Row], record: _R) -> Row | None:
        try:
            return build(self._codec, record)
        except Exception as error:
            self.stats.dropped += 1
            log.warning("event log: %s entry not kept: %s", record.kind.value, error)
            return None

    def _bound(self, queue: deque[Row]) -> None:
        if self.pending > self.options.max_pending:
            queue.popleft()
            self.stats.dropped += 1
        if self.pending >= self.options.batch_size:
            self._wake.set()

    def flush_due(self, now: float) -> bool:
        """Whether to flush at ``now`` (monotonic seconds): a full batch, or entries waiting
        for ``flush_interval_s`` since the last flush (the first call starts the clock)."""
        if self._last_flush is None:
            self._last_flush = now
        pending = self.pending
        if pending >= self.options.batch_size:
            return True
        return pending > 0 and now - self._last_flush >= self.options.flush_interval_s

    def flush(self, *, now: float, wall: datetime) -> int:
        """Write everything queued, then apply retention as of ``wall``; the entries written.
        On a write error the entries stay queued (up to ``max_pending``) and
        ``EventLogError`` is raised."""
        with self._lock:
            self._last_flush = now
            written = self._write_pending()
            age_due = self._last_prune is None or now - self._last_prune >= PRUNE_INTERVAL_S
            if age_due:
                self.prune(wall)
                self._last_prune = now
            elif self._over_count():
                self._prune_by_count()
            return written

    def _write_pending(self) -> int:
        written = 0
        while self._events or self._frames:
            events = [
                self._events[i] for i in range(min(len(self._events), self.options.batch_size))
            ]
            room = self.options.batch_size - len(events)
            frames = [self._frames[i] for i in range(min(len(self._frames), room))]
            self._write_batch(events, frames)
            for _ in events:
                self._events.popleft()
            for _ in frames:
                self._frames.popleft()
            written += len(events) + len(frames)
        return written

    def _write_batch(self, events: list[Row], frames: list[Row]) -> None:
        event_rows = finished(self._codec, events)
        frame_rows = finished(self._codec, frames)
        try:
            with self._db:
                self._codec.store_new(self._db)
                self._db.executemany(
                    "INSERT INTO events (time_ns, kind, dev_eui, application_id, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    event_rows,
                )
                self._db.executemany(
                    f"INSERT INTO {self._tables['frames']} (time_ns, kind, gateway_id, dev_eui, "
                    "dev_addr, application_id, tx_status, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    frame_rows,
                )
        except sqlite3.Error as error:
            self._codec.settle(committed=False)
            self.stats.write_errors += 1
            raise EventLogError(f"cannot write event log {self.path}: {error}") from None
        self._codec.settle(committed=True)
        self.stats.flushes += 1
        self.stats.events_written += len(event_rows)
        self.stats.frames_written += len(frame_rows)
        self._stored["events"] += len(event_rows)
        self._stored["frames"] += len(frame_rows)
        self.stats.bytes_written += sum(8 + 1 + len(r[1]) + 8 + 16 + len(r[4]) for r in event_rows)
        if self._tables["frames"] != MEMORY_FRAMES:
            self.stats.bytes_written += sum(
                8 + 1 + len(r[1]) + 8 + sum(len(v) for v in r[3:6] if v) + 1 + len(r[7])
                for r in frame_rows
            )

    # --- retention ------------------------------------------------------------------------

    def prune(self, wall: datetime) -> tuple[int, int]:
        """Apply retention as of ``wall``; the numbers of events and frames removed."""
        options = self.options
        with self._lock:
            events = self._prune_table(
                "events", options.max_events, _cutoff_ns(wall, options.max_event_age)
            )
            frames = self._prune_table(
                "frames", options.max_frames, _cutoff_ns(wall, options.max_frame_age)
            )
        return events, frames

    def _over_count(self) -> bool:
        return (
            self._stored["events"] > self.options.max_events
            or self._stored["frames"] > self.options.max_frames
        )

    def _prune_by_count(self) -> None:
        self._prune_table("events", self.options.max_events, None)
        self._prune_table("frames", self.options.max_frames, None)

    def _prune_table(self, table: str, max_count: int, oldest_ns: int | None) -> int:
        """Remove the oldest rows of ``table`` (one of two constants) past ``max_count`` (down
        to 10 % below it, so deletions come in runs rather than one row per insert) and
        those older than ``oldest_ns``."""
        removed = 0
        name = self._tables[table]
        try:
            with self._db:
                if self._stored[table] > max_count:
                    keep = max_count - max_count // 10
                    # Ids only grow and only the oldest rows go, so they have no gaps: the
                    # newest id less ``keep`` is found from the index, not by counting rows.
                    removed += self._db.execute(
                        f"DELETE FROM {name} WHERE id <= (SELECT max(id) FROM {name}) - ?",
                        (keep,),
                    ).rowcount
                if oldest_ns is not None:
                    removed += self._db.execute(
                        f"DELETE FROM {name} WHERE id < coalesce("
                        f"(SELECT id FROM {name} WHERE time_ns >= ? ORDER BY id LIMIT 1), "
                        f"(SELECT max(id) + 1 FROM {name}))",
                        (oldest_ns,),
                    ).rowcount
        except sqlite3.Error as error:
            raise EventLogError(f"cannot trim event log {self.path}: {error}") from None
        self._stored[table] = max(0, self._stored[table] - removed)
        return removed

    # --- the task -------------------------------------------------------------------------

    async def run(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Flush when due, trim at least every minute and checkpoint when due, until
        cancelled; a cancel writes what is queued. Write errors are logged and retried at
        the next flush."""
        checkpointing: asyncio.Task[None] | None = None
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.options.flush_interval_s)
                self._wake.clear()
                now = monotonic()
                prune_due = self._last_prune is None or now - self._last_prune >= PRUNE_INTERVAL_S
                if self.flush_due(now) or prune_due:
                    self._flush_logged(now, wall())
                    if (checkpointing is None or checkpointing.done()) and self.checkpoint_due():
                        checkpointing = asyncio.create_task(
                            asyncio.to_thread(self._checkpoint_logged), name="event-log checkpoint"
                        )
        finally:
            self._flush_logged(monotonic(), wall())
            if checkpointing is not None:
                await checkpointing

    def checkpoint_due(self) -> bool:
        """Whether the WAL holds ``checkpoint_wal_bytes`` (SQLite truncates it to nothing
        when it starts over after a checkpoint, so its size is what was written since)."""
        try:
            return self._wal.stat().st_size >= self.checkpoint_wal_bytes
        except OSError:
            return False

    def checkpoint(self) -> None:
        """Copy the WAL into the database file, on a connection of its own (any thread)."""
        with self._checkpoint_lock:
            if self._closed:
                return
            try:
                if self._checkpointer is None:
                    self._checkpointer = sqlite3.connect(
                        self.path, isolation_level=None, check_same_thread=False
                    )
                    self._checkpointer.execute("PRAGMA synchronous=NORMAL")
                    self._checkpointer.execute("PRAGMA busy_timeout=5000")
                self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as error:
                raise EventLogError(f"cannot checkpoint event log {self.path}: {error}") from None
            self.stats.checkpoints += 1

    def _checkpoint_logged(self) -> None:
        try:
            self.checkpoint()
        except EventLogError as error:  # the WAL keeps everything: the next one copies it
            log.warning("%s", error)

    def _flush_logged(self, now: float, wall: datetime) -> None:
        try:
            self.flush(now=now, wall=wall)
        except EventLogError as error:
            log.warning("%s (%d entries waiting)", error, self.pending)

    # --- queries --------------------------------------------------------------------------

    def events(
        self,
        *,
        dev_eui: EUI64 | None = None,
        application_id: uuid.UUID | None = None,
        kinds: Collection[EventKind] | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> Page[EventRecord]:
        """Stored events, newest first, matching every filter given."""
        equal = (("dev_eui", key_bytes(dev_eui)), ("application_id", key_bytes(application_id)))
        rows = self._select(
            self._tables["events"], EVENT_COLUMNS, where_clause(equal, kinds, before), limit
        )
        return page_of(self._decoded(rows, event_of_row), rows, limit)

    def frames(
        self,
        *,
        dev_eui: EUI64 | None = None,
        dev_addr: DevAddr | None = None,
        gateway_id: EUI64 | None = None,
        application_id: uuid.UUID | None = None,
        kinds: Collection[FrameKind] | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> Page[FrameRecord]:
        """Stored frames, newest first, matching every filter given."""
        equal = (
            ("dev_eui", key_bytes(dev_eui)),
            ("dev_addr", key_bytes(dev_addr)),
            ("gateway_id", key_bytes(gateway_id)),
            ("application_id", key_bytes(application_id)),
        )
        rows = self._select(
            self._tables["frames"], FRAME_COLUMNS, where_clause(equal, kinds, before), limit
        )
        return page_of(self._decoded(rows, frame_of_row), rows, limit)

    def counts(self) -> tuple[int, int]:
        """How many events and frames are stored (queued ones excluded)."""
        with self._lock:
            try:
                (events,) = self._db.execute("SELECT count(*) FROM events").fetchone()
                (frames,) = self._db.execute(
                    f"SELECT count(*) FROM {self._tables['frames']}"
                ).fetchone()
            except sqlite3.Error as error:
                raise EventLogError(f"cannot read event log {self.path}: {error}") from None
        return int(events), int(frames)

    def _select(
        self, table: str, columns: str, where: tuple[str, list[object]], limit: int
    ) -> list[tuple[Any, ...]]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        clause, args = where
        sql = f"SELECT {columns} FROM {table}{clause} ORDER BY id DESC LIMIT ?"
        with self._lock:
            try:
                self._write_pending()
            except EventLogError as error:
                log.warning("%s (%d entries waiting)", error, self.pending)
            try:
                return list(self._db.execute(sql, [*args, limit + 1]))
            except sqlite3.Error as error:
                raise EventLogError(f"cannot read event log {self.path}: {error}") from None

    def _decoded(
        self, rows: list[tuple[Any, ...]], decode: Callable[[tuple[Any, ...]], _R]
    ) -> list[_R]:
        records = []
        unpack = self._codec.unpack
        for row in rows:
            try:  # every query's columns are "id, kind, body, ..."
                columns = list(row)
                columns[2] = unpack(bytes(columns[2]))
                records.append(decode(tuple(columns)))
            except ValueError as error:  # EventBuildError is one too
                self.stats.unreadable += 1
                log.warning(
                    "event log %s: row %s is unreadable, skipped: %s", self.path, row[0], error
                )
        return records
