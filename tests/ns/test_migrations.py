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
