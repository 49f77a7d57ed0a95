"""Every database the appliance writes runs with ``secure_delete=FAST``: Debian's SQLite has
secure deletion on, which writes each page a deletion frees once more to zero it, and the
event log's retention and the outbox's deliveries delete all the time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from appliance.app.events.event_log import EventLog
from appliance.bridge.spool import Spool
from appliance.integrations.outbox_store import OutboxStore
from appliance.ns.sqlite_store import SQLiteStore

FAST = 2  # what ``PRAGMA secure_delete`` reports for FAST


def _mode(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA secure_delete").fetchone()[0])


async def test_every_writing_connection_deletes_without_extra_writes(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    log = EventLog.open(tmp_path)
    outbox = OutboxStore(tmp_path / "outbox.db")
    spool = Spool.open(tmp_path / "spool.db")
    try:
        assert _mode(store._db) == FAST
        assert _mode(store._sessions._db) == FAST  # the group committer's connection
        assert _mode(log._db) == FAST
        assert _mode(outbox._db) == FAST
        assert _mode(spool._db) == FAST
    finally:
        await store.aclose()
        log.close()
        outbox.close()
        spool.close()
