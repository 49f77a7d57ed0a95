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

Bodies are deflated against a dictionary per kind (``BodyCodec``; its ``dictionaries`` table
is added to files of schema 1 as they are opened, and their rows stay as they are): an
``up`` event and its frame-log entry take about 250 bytes instead of 700. New files get
1 KiB pages: each flush rewrites the last, partly filled page of each table, and with rows
this small a 4 KiB page is mostly what the previous flush wrote already.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from appliance.app.events.body_codec import DICTIONARIES_TABLE
from appliance.app.events.errors import EventLogError
from appliance.sqlite_wear import SECURE_DELETE_FAST

SCHEMA_VERSION = 1
FILE_NAME = "events.db"
NEW_FILE_PAGE_SIZE = 1024
# WAL between checkpoints (``EventLog.run`` makes them in a worker thread); SQLite checkpoints
# on a commit itself only if the WAL reaches twice this (nobody running them).
CHECKPOINT_WAL_BYTES = 16 * 1024 * 1024

_FRAMES_TABLE = """CREATE TABLE {name} (
    id INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    gateway_id BLOB NOT NULL,
    dev_eui BLOB,
    dev_addr BLOB,
    application_id BLOB,
    tx_status INTEGER,
    body BLOB NOT NULL
)"""
_SCHEMA = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    dev_eui BLOB NOT NULL,
    application_id BLOB NOT NULL,
    body BLOB NOT NULL
);
{frames_table};
""".format(frames_table=_FRAMES_TABLE.format(name="frames"))


# The frame log in memory (the default, ``EventLogOptions.frames_on_disk`` False): a database
# attached to the log's connection, with the same table. The file's ``frames`` table holds the
# snapshot the last clean stop left, loaded at start.
MEMORY_FRAMES = "ram.frames"
_FRAMES_COLUMNS = (
    "id, time_ns, kind, gateway_id, dev_eui, dev_addr, application_id, tx_status, body"
)


def attach_memory_frames(db: sqlite3.Connection, path: Path) -> None:
    """Give the connection its in-memory frame log, holding the file's snapshot."""
    try:
        db.execute("ATTACH DATABASE ':memory:' AS ram")
        with db:
            db.execute(_FRAMES_TABLE.format(name=MEMORY_FRAMES))
            db.execute(
                f"INSERT INTO {MEMORY_FRAMES} ({_FRAMES_COLUMNS}) "
                f"SELECT {_FRAMES_COLUMNS} FROM main.frames ORDER BY id"
            )
    except sqlite3.Error as error:
        raise EventLogError(f"cannot load the frame log of {path}: {_reason(error)}") from None


def save_memory_frames(db: sqlite3.Connection, path: Path) -> None:
    """Replace the file's snapshot of the frame log with what memory holds (a clean stop)."""
    try:
        with db:
            db.execute("DELETE FROM main.frames")
            db.execute(
                f"INSERT INTO main.frames ({_FRAMES_COLUMNS}) "
                f"SELECT {_FRAMES_COLUMNS} FROM {MEMORY_FRAMES} ORDER BY id"
            )
    except sqlite3.Error as error:
        raise EventLogError(f"cannot save the frame log to {path}: {_reason(error)}") from None


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
    if db.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new file
        db.execute(f"PRAGMA page_size={NEW_FILE_PAGE_SIZE}")
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise EventLogError(f"cannot use event log {path}: WAL mode refused ({mode})")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute(SECURE_DELETE_FAST)
    (page_size,) = db.execute("PRAGMA page_size").fetchone()
    db.execute(f"PRAGMA wal_autocheckpoint={2 * CHECKPOINT_WAL_BYTES // page_size}")
    db.execute("PRAGMA journal_size_limit=0")  # the WAL starts over empty: its size tells
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
    if db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'dictionaries'").fetchone() is None:
        # An addition older versions do not mind: they skip the packed rows as unreadable.
        with db:
            db.execute(DICTIONARIES_TABLE)
