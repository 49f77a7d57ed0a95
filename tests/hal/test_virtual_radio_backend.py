"""The virtual radio behind the Backend interface, on the real event loop with a fake clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from appliance.lorawan.identifiers import EUI64
from hal.backend import Backend, BackendConfigError, create_backend
from hal.model import (
    BackendEvent,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    GatewayStats,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
)
from hal.virtual_radio import (
    AirPacket,
    Position,
    Transmission,
    VirtualConcentrator,
    VirtualConcentratorConfig,
    VirtualRadioBackend,
)

S = 1_000_000_000
GATEWAY = EUI64(0x42)
CHANNEL = LoRaChannel(868_100_000, 125_000, (7, 8, 9, 10, 11, 12))


class FakeClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


async def _next(events: AsyncIterator[BackendEvent]) -> BackendEvent:
    return await asyncio.wait_for(anext(events), timeout=5)


def _backend(clock: FakeClock, stats_interval_s: float = 3600) -> VirtualRadioBackend:
    config = VirtualConcentratorConfig(GATEWAY, (CHANNEL,))
    concentrator = VirtualConcentrator(config, boot_ns=0, rng=random.Random(0))
    return VirtualRadioBackend(concentrator, clock=clock, stats_interval_s=stats_interval_s)


async def test_uplink_downlink_round_trip() -> None:
    clock = FakeClock(10 * S)
    backend = _backend(clock)
    assert isinstance(backend, Backend)
    await backend.start()
    events = backend.events()
    try:
        assert await _next(events) == GatewayConnected(GATEWAY, "virtual", "virtual")
        packet = AirPacket(
            b"\x40" + bytes(15),
            868_100_000,
            LoRaModulation(125_000, 7),
            14,
            Position(500),
            clock.now,
        )
        backend.air(packet)
        clock.now = packet.end_ns
        backend.wake()
        uplink = await _next(events)
        assert isinstance(uplink, UplinkFrame)
        assert uplink.phy_payload == packet.phy_payload

        heard: asyncio.Queue[Transmission] = asyncio.Queue()
        stop_listening = backend.listen(heard.put_nowait)
        modulation = LoRaModulation(125_000, 7, polarization_inversion=True)
        item = DownlinkItem(
            b"\x60" + bytes(12),
            DownlinkTxInfo(868_100_000, 14, modulation, Delay(S), context=uplink.rx_info.context),
        )
        ack = await backend.send_downlink(DownlinkFrame(9, GATEWAY, (item,)))
        assert ack.items == (TxAckStatus.OK,)
        clock.now = packet.end_ns + S
        backend.wake()
        transmission = await asyncio.wait_for(heard.get(), timeout=5)
        assert transmission.downlink_id == 9
        assert transmission.phy_payload == item.phy_payload
        stop_listening()
    finally:
        await backend.stop()
    assert await _next(events) == GatewayDisconnected(GATEWAY, "virtual", "stopped")
    with pytest.raises(StopAsyncIteration):
        await anext(events)


async def test_statistics_and_reconfiguration() -> None:
    clock = FakeClock(0)
    backend = _backend(clock, stats_interval_s=30)
    await backend.start()
    events = backend.events()
    try:
        assert isinstance(await _next(events), GatewayConnected)
        clock.now = 31 * S
        backend.wake()
        stats = await _next(events)
        assert isinstance(stats, GatewayStats)
        assert stats.gateway_id == GATEWAY

        other = LoRaChannel(868_300_000, 125_000, (7,))
        await backend.configure(GatewayConfiguration(GATEWAY, "2", (other,)))
        assert backend.concentrator.config.channels == (other,)
    finally:
        await backend.stop()


def test_created_from_options_by_kind() -> None:
    import hal.virtual_radio  # noqa: F401, PLC0415 - importing registers the kind

    backend = create_backend("virtual", {"region": "US915", "sub_band": 2, "gateway_id": "01" * 8})
    assert isinstance(backend, VirtualRadioBackend)
    channels = backend.concentrator.config.channels
    assert [c.frequency for c in channels][:2] == [903_900_000, 904_100_000]
    assert len(channels) == 9
    eu = create_backend("virtual", {})
    assert isinstance(eu, VirtualRadioBackend)
    assert len(eu.concentrator.config.channels) == 8
    with pytest.raises(BackendConfigError, match="needs a sub-band"):
        create_backend("virtual", {"region": "US915"})
    with pytest.raises(BackendConfigError, match="unknown chip"):
        create_backend("virtual", {"chip": "sx9999"})
