"""The latest state of each device as the console's device table shows it (last seen, signal,
battery, counters): the changes are kept in memory and saved every ``SAVE_INTERVAL_S``, or
sooner once ``MAX_PENDING`` devices have changed.

Saving on every uplink would double the writes per uplink for data that may be a few seconds
stale after a crash without harm; the session's counters are durable on their own.

Only what changed since the last save is in memory, as the changed fields: a save merges them
into the stored row (SQLite's ``json_patch``), and ``get`` reads the row and lays the changes
not yet saved over it. Holding every device's status instead took about 35 MB with 100,000
devices, a quarter of the appliance's memory budget.

With a database path the saves run in a writer thread of their own, on their own connection, in
transactions of at most ``CHUNK`` rows: in the event loop a save of tens of thousands of rows
stalled every uplink behind it, and in one transaction it would hold the database's write lock
long enough to delay the network server's commits.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.app.model import DeviceStatus
from appliance.app.repository import Repository
from appliance.app.timefmt import to_text
from appliance.sqlite_wear import SECURE_DELETE_FAST

log = logging.getLogger("appliance.app")

SAVE_INTERVAL_S = 120.0  # at 30 s the saves were ~0.3 KiB per uplink (10,000 devices, 1,000/s)
MAX_PENDING = 16_384  # changed devices that start a save before the interval has passed
CHUNK = 2_000  # rows per transaction in the writer thread

Changes = dict[str, Any]  # DeviceStatus field -> new value

_UPSERT = (
    "INSERT INTO device_status (dev_eui, last_seen_at, data) VALUES (?, ?, ?) "
    "ON CONFLICT(dev_eui) DO UPDATE SET "
    "last_seen_at = coalesce(excluded.last_seen_at, last_seen_at), "
    "data = json_patch(data, excluded.data)"
)


class StatusTracker:
    def __init__(self, repository: Repository, *, database: Path | None = None) -> None:
        self._repository = repository
        self._pending: dict[str, Changes] = {}
        self._in_flight: dict[str, Changes] = {}
        self._last_save: float | None = None
        self._writer = _Writer(database) if database is not None else None
        self._saving: Future[None] | None = None

    def get(self, dev_eui: str) -> DeviceStatus:
        status = self._repository.device_status(dev_eui) or DeviceStatus()
        for changes in (self._in_flight.get(dev_eui), self._pending.get(dev_eui)):
            if changes:
                status = replace(status, **changes)
        return status

    def uplink(
        self, dev_eui: str, *, at: datetime, rssi: int, snr: float, f_cnt: int, dr: int
    ) -> None:
        changes = self._pending.get(dev_eui)
        if changes is None:
            self._pending[dev_eui] = {
                "last_seen_at": at,
                "rssi": rssi,
                "snr": snr,
                "f_cnt_up": f_cnt,
                "dr": dr,
            }
        else:
            changes.update(last_seen_at=at, rssi=rssi, snr=snr, f_cnt_up=f_cnt, dr=dr)

    def seen(self, dev_eui: str, at: datetime) -> None:
        self._change(dev_eui, {"last_seen_at": at})

    def battery(
        self, dev_eui: str, *, level: float | None, margin: int, external_power: bool
    ) -> None:
        self._change(
            dev_eui, {"battery_level": level, "margin": margin, "external_power": external_power}
        )

    def forget(self, dev_eui: str) -> None:
        """The device is deleted (its row goes with it): drop what was not saved yet."""
        self._pending.pop(dev_eui, None)
        self._in_flight.pop(dev_eui, None)

    def _change(self, dev_eui: str, changes: Changes) -> None:
        self._pending.setdefault(dev_eui, {}).update(changes)

    def save_due(self, now_s: float) -> bool:
        """Start saving the changes if the interval has passed or many devices changed (time
        is an input); with a writer thread this returns at once and the save goes on there."""
        self._collect()
        if not self._pending or self._saving is not None:
            return False  # nothing to do, or the last save is still being written
        interval_passed = self._last_save is None or now_s - self._last_save >= SAVE_INTERVAL_S
        if not interval_passed and len(self._pending) < MAX_PENDING:
            return False
        self._last_save = now_s
        changed, self._pending = self._pending, {}
        if self._writer is None:
            self._write_now(changed)
        else:
            self._in_flight = changed
            self._saving = self._writer.submit(changed)
        return True

    def save(self, now_s: float) -> None:
        """Save every change now and wait for it (at shutdown)."""
        if self._saving is not None:
            self._saving.exception()  # waits; a failure puts the changes back in _collect
        self._collect()
        self._last_save = now_s
        changed, self._pending = self._pending, {}
        try:
            if self._writer is None:
                self._write_now(changed)
            else:
                self._writer.submit(changed).result()
        finally:
            if self._writer is not None:
                self._writer.close()
                self._writer = None  # anything later is written in the caller's thread

    def _write_now(self, changed: dict[str, Changes]) -> None:
        try:
            _transaction(self._repository.db.conn, changed)
        except Exception:
            self._put_back(changed)
            raise

    def _put_back(self, changed: dict[str, Changes]) -> None:
        """Changes that were not saved go before the newer ones made meanwhile."""
        for dev_eui, changes in changed.items():
            newer = self._pending.get(dev_eui)
            self._pending[dev_eui] = changes if newer is None else {**changes, **newer}

    def _collect(self) -> None:
        """Note a finished background save; a failed one's changes are saved again next time."""
        saving = self._saving
        if saving is None or not saving.done():
            return
        self._saving = None
        failure = saving.exception()
        if failure is not None:
            self._put_back(self._in_flight)
            log.warning("cannot save device statuses: %s", str(failure).splitlines()[0])
        self._in_flight = {}


def _transaction(db: sqlite3.Connection, changed: dict[str, Changes]) -> None:
    db.execute("BEGIN IMMEDIATE")  # the connections are in autocommit mode
    try:
        _write(db, changed)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _write(db: sqlite3.Connection, changed: dict[str, Changes]) -> None:
    rows = []
    for dev_eui, changes in changed.items():
        seen = changes.get("last_seen_at")
        rest = {key: value for key, value in changes.items() if key != "last_seen_at"}
        rows.append(
            (
                dev_eui,
                None if seen is None else to_text(seen),
                json.dumps(rest, separators=(",", ":")),
            )
        )
    db.executemany(_UPSERT, rows)


class _Writer:
    """One thread, one connection: the statuses' upserts, off the event loop."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="device-status")
        self._local = threading.local()

    def submit(self, changed: dict[str, Changes]) -> Future[None]:
        return self._pool.submit(self._write, changed)

    def close(self) -> None:
        self._pool.submit(self._disconnect).result()
        self._pool.shutdown(wait=True)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._database, isolation_level=None)
            # Last-seen times need not survive a power cut (a crash they do survive in WAL
            # mode): no fsync per save, the next checkpoint makes them durable.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            db.execute(SECURE_DELETE_FAST)
            self._local.db = db
        return db

    def _disconnect(self) -> None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def _write(self, changed: dict[str, Changes]) -> None:
        db = self._connection()
        items = list(changed.items())
        for start in range(0, len(items), CHUNK):
            _transaction(db, dict(items[start : start + CHUNK]))
