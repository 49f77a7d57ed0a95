"""End to end on a fake clock with two virtual gateways: a gateway that refuses a downlink
(here it cannot transmit on the region's frequencies) hands it to the next one, and the
confirmed-downlink timeout fires for a device that went quiet."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

from appliance.devicesim import OTAA, DeviceConfig, EndDevice, LoRaWANVersion
from appliance.lorawan.identifiers import EUI64, AESKey, NetID
from appliance.lorawan.regions import get_region
from appliance.ns.device import Device, RootKeys
from appliance.ns.downlink.data import QueueItem
from appliance.ns.events import NSEvent, TxAckEvent
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.server import NetworkServer
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from appliance.simulation.fleet import Fleet, SimulatedDevice
from hal.model import LoRaChannel, TxAckStatus
from hal.virtual_radio import (
    AirPacket,
    Position,
    VirtualConcentrator,
    VirtualConcentratorConfig,
    VirtualRadioBackend,
)

S = 1_000_000_000
MS = 1_000_000
EU868 = get_region("EU868")
APP_KEY = AESKey(bytes(range(16)))
JOIN_EUI = EUI64("70b3d57ed0000000")
NEAR, FAR = EUI64(0xB1), EUI64(0xB2)
CHANNELS = tuple(
    LoRaChannel(f, 125_000, (7, 8, 9, 10, 11, 12)) for f in (868_100_000, 868_300_000, 868_500_000)
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000 * S

    def __call__(self) -> int:
        return self.now


def _gateway(
    gateway: EUI64, clock: FakeClock, x_m: float, tx_range: tuple[int, int]
) -> VirtualRadioBackend:
    config = VirtualConcentratorConfig(
        gateway, CHANNELS, position=Position(x_m, 0), tx_frequency_range=tx_range
    )
    concentrator = VirtualConcentrator(config, boot_ns=0, rng=random.Random(int(gateway)))
    return VirtualRadioBackend(concentrator, clock=clock, stats_interval_s=3600)


async def test_a_gateway_that_cannot_transmit_hands_the_downlinks_to_the_next(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    # The nearer gateway hears the device best but its radio only covers 915 MHz.
    near = _gateway(NEAR, clock, 100, (902_000_000, 928_000_000))
    far = _gateway(FAR, clock, -600, (863_000_000, 870_000_000))
    store = SQLiteStore.open(tmp_path)
    profile = DeviceProfile(
        "sensors", "EU868", mac_version=MACVersion.LORAWAN_1_0_4, device_status_req_interval=0
    )
    await store.add_profile(profile)
    dev_eui = EUI64(0x51)
    await store.add_device(
        Device(dev_eui, JOIN_EUI, "sensor", profile.id, uuid.uuid4(), RootKeys(APP_KEY))
    )
    events: list[NSEvent] = []
    settings = NetworkSettings(
        net_id=NetID("000013"), downlink_wait_ms=0, confirmed_downlink_timeout_s=120
    )
    server = NetworkServer(
        settings, store, [near, far], emit=events.append, clock=clock, rng=random.Random(3)
    )
    config = DeviceConfig(
        dev_eui,
        OTAA(APP_KEY),
        JOIN_EUI,
        LoRaWANVersion.V1_0_4,
        "EU868",
        payload=b"\x07",
        uplink_interval_s=30,
        duty_cycle=False,
        adr=False,
    )
    device = EndDevice(config, rng=random.Random(5), now_ns=clock.now)
    fleet = Fleet(EU868, [SimulatedDevice(device, Position(150, 0))], keep_results=True)
    near.listen(fleet.hear)
    far.listen(fleet.hear)

    def air(packet: AirPacket) -> None:
        near.air(packet)
        far.air(packet)

    async def run_for(duration_ns: int) -> None:
        end = clock.now + duration_ns
        while clock.now < end:
            clock.now += 10 * MS
            fleet.step(clock.now, air)
            near.wake()
            far.wake()
            server.wake()
            for _ in range(8):
                await asyncio.sleep(0)
            await server.settle()

    await server.start()
    try:
        await run_for(8 * S)
        assert device.activated  # the join-accept came through the far gateway
        acks = [(e.gateway_id, e.status) for e in events if isinstance(e, TxAckEvent)]
        assert acks[:2] == [(NEAR, TxAckStatus.TX_FREQ), (FAR, TxAckStatus.OK)]
        assert near.concentrator.counters["tx_tx_freq"] == 2  # RX1, then RX2
        await store.enqueue(dev_eui, QueueItem(uuid.uuid4(), 3, b"\xab", confirmed=True))
        for _ in range(40):
            await run_for(1 * S)
            if any(r.payloads for _, r in fleet.results):
                break
        assert [r.payloads[0].data for _, r in fleet.results if r.payloads] == [b"\xab"]
        # The device goes quiet before it can acknowledge: the timeout says so.
        fleet.devices.clear()
        await run_for(121 * S)
        assert [e for e in events if isinstance(e, AckEvent)] == [
            AckEvent(dev_eui, 0, acknowledged=False)
        ]
        assert await store.queue(dev_eui) == []
        assert [e for e in events if isinstance(e, UplinkEvent)]
    finally:
        await server.stop()
        store.close()
