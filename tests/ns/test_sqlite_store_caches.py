"""The store's shortcuts on the hot path give what the tables hold: the session lookup with a
cache that holds every session and with one that holds none, the queue check of devices with
nothing queued, shared settings values."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from dataclasses import replace
from pathlib import Path

from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.device import Device
from appliance.ns.downlink.data import QueueItem
from appliance.ns.group_commit import DeviceWrite
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.store_tuning import StoreTuning

SHARED = DevAddr("26000001")


def _session(dev_addr: DevAddr, f_cnt_up: int) -> DeviceSession:
    return DeviceSession(
        dev_addr,
        SessionKeys.for_1_0(AESKey(bytes(range(16))), AESKey(bytes(16))),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        f_cnt_up=f_cnt_up,
    )


async def _store(tmp_path: Path, tuning: StoreTuning) -> tuple[SQLiteStore, list[EUI64]]:
    store = SQLiteStore.open(tmp_path, tuning)
    profile = DeviceProfile("p", "EU868", id=uuid.UUID(int=1))
    await store.add_profile(profile)
    application = uuid.UUID(int=2)
    devices = [EUI64(n) for n in range(1, 5)]
    await store.add_devices(
        Device(
            dev_eui,
            EUI64(99),
            f"d{n}",
            profile.id,
            application,
            session=_session(SHARED if n < 3 else DevAddr(0x26000000 + n), n),
        )
        for n, dev_eui in enumerate(devices)
    )
    return store, devices


async def _lookups(store: SQLiteStore, devices: list[EUI64]) -> list[object]:
    """Sessions by DevAddr (saved back as the pipeline does) and the devices' settings."""
    seen: list[object] = []
    for _ in range(3):
        for addr in (SHARED, DevAddr(0x26000003), DevAddr(0x26000009)):
            found = await store.sessions_by_dev_addr(addr)
            seen.append(sorted((str(dev_eui), s.f_cnt_up) for dev_eui, s in found))
            for dev_eui, session in found:
                session.f_cnt_up += 1
                await store.save_session(dev_eui, session)
    for dev_eui in devices:
        settings = await store.device_settings(dev_eui)
        assert settings is not None
        seen.append((settings.name, settings.profile_id, settings.join_eui, settings.enabled))
    return seen


async def test_the_lookup_is_the_same_whether_sessions_are_cached_or_not(tmp_path: Path) -> None:
    (tmp_path / "warm").mkdir()
    (tmp_path / "cold").mkdir()
    warm, devices = await _store(tmp_path / "warm", StoreTuning())
    cold, _ = await _store(tmp_path / "cold", StoreTuning(cache_sessions=1))
    try:
        cold._miss_rate = 1.0  # as after many misses: one query for sessions and settings
        assert await _lookups(warm, devices) == await _lookups(cold, devices)
        assert cold._miss_rate > 0.5
        await cold.flush()
        # Written back by the cold store, read by a fresh one: the same counters.
        fresh = SQLiteStore.open(tmp_path / "cold")
        try:
            found = await fresh.sessions_by_dev_addr(SHARED)
            assert sorted(s.f_cnt_up for _, s in found) == [3, 4, 5]
        finally:
            fresh.close()
    finally:
        await warm.aclose()
        await cold.aclose()


async def test_settings_share_the_values_many_devices_have(tmp_path: Path) -> None:
    store, devices = await _store(tmp_path, StoreTuning())
    try:
        first, second = [await store.device_settings(dev_eui) for dev_eui in devices[:2]]
        assert first is not None and second is not None
        assert first.profile_id == second.profile_id and first.profile_id is second.profile_id
        assert first.join_eui is second.join_eui
        assert first.tags is not second.tags  # what a caller could change is its own
    finally:
        store.close()


async def test_queued_downlinks_are_found_however_they_were_queued(tmp_path: Path) -> None:
    store, devices = await _store(tmp_path, StoreTuning())
    item = QueueItem(uuid.uuid4(), 1, b"\x01")
    try:
        assert await store.next_queue_item(devices[0], 0) == (None, False)
        await store.enqueue(devices[0], item)
        assert await store.next_queue_item(devices[0], 0) == (item, False)
        await store.queue_item_sent(devices[0], item.id, f_cnt_down=1, confirmed=False)
        assert await store.next_queue_item(devices[0], 0) == (None, False)
        again = QueueItem(uuid.uuid4(), 2, b"\x02")
        await store.enqueue(devices[0], again)
        assert await store.next_queue_item(devices[0], 0) == (again, False)
    finally:
        store.close()
    # Queued before this store opened (by an earlier run): found too.
    with sqlite3.connect(tmp_path / "appliance.db") as db:
        db.execute(
            "INSERT INTO queue (id, dev_eui, f_port, data, confirmed) VALUES (?, ?, 3, x'03', 0)",
            (str(uuid.uuid4()), str(devices[1])),
        )
    db.close()
    reopened = SQLiteStore.open(tmp_path)
    try:
        next_item, more = await reopened.next_queue_item(devices[1], 0)
        assert next_item is not None and next_item.f_port == 3 and not more
        assert (await reopened.next_queue_item(devices[0], 0))[0] == again
    finally:
        reopened.close()


async def test_devices_by_dev_addr_follow_joins_additions_and_removals(tmp_path: Path) -> None:
    """The DevAddr -> devices answers are kept in memory (one query per uplink saved); every
    change of the devices table shows in the next lookup."""
    store, devices = await _store(tmp_path, StoreTuning())
    queries: list[str] = []
    store._db.set_trace_callback(queries.append)

    async def found(addr: DevAddr) -> list[str]:
        return sorted(str(dev_eui) for dev_eui, _ in await store.sessions_by_dev_addr(addr))

    async def saved_back(addr: DevAddr) -> None:
        for dev_eui, session in await store.sessions_by_dev_addr(addr):
            await store.save_session(dev_eui, session)

    try:
        foreign = DevAddr(0x01020304)  # another network's device heard by our gateways
        assert await found(SHARED) == [str(d) for d in devices[:3]]
        await saved_back(SHARED)
        assert await found(foreign) == []
        queries.clear()
        for _ in range(3):
            await saved_back(SHARED)
            assert await found(foreign) == []
        assert not [q for q in queries if "dev_addr = " in q]  # answered from memory
        # A join moves device 0 from SHARED to a new DevAddr.
        moved = DevAddr(0x26000100)
        await store.activate(devices[0], _session(moved, 0), dev_nonce=1, join_nonce=1)
        assert await found(moved) == [str(devices[0])]
        await store._sessions.flush()
        assert await found(moved) == [str(devices[0])]
        assert await found(SHARED) == [str(devices[1]), str(devices[2])]
        # A device added with the foreign DevAddr (known to have none), then removed.
        assert await found(foreign) == []
        profile_id, application = uuid.UUID(int=1), uuid.UUID(int=2)
        await store.add_devices(
            [
                Device(
                    EUI64(50),
                    EUI64(99),
                    "new",
                    profile_id,
                    application,
                    session=_session(foreign, 0),
                )
            ]
        )
        assert await found(foreign) == [str(EUI64(50))]
        await store.delete_device(EUI64(50))
        assert await found(foreign) == []
    finally:
        store.close()


async def test_a_lookup_while_a_move_is_being_written_is_not_remembered(tmp_path: Path) -> None:
    """The group committer writes in its thread while uplinks go on being looked up: an answer
    read from the table in the middle of a DevAddr move must not outlive the move."""
    store, devices = await _store(tmp_path, StoreTuning())
    committer = store._sessions
    writing, release = threading.Event(), threading.Event()
    write = committer._write

    def held_write(batch: dict[str, DeviceWrite]) -> None:
        writing.set()
        assert release.wait(10)
        write(batch)

    async def found(addr: DevAddr) -> list[str]:
        return sorted(str(dev_eui) for dev_eui, _ in await store.sessions_by_dev_addr(addr))

    try:
        assert await found(SHARED) == [str(d) for d in devices[:3]]  # remembered from here
        committer._write = held_write  # type: ignore[method-assign]
        moved = DevAddr(0x26000100)
        join = asyncio.create_task(
            store.activate(devices[0], _session(moved, 0), dev_nonce=1, join_nonce=1)
        )
        while not writing.is_set():
            await asyncio.sleep(0.001)
        assert committer.addr_moving
        # Asked mid-write, the table still has device 0 at SHARED.
        assert str(devices[0]) in await found(SHARED)
        release.set()
        await join
        assert not committer.addr_moving
        assert await found(SHARED) == [str(devices[1]), str(devices[2])]
        assert await found(moved) == [str(devices[0])]
    finally:
        release.set()
        store.close()


async def test_the_device_count_is_remembered_until_a_management_write(tmp_path: Path) -> None:
    """/metrics asks at every scrape; walking 100,000 devices each time stalls the radio."""
    store, devices = await _store(tmp_path, StoreTuning())
    queries: list[str] = []
    store._db.set_trace_callback(queries.append)

    def counts() -> int:
        return len([q for q in queries if "count(*) FROM devices" in q])

    try:
        assert await store.count_devices() == 4
        assert await store.count_devices() == 4
        assert counts() == 1
        profile_id, application = uuid.UUID(int=1), uuid.UUID(int=2)
        await store.add_device(Device(EUI64(60), EUI64(99), "new", profile_id, application))
        assert await store.count_devices() == 5
        await store.delete_device(devices[0])
        assert await store.count_devices() == 4
        settings = await store.device_settings(devices[1])
        assert settings is not None
        await store.update_device(replace(settings, name="renamed"))
        assert await store.count_devices() == 4
        assert counts() == 4  # once at first, then once after each write
    finally:
        store.close()


async def test_an_uplink_under_the_old_session_does_not_undo_an_activation(
    tmp_path: Path,
) -> None:
    """Joins are serialised per DevEUI, data uplinks per DevAddr: a join can store a new
    session while an uplink under the old one is still on its way to being saved."""
    store, devices = await _store(tmp_path, StoreTuning())
    joined = DevAddr(0x26000100)
    try:
        found = dict(await store.sessions_by_dev_addr(SHARED))
        old = found[devices[0]]  # an uplink under the old session is being processed
        await store.device(devices[0])  # the join reads the device
        await store.activate(devices[0], _session(joined, 0), dev_nonce=1, join_nonce=1)
        old.f_cnt_up += 1
        await store.save_session(devices[0], old)  # the uplink's saves come back: refused
        await store.save_session(devices[0], old, urgent=False)
        await store.flush()
        assert [str(e) for e, _ in await store.sessions_by_dev_addr(SHARED)] == [
            str(devices[1]),
            str(devices[2]),
        ]
        # The new session is handed out, used and saved as usual.
        [(dev_eui, new)] = await store.sessions_by_dev_addr(joined)
        assert dev_eui == devices[0]
        new.f_cnt_up = 7
        await store.save_session(dev_eui, new)
        # The other devices sharing the old DevAddr were not affected.
        other = dict(await store.sessions_by_dev_addr(SHARED))[devices[1]]
        other.f_cnt_up = 40
        await store.save_session(devices[1], other)
    finally:
        store.close()
    store = SQLiteStore.open(tmp_path)  # what is durable
    try:
        device = await store.device(devices[0])
        assert device is not None and device.session is not None
        assert (device.session.dev_addr, device.session.f_cnt_up) == (joined, 7)
        device = await store.device(devices[1])
        assert device is not None and device.session is not None
        assert device.session.f_cnt_up == 40
    finally:
        store.close()
