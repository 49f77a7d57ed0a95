"""The network server as a service: start/stop with several backends, downlink routing."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from appliance.lorawan.identifiers import EUI64
from appliance.ns.events import NSEvent
from appliance.ns.network import NetworkSettings
from appliance.ns.server import NetworkServer
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.data_flow import AckEvent
from hal.backend import BackendError
from hal.model import (
    CRCStatus,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    Immediately,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.virtual_radio import VirtualConcentrator, VirtualConcentratorConfig, VirtualRadioBackend
from tests.ns.class_a import (
    DEV1,
    PROFILE_1_0,
    Uplink,
    data_up,
    deduplicated,
    device,
    queued,
    session,
)

CHANNEL = LoRaChannel(868_100_000, 125_000, (7,))


def _radio(gateway: int) -> VirtualRadioBackend:
    config = VirtualConcentratorConfig(EUI64(gateway), (CHANNEL,))
    return VirtualRadioBackend(
        VirtualConcentrator(config, boot_ns=0, rng=random.Random(0)), stats_interval_s=3600
    )


def _frame(gateway: int) -> DownlinkFrame:
    info = DownlinkTxInfo(
        868_100_000, 14, LoRaModulation(125_000, 7, polarization_inversion=True), Immediately()
    )
    return DownlinkFrame(1, EUI64(gateway), (DownlinkItem(b"\x60" * 12, info),))


class _Broken(VirtualRadioBackend):
    async def start(self) -> None:
        raise BackendError("port 1700 is in use")


async def test_downlinks_go_to_the_backend_of_their_gateway(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    first, second = _radio(1), _radio(2)
    events: list[NSEvent] = []
    server = NetworkServer(NetworkSettings(), store, [first, second], emit=events.append)
    await server.start()
    try:
        for _ in range(20):  # let the readers see both GatewayConnected events
            await asyncio.sleep(0)
        ack = await server._send(_frame(2))
        assert ack.items == (TxAckStatus.OK,)
        assert second.concentrator.counters["tx_ok"] == 1
        assert first.concentrator.counters["tx_ok"] == 0
        unknown = await server._send(_frame(3))
        assert unknown.items == (TxAckStatus.INTERNAL_ERROR,)
    finally:
        await server.stop()
        store.close()


async def test_a_backend_that_cannot_start_stops_the_ones_already_started(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    good = _radio(1)
    broken = _Broken(
        VirtualConcentrator(VirtualConcentratorConfig(EUI64(9), (CHANNEL,)), boot_ns=0)
    )
    server = NetworkServer(NetworkSettings(), store, [good, broken], emit=lambda event: None)
    try:
        with pytest.raises(BackendError, match="in use"):
            await server.start()
        assert good._task is None  # stopped again
    finally:
        store.close()


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000 * 10**9

    def __call__(self) -> int:
        return self.now


async def _sent_confirmed_downlink(store: SQLiteStore) -> None:
    """DEV1 (uplinks every hour) with confirmed downlink 5 sent and its ACK awaited."""
    await store.add_profile(PROFILE_1_0)
    await store.add_device(device(stored_session=session(conf_f_cnt=5)))
    entry = queued(confirmed=True)
    await store.enqueue(DEV1, entry.item)
    await store.queue_item_sent(DEV1, entry.item.id, f_cnt_down=5, confirmed=True)


async def _advance(server: NetworkServer, clock: _Clock, seconds: int) -> None:
    """Move the fake clock and let the server's timer task act on it."""
    clock.now += seconds * 10**9
    server.wake()
    for _ in range(5):
        await asyncio.sleep(0)
    await server.settle()


async def test_the_timer_task_reports_an_overdue_ack(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    await _sent_confirmed_downlink(store)
    clock = _Clock()
    events: list[NSEvent] = []
    server = NetworkServer(NetworkSettings(), store, [], emit=events.append, clock=clock)
    await server.start()
    try:
        server.pipeline.ack_timers.arm(DEV1, 5, clock.now + 60 * 10**9)
        await _advance(server, clock, 0)
        assert events == []
        await _advance(server, clock, 60)
        assert events == [AckEvent(DEV1, 5, acknowledged=False)]
        assert await store.queue(DEV1) == []
        assert server.metrics.ack_timeouts == 1
    finally:
        await server.stop()
        store.close()


async def test_a_restart_waits_again_for_acks_of_downlinks_sent_before_it(
    tmp_path: Path,
) -> None:
    """The ACK timers live in memory; a start finds the sent confirmed downlinks in the
    queue and waits a whole timeout again, so a silent device's downlink is still reported
    unacknowledged (and leaves the queue)."""
    store = SQLiteStore.open(tmp_path)
    await _sent_confirmed_downlink(store)  # uplinks every hour: a 2-hour timeout
    store.close()  # the appliance stops (or crashes) with the ACK still awaited

    store = SQLiteStore.open(tmp_path)
    clock = _Clock()
    events: list[NSEvent] = []
    server = NetworkServer(NetworkSettings(), store, [], emit=events.append, clock=clock)
    await server.start()
    try:
        assert server.pipeline.ack_timers.next_deadline_ns() == clock.now + 7200 * 10**9
        await _advance(server, clock, 7199)
        assert events == []
        await _advance(server, clock, 1)
        assert events == [AckEvent(DEV1, 5, acknowledged=False)]
        assert await store.queue(DEV1) == []
        assert server.metrics.ack_timeouts == 1
    finally:
        await server.stop()
        store.close()


async def test_frames_the_de_duplication_refuses_are_counted_with_the_others(
    tmp_path: Path,
) -> None:
    store = SQLiteStore.open(tmp_path)
    server = NetworkServer(NetworkSettings(), store, [], emit=lambda event: None)
    bad_crc = UplinkFrame(
        b"\x40" * 12,
        UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7)),
        UplinkRxInfo(EUI64(1), crc_status=CRCStatus.BAD_CRC),
    )
    assert not server.dedup.add(bad_crc, 0)
    assert server.metrics.dropped == {"crc_not_ok": 1}
    store.close()


async def test_a_failure_inside_the_pipeline_costs_one_uplink_not_the_server(
    tmp_path: Path,
) -> None:
    store = SQLiteStore.open(tmp_path)
    await store.add_profile(PROFILE_1_0)
    await store.add_device(device(stored_session=session()))
    server = NetworkServer(NetworkSettings(), store, [], emit=lambda event: None)
    store.close()  # the database goes away under the server's feet
    uplink = deduplicated(Uplink(data_up(10)), 0)
    await server._handle(uplink)
    assert server.metrics.dropped == {"internal_error": 1}
