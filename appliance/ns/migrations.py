"""Schema migrations of the appliance database, one step per version.

``STEPS[n]`` takes a database at version n to version n + 1 (``PRAGMA user_version``). Each
step runs in its own transaction with the version bump, so a crash leaves the database at a
version it really has. Add a step at the end, never change a released one: tests migrate a
database built at every earlier version, with data in it, to the latest.
"""

from __future__ import annotations

import sqlite3
from typing import Final

_V1: Final = """
CREATE TABLE profiles (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE devices (
    dev_eui TEXT PRIMARY KEY,
    join_eui TEXT NOT NULL,
    data TEXT NOT NULL,
    root_keys BLOB,
    dev_addr TEXT,
    session BLOB,
    last_dev_nonce INTEGER,
    last_join_nonce INTEGER NOT NULL DEFAULT -1
);
CREATE INDEX devices_dev_addr ON devices (dev_addr);
CREATE TABLE dev_nonces (dev_eui TEXT NOT NULL, nonce INTEGER NOT NULL,
                         PRIMARY KEY (dev_eui, nonce)) WITHOUT ROWID;
CREATE TABLE queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    dev_eui TEXT NOT NULL,
    f_port INTEGER NOT NULL,
    data BLOB NOT NULL,
    confirmed INTEGER NOT NULL,
    expires_at_ns INTEGER,
    f_cnt_down INTEGER
);
CREATE INDEX queue_device ON queue (dev_eui, seq);
"""

# SQL scripts; a step that must transform data in Python can be added as a function later.
STEPS: Final[tuple[str, ...]] = (_V1,)
SCHEMA_VERSION: Final = len(STEPS)


def migrate(db: sqlite3.Connection, from_version: int, to_version: int = SCHEMA_VERSION) -> None:
    """Apply the steps from ``from_version`` up to ``to_version`` (autocommit connection)."""
    for version in range(from_version, to_version):
        # One script, one transaction: the schema change and the version bump land together.
        db.executescript(f"BEGIN; {STEPS[version]} PRAGMA user_version={version + 1}; COMMIT;")
