"""The network server's SQLite store on a real file: records, secrets at rest, durability."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns import session_codec
from appliance.ns.device import Device, RootKeys
from appliance.ns.downlink.data import QueueItem
from appliance.ns.migrations import migrate
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.secrets import SecretBox
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import DuplicateError, SQLiteStore, StoreError
from appliance.ns.uplink.join import DevNonceHistory

ROOT = Path(__file__).resolve().parents[2]
APP_KEY = AESKey("2b7e151628aed2a6abf7158809cf4f3c")
NWK_S_KEY = AESKey("0f0e0d0c0b0a09080706050403020100")


def _session(dev_addr: str = "26011bda") -> DeviceSession:
    return DeviceSession(
        DevAddr(dev_addr),
        SessionKeys.for_1_0(NWK_S_KEY, AESKey(bytes(16))),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        f_cnt_up=7,
    )


async def _store_with_device(tmp_path: Path, dev_eui: int = 1) -> tuple[SQLiteStore, Device]:
    store = SQLiteStore.open(tmp_path)
    profile = DeviceProfile("p", "EU868")
    await store.add_profile(profile)
    device = Device(EUI64(dev_eui), EUI64(99), "d", profile.id, uuid.uuid4(), RootKeys(APP_KEY))
    await store.add_device(device)
    return store, device


async def test_records_round_trip(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    try:
        loaded = await store.device(device.dev_eui)
        assert loaded == device
        profile = await store.profile(device.profile_id)
        assert profile is not None and profile.id == device.profile_id
        session = _session()
        await store.save_session(device.dev_eui, session)
        assert await store.sessions_by_dev_addr(DevAddr("26011bda")) == [(device.dev_eui, session)]
        assert await store.sessions_by_dev_addr(DevAddr("26011bdb")) == []
        with pytest.raises(DuplicateError, match="exists already"):
            await store.add_device(device)
    finally:
        store.close()


async def test_keys_are_encrypted_and_bound_to_their_device(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    other = Device(EUI64(2), EUI64(99), "e", device.profile_id, uuid.uuid4(), RootKeys(APP_KEY))
    await store.add_device(other)
    await store.save_session(device.dev_eui, _session())
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("appliance.db*"))
    for key in (APP_KEY, NWK_S_KEY):
        assert bytes(key) not in raw
        assert str(key).encode() not in raw
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    # Copy device 1's session onto device 2: it must not decrypt there.
    with sqlite3.connect(tmp_path / "appliance.db") as db:
        db.execute(
            "INSERT INTO sessions SELECT ?, session FROM sessions WHERE dev_eui = ?",
            (str(EUI64(2)), str(EUI64(1))),
        )
        db.execute("UPDATE devices SET dev_addr = '26011bda' WHERE dev_eui = ?", (str(EUI64(2)),))
    db.close()
    reopened = SQLiteStore.open(tmp_path)
    try:
        with pytest.raises(StoreError, match="cannot decrypt"):
            await reopened.device(EUI64(2))
    finally:
        reopened.close()


async def test_key_file_rules(tmp_path: Path) -> None:
    store, _ = await _store_with_device(tmp_path)
    store.close()
    key_file = tmp_path / "secret.key"
    key_file.chmod(0o644)
    with pytest.raises(StoreError, match="readable by others"):
        SQLiteStore.open(tmp_path)
    key_file.unlink()
    with pytest.raises(StoreError, match="missing"):
        SQLiteStore.open(tmp_path)


async def test_nonces_and_activation(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    try:
        dev_eui = device.dev_eui
        assert await store.dev_nonce_history(dev_eui, 5) == DevNonceHistory(None, False)
        assert [await store.next_join_nonce(dev_eui) for _ in range(3)] == [0, 1, 2]
        await store.activate(dev_eui, _session(), dev_nonce=5, join_nonce=2)
        assert await store.dev_nonce_history(dev_eui, 5) == DevNonceHistory(5, True)
        assert await store.dev_nonce_history(dev_eui, 6) == DevNonceHistory(5, False)
    finally:
        store.close()


async def test_queue_fifo_confirmed_and_expiry(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    dev = device.dev_eui
    try:
        first = QueueItem(uuid.uuid4(), 1, b"a", confirmed=True)
        second = QueueItem(uuid.uuid4(), 2, b"b")
        stale = QueueItem(uuid.uuid4(), 3, b"c")
        await store.enqueue(dev, first)
        await store.enqueue(dev, stale, expires_at_ns=10)
        await store.enqueue(dev, second)
        assert await store.next_queue_item(dev, now_ns=100) == (first, True)
        assert await store.queue(dev) == [first, second]  # the expired one is gone
        await store.queue_item_sent(dev, first.id, f_cnt_down=4, confirmed=True)
        assert await store.next_queue_item(dev, now_ns=100) == (second, False)
        assert await store.queue_item_acknowledged(dev, 4) == first.id
        assert await store.queue_item_acknowledged(dev, 4) is None
        await store.queue_item_sent(dev, second.id, f_cnt_down=5, confirmed=False)
        assert await store.queue(dev) == []
    finally:
        store.close()


async def test_damaged_or_newer_databases_are_refused(tmp_path: Path) -> None:
    store, _ = await _store_with_device(tmp_path)
    store.close()
    for leftover in tmp_path.glob("appliance.db-*"):
        leftover.unlink()
    (tmp_path / "appliance.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable database"):
        SQLiteStore.open(tmp_path)
    newer = tmp_path / "newer"
    newer.mkdir()
    store, _ = await _store_with_device(newer)
    store.close()
    with sqlite3.connect(newer / "appliance.db") as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StoreError, match="newer version"):
        SQLiteStore.open(newer)


_WRITER = """
import asyncio, sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from appliance.lorawan.identifiers import EUI64
from appliance.ns.sqlite_store import SQLiteStore
from tests.ns.test_sqlite_store import _session

async def main():
    store = SQLiteStore.open(Path(sys.argv[1]))
    session = _session()
    for f_cnt in range(1, 10**6):
        session.f_cnt_up = f_cnt
        await store.save_session(EUI64(1), session)
        print(f_cnt, flush=True)

asyncio.run(main())
"""


async def test_a_counter_reported_durable_survives_kill_9(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    store.close()
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as writer:
        assert writer.stdout is not None
        last = 0
        for line in writer.stdout:
            last = int(line)
            if last >= 50:
                break
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    reopened = SQLiteStore.open(tmp_path)
    try:
        stored = await reopened.device(device.dev_eui)
        assert stored is not None and stored.session is not None
        assert stored.session.f_cnt_up >= last
    finally:
        reopened.close()


async def test_a_session_read_and_not_saved_is_not_seen_by_the_next_reader(
    tmp_path: Path,
) -> None:
    store, device = await _store_with_device(tmp_path)
    try:
        await store.save_session(device.dev_eui, _session())
        ((_, read),) = await store.sessions_by_dev_addr(DevAddr("26011bda"))
        read.f_cnt_up = 99  # a flow that failed half-way: never saved
        ((_, again),) = await store.sessions_by_dev_addr(DevAddr("26011bda"))
        assert again.f_cnt_up == 7
        again.f_cnt_up = 8
        await store.save_session(device.dev_eui, again)
        ((_, saved),) = await store.sessions_by_dev_addr(DevAddr("26011bda"))
        assert saved.f_cnt_up == 8
        assert store.stats.session_cache_hits >= 1
    finally:
        await store.aclose()


async def test_management_writes_are_not_hidden_by_the_caches(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    try:
        await store.save_session(device.dev_eui, _session())
        settings = await store.device_settings(device.dev_eui)
        assert settings is not None and settings.enabled
        device.enabled = False
        await store.update_device(device)
        settings = await store.device_settings(device.dev_eui)
        assert settings is not None and not settings.enabled
        await store.deactivate(device.dev_eui)
        assert await store.sessions_by_dev_addr(DevAddr("26011bda")) == []
        loaded = await store.device(device.dev_eui)
        assert loaded is not None and loaded.session is None
        await store.save_session(device.dev_eui, _session())
        await store.delete_device(device.dev_eui)
        assert await store.device_settings(device.dev_eui) is None
        assert await store.sessions_by_dev_addr(DevAddr("26011bda")) == []
        # A session saved for a device that is gone does not bring it back.
        await store.save_session(device.dev_eui, _session())
        assert store.connection.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    finally:
        await store.aclose()


@pytest.mark.parametrize(
    "written_by_earlier_versions",
    [
        lambda data: json.dumps(data).encode(),
        lambda data: session_codec.encode(data, deflate=False),
        lambda data: session_codec.encode(data, deflate=True),
    ],
    ids=["json", "msgpack", "msgpack-deflated"],
)
async def test_sessions_stored_by_earlier_versions_are_read(
    tmp_path: Path, written_by_earlier_versions: Callable[[dict[str, Any]], bytes]
) -> None:
    store, device = await _store_with_device(tmp_path)
    store.close()
    secrets = SecretBox.open_or_create(tmp_path)
    old = written_by_earlier_versions(_session().to_dict())
    with contextlib.closing(sqlite3.connect(tmp_path / "appliance.db")) as db, db:
        db.execute(
            "INSERT INTO sessions VALUES (?, ?)",
            (str(device.dev_eui), secrets.seal(old, f"session:{device.dev_eui}")),
        )
        db.execute("UPDATE devices SET dev_addr = '26011bda'")
    store = SQLiteStore.open(tmp_path)
    try:
        ((dev_eui, session),) = await store.sessions_by_dev_addr(DevAddr("26011bda"))
        assert dev_eui == device.dev_eui and session == _session()
        session.f_cnt_up += 1
        await store.save_session(dev_eui, session)
        sealed = store.connection.execute("SELECT session FROM sessions").fetchone()[0]
        plain = secrets.unseal(sealed, f"session:{dev_eui}")
        assert plain[0] == session_codec.RECORD
        assert session_codec.decode_session(plain) == session
    finally:
        await store.aclose()


async def test_new_databases_get_small_pages_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    store, _ = await _store_with_device(tmp_path)
    assert store.connection.execute("PRAGMA page_size").fetchone()[0] == 512
    store.close()
    old = tmp_path / "old"
    old.mkdir()
    with contextlib.closing(sqlite3.connect(old / "appliance.db", isolation_level=None)) as db:
        db.execute("PRAGMA page_size=4096")
        db.execute("PRAGMA journal_mode=WAL")
        migrate(db, 0, 2)
    store, device = await _store_with_device(old)
    try:
        assert store.connection.execute("PRAGMA page_size").fetchone()[0] == 4096
        await store.save_session(device.dev_eui, _session())
        assert await store.sessions_by_dev_addr(DevAddr("26011bda")) == [
            (device.dev_eui, _session())
        ]
    finally:
        await store.aclose()


async def test_join_nonces_are_never_handed_out_twice(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    try:
        nonces = await asyncio.gather(*(store.next_join_nonce(device.dev_eui) for _ in range(5)))
        assert sorted(nonces) == [0, 1, 2, 3, 4]
    finally:
        await store.aclose()
    reopened = SQLiteStore.open(tmp_path)
    try:
        assert await reopened.next_join_nonce(device.dev_eui) == 5
        with pytest.raises(StoreError, match="no device"):
            await reopened.next_join_nonce(EUI64(0xDEAD))
    finally:
        await reopened.aclose()


async def test_a_failed_commit_leaves_the_durable_session(tmp_path: Path) -> None:
    store, device = await _store_with_device(tmp_path)
    try:
        await store.save_session(device.dev_eui, _session())
        with contextlib.closing(sqlite3.connect(tmp_path / "appliance.db")) as db:
            db.execute("ALTER TABLE sessions RENAME TO hidden")
        newer = _session()
        newer.f_cnt_up = 50
        with pytest.raises(sqlite3.OperationalError):
            await store.save_session(device.dev_eui, newer)
        with contextlib.closing(sqlite3.connect(tmp_path / "appliance.db")) as db:
            db.execute("ALTER TABLE hidden RENAME TO sessions")
        ((_, session),) = await store.sessions_by_dev_addr(DevAddr("26011bda"))
        assert session.f_cnt_up == 7  # not the one that never became durable
    finally:
        await store.aclose()


_NONCE_WRITER = """
import asyncio, sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from appliance.lorawan.identifiers import EUI64
from appliance.ns.sqlite_store import SQLiteStore

async def main():
    store = SQLiteStore.open(Path(sys.argv[1]))
    while True:
        print(await store.next_join_nonce(EUI64(1)), flush=True)

asyncio.run(main())
"""


async def test_a_join_nonce_handed_out_is_never_handed_out_again_after_kill_9(
    tmp_path: Path,
) -> None:
    store, device = await _store_with_device(tmp_path)
    store.close()
    with subprocess.Popen(
        [sys.executable, "-c", _NONCE_WRITER, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None
        last = 0
        for line in writer.stdout:
            last = int(line)
            if last >= 30:
                break
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    reopened = SQLiteStore.open(tmp_path)
    try:
        assert await reopened.next_join_nonce(device.dev_eui) > last
    finally:
        await reopened.aclose()
