"""The answer to a data uplink leaves only once both counters it depends on are durable: in
the same write as the uplink's when nothing is waited for, in a second one when the
application gets a moment to add a reply first."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.lorawan.identifiers import EUI64, DevAddr
from appliance.ns import session_codec
from appliance.ns.events import NSEvent
from appliance.ns.pipeline import Pipeline
from appliance.ns.secrets import SecretBox
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore, StoreTuning
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import DownlinkFrame, DownlinkTxAck, TxAckStatus
from tests.ns.class_a import (
    DEV1,
    NOW,
    PROFILE_1_0,
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


@pytest.mark.parametrize(("wait_ms", "writes"), [(0, 1), (1, 2)])
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
