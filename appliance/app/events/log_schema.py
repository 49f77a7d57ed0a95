"""The event log's SQLite file: opening it, checking it, and its tables.

The log has its own file (``events.db`` in the data directory) so its churn never touches the
network server's database. WAL with ``synchronous=NORMAL``: a commit is not fsynced, so a
power cut may lose the last moments of log (what the operating system had not written back),
never corrupt it; the log is a view for people, and the durable integration outbox lives
elsewhere.

The tables have no secondary index on purpose: every index page an insert touches is another
page in the WAL, and at the sizes a log is kept at (tens of thousands of rows) a query that
walks the table newest first takes milliseconds (a full scan of 10,000 events: about 4 ms),
while the indexes doubled the bytes written per entry.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from appliance.app.events.errors import EventLogError

SCHEMA_VERSION = 1
FILE_NAME = "events.db"

_SCHEMA = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    dev_eui BLOB NOT NULL,
    application_id BLOB NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE frames (
    id INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    gateway_id BLOB NOT NULL,
    dev_eui BLOB,
    dev_addr BLOB,
    application_id BLOB,
    tx_status INTEGER,
    body BLOB NOT NULL
);
"""


def _reason(error: sqlite3.Error) -> str:
    return str(error) or type(error).__name__


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and check the log file; ``EventLogError`` says what is wrong."""
    try:
        db = sqlite3.connect(path, check_same_thread=False)
    except sqlite3.Error as error:
        raise EventLogError(f"cannot open event log {path}: {_reason(error)}") from None
    try:
        _prepare(db, path)
    except sqlite3.DatabaseError as error:
        db.close()
        raise EventLogError(f"cannot use event log {path}: {_reason(error)}") from None
    except EventLogError:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise EventLogError(f"cannot use event log {path}: WAL mode refused ({mode})")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    (check,) = db.execute("PRAGMA quick_check(1)").fetchone()
    if check != "ok":
        raise EventLogError(f"event log {path} is damaged: {check}")
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version == 0:
        with contextlib.closing(db.cursor()) as cursor:
            cursor.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
    elif version != SCHEMA_VERSION:
        raise EventLogError(
            f"event log {path} has schema version {version}; this version reads {SCHEMA_VERSION}"
        )
