"""The latest state of each device as the console's device table shows it (last seen, signal,
battery, counters), kept in memory and saved every ``SAVE_INTERVAL_S``.

Saving on every uplink would double the writes per uplink for data that may be a few seconds
stale after a crash without harm; the session's counters are durable on their own. The API and
the console read the memory, never the table, so the interval is not what they see.

With a database path the saves run in a writer thread of their own, on their own connection, in
transactions of at most ``CHUNK`` rows: with 100,000 devices a save is tens of thousands of rows,
which in the event loop stalled every uplink behind it, and in one transaction would hold the
database's write lock long enough to delay the network server's commits.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from appliance.app.model import DeviceStatus
from appliance.app.repository import Repository, status_dict
from appliance.app.timefmt import to_text

log = logging.getLogger("appliance.app")

SAVE_INTERVAL_S = 30.0
CHUNK = 2_000  # rows per transaction in the writer thread

_UPSERT = (
    "INSERT INTO device_status (dev_eui, last_seen_at, data) VALUES (?, ?, ?) "
    "ON CONFLICT(dev_eui) DO UPDATE SET last_seen_at = excluded.last_seen_at, data = excluded.data"
)


class StatusTracker:
    def __init__(self, repository: Repository, *, database: Path | None = None) -> None:
        self._repository = repository
        self._statuses: dict[str, DeviceStatus] = repository.device_statuses()
        self._dirty: set[str] = set()
        self._last_save: float | None = None
        self._writer = _Writer(database) if database is not None else None
        self._saving: Future[None] | None = None
        self._in_flight: dict[str, DeviceStatus] = {}

    def get(self, dev_eui: str) -> DeviceStatus:
        return self._statuses.get(dev_eui, DeviceStatus())

    def uplink(
        self, dev_eui: str, *, at: datetime, rssi: int, snr: float, f_cnt: int, dr: int
    ) -> None:
        old = self._statuses.get(dev_eui)
        if old is None:
            status = DeviceStatus(last_seen_at=at, rssi=rssi, snr=snr, f_cnt_up=f_cnt, dr=dr)
        else:  # the dataclass by hand: this runs for every uplink
            status = DeviceStatus(
                at, rssi, snr, f_cnt, dr, old.battery_level, old.margin, old.external_power
            )
        self._statuses[dev_eui] = status
        self._dirty.add(dev_eui)

    def seen(self, dev_eui: str, at: datetime) -> None:
        self._update(dev_eui, last_seen_at=at)

    def battery(
        self, dev_eui: str, *, level: float | None, margin: int, external_power: bool
    ) -> None:
        self._update(dev_eui, battery_level=level, margin=margin, external_power=external_power)

    def forget(self, dev_eui: str) -> None:
        self._statuses.pop(dev_eui, None)
        self._dirty.discard(dev_eui)

    def _update(self, dev_eui: str, **changes: object) -> None:
        self._statuses[dev_eui] = replace(self.get(dev_eui), **changes)  # type: ignore[arg-type]
        self._dirty.add(dev_eui)

    def save_due(self, now_s: float) -> bool:
        """Start saving the changed statuses if the interval has passed (time is an input);
        with a writer thread this returns at once and the save goes on there."""
        self._collect()
        if not self._dirty:
            return False
        if self._last_save is not None and now_s - self._last_save < SAVE_INTERVAL_S:
            return False
        if self._saving is not None:
            return False  # the last save is still being written: the next round takes these
        self._last_save = now_s
        changed = self._take_dirty()
        if self._writer is None:
            self._write_now(changed)
        else:
            self._in_flight = changed
            self._saving = self._writer.submit(changed)
        return True

    def save(self, now_s: float) -> None:
        """Save every change now and wait for it (at shutdown)."""
        if self._saving is not None:
            self._saving.exception()  # waits; a failure puts the rows back in _collect
        self._collect()
        self._last_save = now_s
        changed = self._take_dirty()
        try:
            if self._writer is None:
                self._write_now(changed)
            else:
                self._writer.submit(changed).result()
        finally:
            if self._writer is not None:
                self._writer.close()
                self._writer = None  # anything later is written in the caller's thread

    def _take_dirty(self) -> dict[str, DeviceStatus]:
        changed = {eui: self._statuses[eui] for eui in self._dirty if eui in self._statuses}
        self._dirty.clear()
        return changed

    def _write_now(self, changed: dict[str, DeviceStatus]) -> None:
        try:
            self._repository.save_device_statuses(changed)
        except Exception:
            self._dirty.update(changed)  # kept for the next try
            raise

    def _collect(self) -> None:
        """Note a finished background save; a failed one's rows are saved again next time."""
        saving = self._saving
        if saving is None or not saving.done():
            return
        self._saving = None
        failure = saving.exception()
        if failure is not None:
            self._dirty.update(eui for eui in self._in_flight if eui in self._statuses)
            log.warning("cannot save device statuses: %s", str(failure).splitlines()[0])
        self._in_flight = {}


class _Writer:
    """One thread, one connection: the statuses' upserts, off the event loop."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="device-status")
        self._local = threading.local()

    def submit(self, statuses: Mapping[str, DeviceStatus]) -> Future[None]:
        return self._pool.submit(self._write, dict(statuses))

    def close(self) -> None:
        self._pool.submit(self._disconnect).result()
        self._pool.shutdown(wait=True)

    def _disconnect(self) -> None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._database, isolation_level=None)
            # Last-seen times need not survive a power cut (a crash they do survive in WAL
            # mode): no fsync per save, the next checkpoint makes them durable.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            self._local.db = db
        return db

    def _write(self, statuses: dict[str, DeviceStatus]) -> None:
        db = self._connection()
        rows = [
            (
                dev_eui,
                None if s.last_seen_at is None else to_text(s.last_seen_at),
                json.dumps(status_dict(s), separators=(",", ":")),
            )
            for dev_eui, s in statuses.items()
        ]
        for start in range(0, len(rows), CHUNK):
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_UPSERT, rows[start : start + CHUNK])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
