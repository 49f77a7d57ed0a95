"""Group commits: concurrent session saves share transactions, reads see pending updates."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.device import Device
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import DuplicateError, SQLiteStore
from appliance.ns.store_tuning import StoreTuning


def _session(dev_addr: int, f_cnt_up: int) -> DeviceSession:
    keys = SessionKeys.for_1_0(AESKey(dev_addr), AESKey(dev_addr + 1))
    return DeviceSession(
        DevAddr(dev_addr),
        keys,
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        f_cnt_up=f_cnt_up,
    )


async def test_concurrent_saves_share_commits_and_all_become_durable(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    profile = DeviceProfile("p", "EU868")
    await store.add_profile(profile)
    for n in range(1, 201):
        await store.add_device(Device(EUI64(n), EUI64(0), "d", profile.id, uuid.uuid4()))
    await asyncio.gather(*(store.save_session(EUI64(n), _session(n, n)) for n in range(1, 201)))
    committed = store._sessions.stats
    assert committed.rows_written == 200
    assert committed.commits < 20  # 200 updates, a handful of fsyncs
    await store.aclose()
    reopened = SQLiteStore.open(tmp_path)
    try:
        for n in (1, 100, 200):
            device = await reopened.device(EUI64(n))
            assert device is not None and device.session is not None
            assert device.session.f_cnt_up == n
    finally:
        reopened.close()


async def test_reads_see_updates_waiting_for_their_commit(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    profile = DeviceProfile("p", "EU868")
    await store.add_profile(profile)
    await store.add_device(Device(EUI64(1), EUI64(0), "d", profile.id, uuid.uuid4()))
    await store.save_session(EUI64(1), _session(0x100, 1))
    save = asyncio.ensure_future(store.save_session(EUI64(1), _session(0x200, 2)))
    await asyncio.sleep(0)  # queued, not yet written
    assert [s.f_cnt_up for _, s in await store.sessions_by_dev_addr(DevAddr(0x200))] == [2]
    assert await store.sessions_by_dev_addr(DevAddr(0x100)) == []  # it moved
    device = await store.device(EUI64(1))
    assert device is not None and device.session is not None and device.session.f_cnt_up == 2
    await save
    assert [s.f_cnt_up for _, s in await store.sessions_by_dev_addr(DevAddr(0x200))] == [2]
    await store.aclose()


async def _store(tmp_path: Path, devices: int, tuning: StoreTuning | None = None) -> SQLiteStore:
    store = SQLiteStore.open(tmp_path, tuning)
    profile = DeviceProfile("p", "EU868")
    await store.add_profile(profile)
    await store.add_devices(
        Device(EUI64(n), EUI64(0), "d", profile.id, uuid.uuid4()) for n in range(1, devices + 1)
    )
    return store


async def test_a_device_saved_twice_before_its_commit_is_written_once(tmp_path: Path) -> None:
    store = await _store(tmp_path, 1)
    await asyncio.gather(
        store.save_session(EUI64(1), _session(1, 1)), store.save_session(EUI64(1), _session(1, 2))
    )
    assert store._sessions.stats.rows_written == 1
    await store.aclose()
    reopened = SQLiteStore.open(tmp_path)
    device = await reopened.device(EUI64(1))
    assert device is not None and device.session is not None and device.session.f_cnt_up == 2
    reopened.close()


async def test_under_steady_load_commits_wait_for_the_interval(tmp_path: Path) -> None:
    store = await _store(tmp_path, 11, StoreTuning(commit_interval_s=0.05))
    first = asyncio.ensure_future(store.save_session(EUI64(1), _session(1, 1)))
    later = []
    for n in range(2, 12):
        for _ in range(3):  # updates arriving one by one while the first is written
            await asyncio.sleep(0)
        later.append(asyncio.ensure_future(store.save_session(EUI64(n), _session(n, n))))
    await asyncio.gather(first, *later)
    assert store._sessions.stats.commits == 2  # the first alone, the ten others together
    await store.aclose()


async def test_checkpoints_follow_the_written_rows(tmp_path: Path) -> None:
    store = await _store(tmp_path, 300, StoreTuning(checkpoint_wal_bytes=1))  # 100 rows
    for start in range(1, 301, 50):
        await asyncio.gather(
            *(store.save_session(EUI64(n), _session(n, n)) for n in range(start, start + 50))
        )
        await store._sessions.idle()  # checkpoints run beside the commits
    assert store.stats.checkpoints == 3
    await store.aclose()


async def test_devices_added_together_are_added_all_or_none(tmp_path: Path) -> None:
    store = await _store(tmp_path, 2)
    profile = DeviceProfile("q", "EU868")
    await store.add_profile(profile)
    with pytest.raises(DuplicateError, match="device 0000000000000002 exists already"):
        await store.add_devices(
            Device(EUI64(n), EUI64(0), "d", profile.id, uuid.uuid4(), session=_session(n, 0))
            for n in (3, 2)
        )
    assert await store.device(EUI64(3)) is None
    await store.aclose()


async def test_a_device_written_again_at_once_does_not_wait_for_the_interval(
    tmp_path: Path,
) -> None:
    # A flow answering an uplink saves the session, then again before its downlink leaves.
    store = await _store(tmp_path, 2, StoreTuning(commit_interval_s=30.0))
    await store.save_session(EUI64(1), _session(1, 1))
    await asyncio.wait_for(store.save_session(EUI64(1), _session(1, 2)), timeout=5)
    assert store._sessions.stats.commits == 2
    await store.aclose()


async def test_writes_no_downlink_waits_for_take_the_relaxed_interval_until_one_does(
    tmp_path: Path,
) -> None:
    tuning = StoreTuning(commit_interval_s=0.05, relaxed_commit_interval_s=30.0)
    store = await _store(tmp_path, 3, tuning)
    await store.save_session(EUI64(1), _session(1, 1), urgent=False)  # idle: at once
    relaxed = asyncio.ensure_future(store.save_session(EUI64(2), _session(2, 2), urgent=False))
    await asyncio.sleep(0.2)
    assert not relaxed.done()  # waits for the relaxed interval (30 s)
    assert store._sessions.stats.commits == 1
    # A write with a downlink behind it: the batch waits commit_interval_s at most, and the
    # waiting write goes with it.
    await asyncio.wait_for(store.save_session(EUI64(3), _session(3, 3)), timeout=5)
    await asyncio.wait_for(relaxed, timeout=1)
    assert store._sessions.stats.commits == 2
    await store.aclose()
