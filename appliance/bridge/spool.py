"""The on-disk spool of store and forward: uplinks waiting for the upstream link, in order.

One SQLite file of its own (``upstream.db`` in the data directory), so a busy network-server
database never blocks it and it can be deleted on its own. Rows are keyed by the bridge's
sequence number, so reading ``ORDER BY seq`` gives reception order however rows were written.

Written to gently (SD cards): WAL with ``synchronous=NORMAL``, and callers batch their rows so
one transaction carries many frames. The count and byte total are kept in memory, so bounding
the spool costs no table scan.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from appliance.sqlite_wear import SECURE_DELETE_FAST

logger = logging.getLogger("appliance.bridge")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY,
    stored_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
)
"""
_SCHEMA_VERSION: Final = 1
_CHUNK: Final = 500  # rows per statement: below SQLite's host-parameter limit


class SpoolError(Exception):
    """The spool file cannot be opened or written (disk full, permissions, I/O error)."""


@dataclass(frozen=True, slots=True)
class SpooledFrame:
    seq: int
    stored_ns: int  # when the appliance received the frame (wall clock), for the age limit
    data: bytes  # a serialized ``gw.UplinkFrame``


@dataclass(frozen=True, slots=True)
class Trimmed:
    """Rows removed by ``trim``, by reason."""

    expired: int = 0
    over_count: int = 0
    over_bytes: int = 0


class Spool:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        row = self._db.execute("SELECT count(*), coalesce(sum(size), 0) FROM spool").fetchone()
        self._count, self._bytes = int(row[0]), int(row[1])

    @classmethod
    def open(cls, path: Path) -> Spool:
        """Open (or create) the spool; a file that is not a readable spool is moved aside."""
        try:
            return cls(_connect(path), path)
        except sqlite3.DatabaseError as error:
            if not path.exists():
                raise SpoolError(f"cannot create spool {path}: {error}") from None
            aside = path.with_name(f"{path.name}.corrupt-{time.time_ns()}")
            logger.error("bridge: spool %s is unreadable (%s); moved to %s", path, error, aside)
            try:
                path.rename(aside)
                for suffix in ("-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                return cls(_connect(path), path)
            except (OSError, sqlite3.DatabaseError) as again:
                raise SpoolError(f"cannot recreate spool {path}: {again}") from None
        except OSError as error:
            raise SpoolError(f"cannot open spool {path}: {error}") from None

    @property
    def count(self) -> int:
        return self._count

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def max_seq(self) -> int:
        row = self._db.execute("SELECT max(seq) FROM spool").fetchone()
        return int(row[0] or 0)

    def append(self, frames: Iterable[SpooledFrame]) -> None:
        """Write ``frames`` in one transaction (a row already present is kept as it is)."""
        added = size = 0
        try:
            with self._db:
                for frame in frames:
                    cursor = self._db.execute(
                        "INSERT INTO spool (seq, stored_ns, size, data) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (seq) DO NOTHING",
                        (frame.seq, frame.stored_ns, len(frame.data), frame.data),
                    )
                    if cursor.rowcount == 1:
                        added += 1
                        size += len(frame.data)
        except sqlite3.Error as error:
            raise SpoolError(f"cannot write spool {self.path}: {error}") from None
        self._count += added
        self._bytes += size

    def read(self, after_seq: int, limit: int) -> list[SpooledFrame]:
        """Up to ``limit`` rows with ``seq > after_seq``, oldest first."""
        try:
            rows = self._db.execute(
                "SELECT seq, stored_ns, data FROM spool WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        except sqlite3.Error as error:
            raise SpoolError(f"cannot read spool {self.path}: {error}") from None
        return [SpooledFrame(int(seq), int(stored), bytes(data)) for seq, stored, data in rows]

    def delete(self, seqs: Sequence[int]) -> None:
        """Remove rows (sent upstream); absent ones are ignored."""
        try:
            with self._db:
                for start in range(0, len(seqs), _CHUNK):
                    self._remove(seqs[start : start + _CHUNK])
        except sqlite3.Error as error:
            raise SpoolError(f"cannot delete from spool {self.path}: {error}") from None

    def _remove(self, seqs: Sequence[int]) -> int:
        marks = ",".join("?" * len(seqs))
        sizes = self._db.execute(
            f"DELETE FROM spool WHERE seq IN ({marks}) RETURNING size",
            tuple(seqs),
        ).fetchall()
        self._count -= len(sizes)
        self._bytes -= sum(int(size) for (size,) in sizes)
        return len(sizes)

    def trim(self, *, max_frames: int, max_bytes: int, older_than_ns: int) -> Trimmed:
        """Drop the oldest rows until the spool is within its limits and none is expired."""
        expired = over_count = over_bytes = 0
        try:
            with self._db:
                while self._count:
                    oldest = self._db.execute(
                        "SELECT seq, stored_ns, size FROM spool ORDER BY seq LIMIT ?", (_CHUNK,)
                    ).fetchall()
                    doomed: list[int] = []
                    count, size = self._count, self._bytes
                    for seq, stored_ns, row_size in oldest:
                        if stored_ns < older_than_ns:
                            expired += 1
                        elif count > max_frames:
                            over_count += 1
                        elif size > max_bytes:
                            over_bytes += 1
                        else:
                            break
                        doomed.append(int(seq))
                        count, size = count - 1, size - int(row_size)
                    if not doomed:
                        break
                    self._remove(doomed)
        except sqlite3.Error as error:
            raise SpoolError(f"cannot trim spool {self.path}: {error}") from None
        return Trimmed(expired, over_count, over_bytes)

    def close(self) -> None:
        self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a power cut may lose the last commits but never corrupts the file.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(SECURE_DELETE_FAST)
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > _SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"spool schema {version} is newer than this appliance")
        db.execute(_SCHEMA)
        db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("quick_check failed")
    except BaseException:
        db.close()
        raise
    return db
