"""The answer to a data uplink leaves only once both counters it depends on are durable: in
the same write as the uplink's, also when the application gets a moment to add a reply first
(the answer's counter is reserved in that write); in a second write when the reply the
application added needs another counter (LoRaWAN 1.1 AFCntDown)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.lorawan.identifiers import EUI64, DevAddr
from appliance.ns import session_codec
from appliance.ns.downlink.data import QueueItem
from appliance.ns.events import NSEvent
from appliance.ns.pipeline import Pipeline
from appliance.ns.profile import MACVersion
from appliance.ns.secrets import SecretBox
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.store_tuning import StoreTuning
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import DownlinkFrame, DownlinkTxAck, TxAckStatus
from tests.ns.class_a import (
    DEV1,
    KEYS_1_0,
    KEYS_1_1,
    NOW,
    PROFILE_1_0,
    PROFILE_1_1,
    SETTINGS,
    FakeClock,
    Uplink,
    data_up,
    deduplicated,
    device,
    session,
)


def _durable_session(directory: Path) -> DeviceSession:
    """What another process would read from the database file right now."""
    with contextlib.closing(sqlite3.connect(directory / "appliance.db")) as db:
        (sealed,) = db.execute("SELECT session FROM sessions").fetchone()
    plain = SecretBox.open_or_create(directory).unseal(sealed, f"session:{DEV1}")
    return session_codec.decode_session(plain)


@pytest.mark.parametrize(("wait_ms", "writes"), [(0, 1), (1, 1)])
async def test_a_confirmed_uplink_is_answered_after_both_counters_are_durable(
    tmp_path: Path, wait_ms: int, writes: int
) -> None:
    store = SQLiteStore.open(tmp_path)
    await store.add_profile(PROFILE_1_0)
    stored = session()
    await store.add_device(device(stored_session=stored))
    events: list[NSEvent] = []
    seen: list[tuple[DeviceSession, int, list[NSEvent]]] = []

    async def gateway(frame: DownlinkFrame) -> DownlinkTxAck:
        seen.append((_durable_session(tmp_path), store.stats.commits, list(events)))
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (TxAckStatus.OK,))

    settings = replace(SETTINGS, downlink_wait_ms=wait_ms)
    clock = FakeClock()
    pipeline = Pipeline(settings, store, gateway, events.append, clock, random.Random(1))
    commits = store.stats.commits
    try:
        step = Uplink(data_up(stored.f_cnt_up, confirmed=True), after_ns=0)
        await pipeline.handle(deduplicated(step, NOW))
        ((durable, commits_then, events_then),) = seen
        assert durable.f_cnt_up == stored.f_cnt_up + 1  # the uplink's counter
        assert durable.n_f_cnt_down == stored.n_f_cnt_down + 1  # the ACK's counter
        assert commits_then - commits == writes
        assert [type(e) for e in events_then] == [UplinkEvent]  # events after durability
    finally:
        await store.aclose()


async def test_under_load_a_confirmed_uplink_is_not_held_by_the_relaxed_commit_interval(
    tmp_path: Path,
) -> None:
    """A confirmed uplink's first write has a downlink behind it (the ACK, after the
    application's moment): its batch waits ``commit_interval_s`` at most, never
    ``relaxed_commit_interval_s``, even when a commit has just been made."""
    tuning = StoreTuning(commit_interval_s=0.01, relaxed_commit_interval_s=60.0)
    store = SQLiteStore.open(tmp_path, tuning)
    await store.add_profile(PROFILE_1_0)
    stored = session()
    await store.add_device(device(stored_session=stored))
    other_addr = DevAddr(0x2600_0FFF)
    other = session(dev_addr=other_addr)
    await store.add_device(device(EUI64(0xEE), stored_session=other))
    answered: list[DownlinkFrame] = []

    async def gateway(frame: DownlinkFrame) -> DownlinkTxAck:
        answered.append(frame)
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (TxAckStatus.OK,))

    settings = replace(SETTINGS, downlink_wait_ms=1)
    pipeline = Pipeline(settings, store, gateway, [].append, FakeClock(), random.Random(1))
    try:
        # Another device's unconfirmed uplink just committed: "steady load".
        first = Uplink(data_up(other.f_cnt_up, dev_addr=other_addr), after_ns=0)
        await pipeline.handle(deduplicated(first, NOW))
        second = Uplink(data_up(stored.f_cnt_up + 1, confirmed=True), after_ns=0)
        await asyncio.wait_for(pipeline.handle(deduplicated(second, NOW)), timeout=10)
        assert len(answered) == 1
    finally:
        await store.aclose()


async def test_the_applications_moment_counts_from_the_uplinks_acceptance(tmp_path: Path) -> None:
    """The downlink wait starts when the uplink is accepted, so the time its session takes to
    become durable (up to the relaxed commit interval) is spent inside the moment, not added
    to it: a clock that has passed the moment by the time the uplink event is out sends the
    ACK (in RX2) without waiting again."""
    store = SQLiteStore.open(tmp_path, StoreTuning(commit_interval_s=0.001))
    await store.add_profile(PROFILE_1_0)
    stored = session()
    await store.add_device(device(stored_session=stored))
    clock = FakeClock()
    answered: list[DownlinkFrame] = []

    async def gateway(frame: DownlinkFrame) -> DownlinkTxAck:
        answered.append(frame)
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (TxAckStatus.OK,))

    def emit(event: NSEvent) -> None:
        if isinstance(event, UplinkEvent):
            clock.now += 1_500_000_000  # the commit "took" the whole moment

    settings = replace(SETTINGS, downlink_wait_ms=1_500)
    pipeline = Pipeline(settings, store, gateway, emit, clock, random.Random(1))
    try:
        confirmed = Uplink(data_up(stored.f_cnt_up + 1, confirmed=True), after_ns=0)
        started = time.monotonic()
        await asyncio.wait_for(pipeline.handle(deduplicated(confirmed, NOW)), timeout=10)
        assert time.monotonic() - started < 1.0  # not another 1.5 s of real waiting
        assert len(answered) == 1
    finally:
        await store.aclose()


@pytest.mark.parametrize("version", [MACVersion.LORAWAN_1_0_3, MACVersion.LORAWAN_1_1_0])
async def test_a_reply_added_in_the_moment_leaves_after_its_counter_is_durable(
    tmp_path: Path, version: MACVersion
) -> None:
    """The application enqueues a reply while the network waits: a LoRaWAN 1.0 reply uses the
    counter reserved with the uplink; a 1.1 reply (FPort > 0) uses AFCntDown, stored in a
    write of its own before the frame leaves."""
    store = SQLiteStore.open(tmp_path)
    profile = PROFILE_1_1 if version.is_1_1 else PROFILE_1_0
    await store.add_profile(profile)
    stored = session(version)
    await store.add_device(device(profile=profile, stored_session=stored))
    seen: list[DeviceSession] = []
    replies: list[asyncio.Task[None]] = []

    async def gateway(frame: DownlinkFrame) -> DownlinkTxAck:
        seen.append(_durable_session(tmp_path))
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (TxAckStatus.OK,))

    def emit(event: NSEvent) -> None:
        if isinstance(event, UplinkEvent):
            item = QueueItem(uuid.uuid4(), 7, b"\x01", False)
            replies.append(asyncio.get_running_loop().create_task(store.enqueue(DEV1, item)))

    settings = replace(SETTINGS, downlink_wait_ms=300)
    pipeline = Pipeline(settings, store, gateway, emit, FakeClock(), random.Random(1))
    try:
        keys = KEYS_1_1 if version.is_1_1 else KEYS_1_0
        step = Uplink(data_up(stored.f_cnt_up, confirmed=True, keys=keys), after_ns=0)
        await pipeline.handle(deduplicated(step, NOW))
        await asyncio.gather(*replies)
        (durable,) = seen
        if version.is_1_1:
            assert durable.a_f_cnt_down == stored.a_f_cnt_down + 1  # the reply's own counter
        else:
            assert durable.n_f_cnt_down == stored.n_f_cnt_down + 1  # reserved with the uplink
        assert (await store.next_queue_item(DEV1, NOW)) == (None, False)  # the reply went
    finally:
        await store.aclose()
