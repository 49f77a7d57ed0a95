"""Every earlier schema version, with data in it, migrates to the latest without loss."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from appliance.lorawan.identifiers import EUI64
from appliance.ns.device import Device
from appliance.ns.migrations import SCHEMA_VERSION, migrate
from appliance.ns.profile import DeviceProfile
from appliance.ns.sqlite_store import SQLiteStore

# Rows a database at version N can hold, written with the SQL of that version.
SAMPLE_ROWS: dict[int, list[tuple[str, tuple[object, ...]]]] = {
    1: [
        ("INSERT INTO profiles VALUES (?, ?)", ("p", "{}")),
        (
            "INSERT INTO devices (dev_eui, join_eui, data) VALUES (?, ?, ?)",
            ("0000000000000001", "0000000000000002", "{}"),
        ),
        (
            "INSERT INTO devices (dev_eui, join_eui, data, dev_addr, session) "
            "VALUES (?, ?, ?, ?, ?)",
            ("0000000000000003", "0000000000000002", "{}", "26000003", b"sealed session"),
        ),
        ("INSERT INTO dev_nonces VALUES (?, ?)", ("0000000000000001", 7)),
        (
            "INSERT INTO queue (id, dev_eui, f_port, data, confirmed) VALUES (?, ?, ?, ?, ?)",
            ("q", "0000000000000001", 1, b"x", 0),
        ),
    ],
    2: [
        (
            "INSERT INTO applications (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            ("a", "app", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ),
        (
            "INSERT INTO users (id, email, is_admin, password_hash, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ("u", "a@b.c", 1, "h", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ),
    ],
    3: [("INSERT INTO sessions VALUES (?, ?)", ("0000000000000001", b"session of 1"))],
    4: [],  # the session formats changed, not the tables
}


@pytest.mark.parametrize("start", range(SCHEMA_VERSION + 1))
def test_migrates_from_every_version(tmp_path: Path, start: int) -> None:
    path = tmp_path / "appliance.db"
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, 0, start)
    for version in range(1, start + 1):
        for sql, values in SAMPLE_ROWS[version]:
            db.execute(sql, values)
    migrate(db, start)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    if start >= 1:
        assert db.execute("SELECT nonce FROM dev_nonces").fetchall() == [(7,)]
        assert db.execute("SELECT data FROM queue").fetchall() == [(b"x",)]
    if start >= 2:
        assert db.execute("SELECT name FROM applications").fetchall() == [("app",)]
    sessions = dict(db.execute("SELECT dev_eui, session FROM sessions").fetchall())
    if 1 <= start < 3:
        # Version 3 moved the sessions out of the devices rows.
        assert sessions == {"0000000000000003": b"sealed session"}
        assert db.execute("SELECT count(*) FROM devices WHERE session IS NOT NULL").fetchone() == (
            0,
        )
    if start >= 3:
        assert sessions["0000000000000001"] == b"session of 1"
    db.close()


def test_sessions_follow_their_device(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "appliance.db", isolation_level=None)
    migrate(db, 0, 2)
    for dev_eui in ("01", "02"):
        db.execute(
            "INSERT INTO devices (dev_eui, join_eui, data, session) VALUES (?, '00', '{}', ?)",
            (dev_eui, b"s" + dev_eui.encode()),
        )
    migrate(db, 2)
    # What older code does to end a session (deactivation) or a device still works.
    db.execute("UPDATE devices SET dev_addr = NULL, session = NULL WHERE dev_eui = '01'")
    assert db.execute("SELECT dev_eui FROM sessions").fetchall() == [("02",)]
    db.execute("DELETE FROM devices WHERE dev_eui = '02'")
    assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
    # The lookup of every data uplink reads the index only.
    plan = db.execute("EXPLAIN QUERY PLAN SELECT dev_eui FROM devices WHERE dev_addr = 'x'")
    assert "COVERING INDEX devices_dev_addr_eui" in plan.fetchone()[3]
    db.close()


def test_every_version_has_sample_rows() -> None:
    assert set(SAMPLE_ROWS) == set(range(1, SCHEMA_VERSION + 1))


async def test_the_store_upgrades_an_older_database_it_opens(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "appliance.db", isolation_level=None)
    migrate(db, 0, SCHEMA_VERSION)
    db.close()
    store = SQLiteStore.open(tmp_path)
    try:
        profile = DeviceProfile("p", "EU868")
        await store.add_profile(profile)
        await store.add_device(Device(EUI64(1), EUI64(2), "d", profile.id, uuid.uuid4()))
        assert await store.device(EUI64(1)) is not None
    finally:
        store.close()
