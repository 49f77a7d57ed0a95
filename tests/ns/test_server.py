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
from hal.backend import BackendError
from hal.model import (
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    Immediately,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
)
from hal.virtual_radio import VirtualConcentrator, VirtualConcentratorConfig, VirtualRadioBackend

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
