"""Device statuses (what the console's device table shows): kept in memory, saved in a writer
thread of their own into the real appliance database, reloaded at the next start."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from appliance.app import status as status_module
from appliance.app.model import DeviceStatus
from appliance.app.repository import Repository
from appliance.app.status import StatusTracker
from appliance.ns.sqlite_store import SQLiteStore

AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _tracker(tmp_path: Path) -> tuple[SQLiteStore, StatusTracker]:
    store = SQLiteStore.open(tmp_path)
    return store, StatusTracker(Repository(store.connection), database=store.path)


def _rows(store: SQLiteStore) -> int:
    with sqlite3.connect(store.path) as db:
        count: int = db.execute("SELECT count(*) FROM device_status").fetchone()[0]
    return count


def test_statuses_are_saved_in_the_background_and_reloaded(tmp_path: Path) -> None:
    store, tracker = _tracker(tmp_path)
    try:
        for n in range(5_000):  # more than one transaction of the writer
            tracker.uplink(f"{n:016x}", at=AT, rssi=-50 - n % 60, snr=7.5, f_cnt=n, dr=5)
        tracker.battery("0000000000000007", level=80.0, margin=9, external_power=False)
        assert tracker.save_due(100.0)
        # Within the interval nothing more is started, however many changes there are.
        tracker.uplink("0000000000000007", at=AT, rssi=-40, snr=9.0, f_cnt=99, dr=3)
        assert not tracker.save_due(101.0)
        tracker.save(102.0)  # shutdown: waits for the background save, writes the rest
        assert _rows(store) == 5_000
        reloaded = StatusTracker(Repository(store.connection), database=store.path)
        seven = reloaded.get("0000000000000007")
        assert (seven.rssi, seven.f_cnt_up, seven.dr) == (-40, 99, 3)
        assert (seven.battery_level, seven.margin, seven.external_power) == (80.0, 9, False)
        assert seven.last_seen_at == AT
        assert reloaded.get("0000000000000010").rssi == -50 - 16 % 60
        reloaded.save(103.0)
    finally:
        store.close()


def test_a_failed_background_save_keeps_the_rows_for_the_next(tmp_path: Path) -> None:
    store, tracker = _tracker(tmp_path)
    try:
        tracker.uplink("00000000000000aa", at=AT, rssi=-60, snr=1.0, f_cnt=1, dr=0)
        with sqlite3.connect(store.path) as db:
            db.execute("ALTER TABLE device_status RENAME TO device_status_away")
        assert tracker.save_due(0.0)
        saving = tracker._saving
        assert saving is not None
        assert saving.exception() is not None  # no such table
        with sqlite3.connect(store.path) as db:
            db.execute("ALTER TABLE device_status_away RENAME TO device_status")
        # The next round (after the interval) saves the row that failed.
        assert tracker.save_due(status_module.SAVE_INTERVAL_S + 1)
        tracker.save(status_module.SAVE_INTERVAL_S + 2)
        assert _rows(store) == 1
    finally:
        store.close()


def test_only_unsaved_changes_are_in_memory_and_reads_merge_them(tmp_path: Path) -> None:
    store, tracker = _tracker(tmp_path)
    try:
        tracker.battery("0000000000000001", level=55.0, margin=4, external_power=True)
        assert tracker.save_due(0.0)
        tracker.save(1.0)
        assert tracker._pending == {} and tracker._in_flight == {}
        tracker = StatusTracker(Repository(store.connection), database=store.path)
        # An uplink later: read back, the battery from disk and the signal from memory.
        tracker.uplink("0000000000000001", at=AT, rssi=-70, snr=-2.5, f_cnt=12, dr=1)
        status = tracker.get("0000000000000001")
        assert (status.battery_level, status.margin, status.external_power) == (55.0, 4, True)
        assert (status.rssi, status.snr, status.f_cnt_up, status.last_seen_at) == (
            -70,
            -2.5,
            12,
            AT,
        )
        assert tracker.get("00000000000000ff") == DeviceStatus()  # never seen
        assert tracker.save_due(2.0)  # the first save of this tracker
        saving = tracker._saving
        assert saving is not None
        saving.result()
        # Within the interval, many changed devices start a save all the same.
        tracker.uplink("0000000000000002", at=AT, rssi=-80, snr=0.0, f_cnt=1, dr=0)
        assert not tracker.save_due(3.0)
        for n in range(status_module.MAX_PENDING):
            tracker.uplink(f"{n + 16:016x}", at=AT, rssi=-80, snr=0.0, f_cnt=n, dr=0)
        assert tracker.save_due(4.0)
        tracker.save(5.0)
        assert _rows(store) == status_module.MAX_PENDING + 2
        merged = StatusTracker(Repository(store.connection)).get("0000000000000001")
        assert (merged.battery_level, merged.rssi, merged.f_cnt_up) == (55.0, -70, 12)
    finally:
        store.close()


def test_a_forgotten_device_loses_its_unsaved_changes(tmp_path: Path) -> None:
    store, tracker = _tracker(tmp_path)
    try:
        tracker.uplink("00000000000000bb", at=AT, rssi=-60, snr=1.0, f_cnt=1, dr=0)
        tracker.forget("00000000000000bb")
        assert not tracker.save_due(0.0)
        tracker.save(1.0)
        assert _rows(store) == 0
    finally:
        store.close()
