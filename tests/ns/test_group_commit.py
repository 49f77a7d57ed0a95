"""Group commits: concurrent session saves share transactions, reads see pending updates."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.device import Device
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore


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
    committer = store._sessions
    assert committer.rows_written == 200
    assert committer.commits < 20  # 200 updates, a handful of fsyncs
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
