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

# The application server's model: what users manage through the API. Timestamps are RFC 3339
# UTC text; JSON columns hold small dicts (tags, configuration). Device profiles and devices
# stay in the network server's tables above; only what the network server does not use is here.
_V2: Final = """
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE profile_codecs (
    profile_id TEXT PRIMARY KEY,
    runtime TEXT NOT NULL,
    script TEXT NOT NULL DEFAULT ''
);
CREATE TABLE device_meta (
    dev_eui TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE device_status (
    dev_eui TEXT PRIMARY KEY,
    last_seen_at TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE gateways (
    gateway_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    location TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_seen_at TEXT,
    stats TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    is_admin INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    application_id TEXT,
    user_id TEXT,
    expires_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE integrations (
    application_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (application_id, kind)
) WITHOUT ROWID;
"""

# Sessions move to a narrow table of their own: every uplink rewrites its device's session,
# and a page holding only sessions (not names, tags and root keys) is what each commit writes.
# The devices row keeps dev_addr (the lookup by DevAddr, now answered from the index alone);
# its session column stays, always NULL, and the triggers keep code that clears it
# (deactivation) or deletes the device right.
_V3: Final = """
CREATE TABLE sessions (dev_eui TEXT PRIMARY KEY, session BLOB NOT NULL);
INSERT INTO sessions (dev_eui, session)
    SELECT dev_eui, session FROM devices WHERE session IS NOT NULL;
UPDATE devices SET session = NULL WHERE session IS NOT NULL;
CREATE TRIGGER devices_session_cleared AFTER UPDATE OF session ON devices
    WHEN NEW.session IS NULL
    BEGIN DELETE FROM sessions WHERE dev_eui = NEW.dev_eui; END;
CREATE TRIGGER devices_deleted AFTER DELETE ON devices
    BEGIN DELETE FROM sessions WHERE dev_eui = OLD.dev_eui; END;
CREATE INDEX devices_dev_addr_eui ON devices (dev_addr, dev_eui);
DROP INDEX devices_dev_addr;
"""

# No change to the tables: from this version on sessions are written in the packed formats 0x03
# and 0x04 (ns/session_codec.py), which earlier builds cannot read. The version bump makes an
# earlier build refuse the whole database at start ("written by a newer version") instead of
# failing on every session it reads. Sessions of the earlier formats are still read, and
# rewritten in the new one on their next save.
_V4: Final = """
-- sessions in the packed session formats from here on
"""

# SQL scripts; a step that must transform data in Python can be added as a function later.
# Append new steps at the end only.
STEPS: Final[tuple[str, ...]] = (_V1, _V2, _V3, _V4)
SCHEMA_VERSION: Final = len(STEPS)


def migrate(db: sqlite3.Connection, from_version: int, to_version: int = SCHEMA_VERSION) -> None:
    """Apply the steps from ``from_version`` up to ``to_version`` (autocommit connection)."""
    for version in range(from_version, to_version):
        # One script, one transaction: the schema change and the version bump land together.
        db.executescript(f"BEGIN; {STEPS[version]} PRAGMA user_version={version + 1}; COMMIT;")
