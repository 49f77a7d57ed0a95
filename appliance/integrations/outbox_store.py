"""The outbox's SQLite file (``outbox.db`` in the data directory): one row per event and
delivery target, in the order the events were recorded.

WAL with ``synchronous=FULL``: a commit is on the storage when it returns, so an event the
outbox accepted survives a power cut. Rows are the events' protobuf bytes, deflated against a
dictionary per event kind kept in the file (``BodyCodec``: an ``up`` event of about 470 bytes
is stored in about 100), keyed by ``(target, seq)`` without a rowid, so a target's queue is
one contiguous range of the table: appends go to its end and deliveries delete from its
start. ``size`` is the event's own byte count, which the bounds and the backlog count (rows
of schema 1 have none: their body is the event as it is). New files get 1 KiB pages: a
commit rewrites every page it touches, and most touch a few rows. Every method runs in the
outbox's one worker thread; ``apply`` makes one transaction (one fsync) of a whole batch of
appends, deletions and trims.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, Final, ParamSpec, TypeVar

from appliance.app.events.body_codec import DICTIONARIES_TABLE, BodyCodec
from appliance.integrations.errors import OutboxError
from appliance.sqlite_wear import SECURE_DELETE_FAST

SCHEMA_VERSION: Final = 2
NEW_FILE_PAGE_SIZE: Final = 1024
# WAL written between checkpoints (SQLite's default is 1,000 pages, whatever their size): the
# outbox's few live pages are rewritten many times over, and a checkpoint writes each once.
_CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS targets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS items ("
    " target INTEGER NOT NULL, seq INTEGER NOT NULL, stored_ns INTEGER NOT NULL,"
    " kind TEXT NOT NULL, body BLOB NOT NULL, size INTEGER,"
    " PRIMARY KEY (target, seq)) WITHOUT ROWID",
    DICTIONARIES_TABLE,
)
_MIGRATIONS: Final = {  # from schema N to N + 1
    1: ("ALTER TABLE items ADD COLUMN size INTEGER", DICTIONARIES_TABLE),
}
_UNREADABLE: Final = b"\x00"  # what a body that is not a BLOB is read as
_SIZE: Final = "coalesce(size, length(body))"  # an event's bytes (schema 1 rows: as stored)


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    stored_ns: int
    kind: str
    body: bytes  # the event's protobuf bytes (as stored when they cannot be unpacked)


@dataclass(frozen=True, slots=True)
class Trim:
    """Bring one target's queue within its bounds, never touching rows at or below
    ``after_seq`` (handed to the target already); ``in_flight`` rows are there."""

    target: int
    after_seq: int
    in_flight: int
    max_count: int
    max_bytes: int
    older_than_ns: int


@dataclass(frozen=True, slots=True)
class Dropped:
    target: int
    by_reason: dict[str, tuple[int, int]]  # reason -> (rows, bytes)


@dataclass(slots=True)
class Job:
    inserts: list[tuple[int, int, int, str, bytes]] = field(default_factory=list)
    deletes: list[tuple[int, int]] = field(default_factory=list)  # (target, up to seq)
    trims: list[Trim] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.deletes or self.trims)


@dataclass(frozen=True, slots=True)
class QueueStats:
    count: int
    bytes: int


P = ParamSpec("P")
T = TypeVar("T")


def _guarded(
    method: Callable[Concatenate[OutboxStore, P], T],
) -> Callable[Concatenate[OutboxStore, P], T]:
    """SQLite's errors (a full disk, a damaged file) as ``OutboxError`` naming the file."""

    @functools.wraps(method)
    def guarded(self: OutboxStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise OutboxError(f"{self.path}: {error}") from None

    return guarded


def _low(limit: int) -> int:
    """What a trim leaves: 90 % of the limit, so one trim makes room for many appends."""
    return limit - max(1, limit // 10)


class OutboxStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise OutboxError(
                    f"{path}: written by a newer version (schema {version}, "
                    f"this one knows {SCHEMA_VERSION})"
                )
            if self._db.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new file
                self._db.execute(f"PRAGMA page_size={NEW_FILE_PAGE_SIZE}")
            self._db.execute("PRAGMA journal_mode=WAL").fetchone()
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute(SECURE_DELETE_FAST)
            page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
            self._db.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_BYTES // page_size}")
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._create_or_migrate()
            self._db.execute("SELECT count(*) FROM targets").fetchone()
            self._codec = BodyCodec.load(self._db)
        except sqlite3.DatabaseError as error:
            raise OutboxError(f"{path}: cannot use the outbox file: {error}") from None

    def _create_or_migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            statements: tuple[str, ...] = _SCHEMA
        else:
            statements = tuple(
                s for old in range(version, SCHEMA_VERSION) for s in _MIGRATIONS[old]
            )
        for statement in statements:
            self._db.execute(statement)
        if version < SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # --- at start -------------------------------------------------------------------------

    @_guarded
    def targets(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT name, id FROM targets").fetchall())

    @_guarded
    def add_target(self, name: str) -> int:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR IGNORE INTO targets (name) VALUES (?)", (name,))
            row = self._db.execute("SELECT id FROM targets WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    @_guarded
    def remove_target(self, target: int) -> QueueStats:
        """Forget a target and every row waiting for it; returns what was dropped."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            stats = self.stats(target)
            self._db.execute("DELETE FROM items WHERE target = ?", (target,))
            self._db.execute("DELETE FROM targets WHERE id = ?", (target,))
        return stats

    @_guarded
    def stats(self, target: int) -> QueueStats:
        count, size = self._db.execute(
            f"SELECT count(*), coalesce(sum({_SIZE}), 0) FROM items WHERE target = ?",
            (target,),
        ).fetchone()
        return QueueStats(int(count), int(size))

    @_guarded
    def max_seq(self) -> int:
        return int(self._db.execute("SELECT coalesce(max(seq), 0) FROM items").fetchone()[0])

    # --- reads ----------------------------------------------------------------------------

    @_guarded
    def read(self, target: int, after_seq: int, limit: int) -> list[Row]:
        rows = self._db.execute(
            "SELECT seq, stored_ns, kind, body FROM items WHERE target = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (target, after_seq, limit),
        ).fetchall()
        return [
            Row(seq, stored_ns, kind, self._unpack(body)) for seq, stored_ns, kind, body in rows
        ]

    def _unpack(self, stored: object) -> bytes:
        if not isinstance(stored, bytes):
            # Not what this store writes (text or a number: the file was edited or damaged).
            # A field-0 byte never decodes as an event, so delivery reports and skips it
            # like any damaged row instead of failing every read of the queue behind it.
            return _UNREADABLE
        try:
            return self._codec.unpack(stored)
        except ValueError:
            # Left as stored: a packed body never decodes as an event (its first byte would
            # be field number 0), so delivery reports and skips it like any damaged row.
            return stored

    # --- one batch ------------------------------------------------------------------------

    @_guarded
    def apply(self, job: Job) -> list[Dropped]:
        dropped: list[Dropped] = []
        db = self._db
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                if job.inserts:
                    db.executemany(
                        "INSERT OR REPLACE INTO items (target, seq, stored_ns, kind, body, size) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        self._rows(job),
                    )
                    self._codec.store_new(db)
                if job.deletes:
                    db.executemany("DELETE FROM items WHERE target = ? AND seq <= ?", job.deletes)
                for trim in job.trims:
                    result = self._trim(trim)
                    if result.by_reason:
                        dropped.append(result)
        except BaseException:
            self._codec.settle(committed=False)
            raise
        self._codec.settle(committed=True)
        return dropped

    def _rows(self, job: Job) -> list[tuple[int, int, int, str, bytes, int]]:
        """The rows of ``job.inserts``, each event packed once whatever its targets."""
        pack = self._codec.pack
        packed: dict[int, bytes] = {}
        rows = []
        for target, seq, stored_ns, kind, body in job.inserts:
            stored = packed.get(seq)
            if stored is None:
                stored = packed[seq] = pack(kind, body)
            rows.append((target, seq, stored_ns, kind, stored, len(body)))
        return rows

    def _delete_range(self, trim: Trim, up_to: int) -> tuple[int, int]:
        sizes = self._db.execute(
            f"DELETE FROM items WHERE target = ? AND seq > ? AND seq <= ? RETURNING {_SIZE}",
            (trim.target, trim.after_seq, up_to),
        ).fetchall()
        return len(sizes), sum(size for (size,) in sizes)

    def _trim(self, trim: Trim) -> Dropped:
        db = self._db
        by_reason: dict[str, tuple[int, int]] = {}
        if trim.older_than_ns:
            sizes = db.execute(
                "DELETE FROM items WHERE target = ? AND seq > ? AND stored_ns < ? "
                f"RETURNING {_SIZE}",
                (trim.target, trim.after_seq, trim.older_than_ns),
            ).fetchall()
            if sizes:
                by_reason["max_age"] = (len(sizes), sum(size for (size,) in sizes))
        count, size = db.execute(
            f"SELECT count(*), coalesce(sum({_SIZE}), 0) FROM items WHERE target = ? AND seq > ?",
            (trim.target, trim.after_seq),
        ).fetchone()
        if count + trim.in_flight > trim.max_count and count:
            excess = min(count, count + trim.in_flight - _low(trim.max_count))
            (cut,) = db.execute(
                "SELECT seq FROM items WHERE target = ? AND seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
                (trim.target, trim.after_seq, excess - 1),
            ).fetchone()
            rows, removed = self._delete_range(trim, cut)
            by_reason["max_events"] = (rows, removed)
            size -= removed
        if size > trim.max_bytes:
            need = size - _low(trim.max_bytes)
            row = db.execute(
                f"SELECT seq FROM (SELECT seq, sum({_SIZE}) OVER (ORDER BY seq) AS running "
                "FROM items WHERE target = ? AND seq > ?) WHERE running >= ? LIMIT 1",
                (trim.target, trim.after_seq, need),
            ).fetchone()
            if row is None:  # the rows already handed out hold most of the bytes
                row = db.execute(
                    "SELECT max(seq) FROM items WHERE target = ? AND seq > ?",
                    (trim.target, trim.after_seq),
                ).fetchone()
            if row[0] is not None:
                by_reason["max_bytes"] = self._delete_range(trim, row[0])
        return Dropped(trim.target, by_reason)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # the next start finds the WAL and uses it
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        self._db.close()
