"""End to end on a fake clock: simulated devices -> virtual radio -> network server (SQLite)
-> downlinks back over the air to the devices."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.devicesim import ABP, OTAA, DeviceConfig, EndDevice, LoRaWANVersion
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.regions import get_region
from appliance.lorawan.security import SessionKeys
from appliance.ns import mac
from appliance.ns.activation import abp_session
from appliance.ns.device import Device, RootKeys
from appliance.ns.downlink.data import QueueItem
from appliance.ns.events import JoinEvent, LogEvent, NSEvent, TxAckEvent
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.server import NetworkServer
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.store import NSStore
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from appliance.simulation.fleet import Fleet, SimulatedDevice
from hal.model import LoRaChannel, TxAckStatus
from hal.virtual_radio import (
    Position,
    VirtualConcentrator,
    VirtualConcentratorConfig,
    VirtualRadioBackend,
)

S = 1_000_000_000
MS = 1_000_000
EU868 = get_region("EU868")
EXTRA = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)
APP_KEY = AESKey(bytes(range(16)))
NWK_KEY = AESKey(bytes(range(16, 32)))
JOIN_EUI = EUI64("70b3d57ed0000000")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000 * S

    def __call__(self) -> int:
        return self.now


@dataclass
class Site:
    clock: FakeClock
    store: SQLiteStore
    backend: VirtualRadioBackend
    server: NetworkServer
    fleet: Fleet
    events: list[NSEvent]
    profile: DeviceProfile

    async def run_for(self, duration_ns: int, step_ns: int = 10 * MS) -> None:
        end = self.clock.now + duration_ns
        while self.clock.now < end:
            self.clock.now += step_ns
            self.fleet.step(self.clock.now, self.backend.air)
            self.backend.wake()
            self.server.wake()
            for _ in range(8):
                await asyncio.sleep(0)
            await self.server.settle()
            for _ in range(4):
                await asyncio.sleep(0)

    async def add_device(
        self,
        number: int,
        version: LoRaWANVersion,
        *,
        confirmed: bool = False,
        distance_m: float = 800,
        profile: DeviceProfile | None = None,
    ) -> EndDevice:
        dev_eui = EUI64(number)
        lorawan_1_1 = version is LoRaWANVersion.V1_1
        nwk_key = NWK_KEY if lorawan_1_1 else None
        await self.store.add_device(
            Device(
                dev_eui,
                JOIN_EUI,
                f"sensor-{number}",
                (profile or self.profile).id,
                uuid.uuid4(),
                RootKeys(APP_KEY, nwk_key),
            )
        )
        config = DeviceConfig(
            dev_eui,
            OTAA(APP_KEY, nwk_key),
            JOIN_EUI,
            version,
            "EU868",
            confirmed=confirmed,
            payload=b"\x01\x02\x03",
            uplink_interval_s=20,
            duty_cycle=False,
        )
        device = EndDevice(config, rng=random.Random(number), now_ns=self.clock.now)
        self.fleet.devices.append(SimulatedDevice(device, Position(distance_m, 0)))
        return device


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    clock = FakeClock()
    channels = tuple(
        LoRaChannel(f, 125_000, (7, 8, 9, 10, 11, 12))
        for f in (868_100_000, 868_300_000, 868_500_000, *EXTRA)
    )
    concentrator = VirtualConcentrator(
        VirtualConcentratorConfig(
            EUI64(0xAA), channels, tx_frequency_range=(863_000_000, 870_000_000)
        ),
        boot_ns=0,
        rng=random.Random(0),
    )
    backend = VirtualRadioBackend(concentrator, clock=clock, stats_interval_s=3600)
    store = SQLiteStore.open(tmp_path)
    profile = DeviceProfile(
        "sensors", "EU868", mac_version=MACVersion.LORAWAN_1_0_3, device_status_req_interval=0
    )
    await store.add_profile(profile)
    events: list[NSEvent] = []
    settings = NetworkSettings(net_id=NetID("000013"), extra_channels=EXTRA, downlink_wait_ms=0)
    _: NSStore = store  # the SQLite store is a complete NSStore
    server = NetworkServer(
        settings, store, [backend], emit=events.append, clock=clock, rng=random.Random(7)
    )
    fleet = Fleet(EU868, [], keep_results=True)
    backend.listen(fleet.hear)
    await server.start()
    try:
        yield Site(clock, store, backend, server, fleet, events, profile)
    finally:
        await server.stop()
        store.close()


def _of(events: list[NSEvent], kind: type) -> list[object]:
    return [e for e in events if isinstance(e, kind)]


async def test_otaa_join_then_uplinks_reach_the_application(site: Site) -> None:
    device = await site.add_device(1, LoRaWANVersion.V1_0_3)
    await site.run_for(8 * S)
    (join_event,) = _of(site.events, JoinEvent)
    assert join_event.dev_eui == EUI64(1)  # type: ignore[attr-defined]
    assert device.activated
    assert device.session is not None
    assert device.session.dev_addr == join_event.dev_addr  # type: ignore[attr-defined]
    assert _of(site.events, TxAckEvent)[0].status is TxAckStatus.OK  # type: ignore[attr-defined]

    await site.run_for(45 * S)
    uplinks = _of(site.events, UplinkEvent)
    assert len(uplinks) >= 2
    assert all(u.data == b"\x01\x02\x03" for u in uplinks)  # type: ignore[attr-defined]
    assert [u.f_cnt for u in uplinks] == list(range(len(uplinks)))  # type: ignore[attr-defined]
    stored = await site.store.device(EUI64(1))
    assert stored is not None and stored.session is not None
    assert stored.session.f_cnt_up == len(uplinks)


async def test_confirmed_downlink_is_delivered_and_acknowledged(site: Site) -> None:
    device = await site.add_device(2, LoRaWANVersion.V1_0_4)
    await site.run_for(8 * S)
    assert device.activated
    item = QueueItem(uuid.uuid4(), 7, b"\xca\xfe", confirmed=True)
    await site.store.enqueue(EUI64(2), item)
    await site.run_for(50 * S)
    received = [r for _, r in site.fleet.results if r.payloads]
    assert received, site.fleet.counters
    assert received[0].payloads[0].data == b"\xca\xfe"
    assert received[0].payloads[0].f_port == 7
    acks = _of(site.events, AckEvent)
    assert acks and acks[0].acknowledged  # type: ignore[attr-defined]
    assert await site.store.queue(EUI64(2)) == []


async def test_several_devices_share_the_air(site: Site) -> None:
    # Six devices switched on at once collide on the three join channels; their randomised
    # retries get them all in within two minutes, as on a real site.
    for number in range(10, 16):
        await site.add_device(number, LoRaWANVersion.V1_0_3, distance_m=300 + 200 * number)
    await site.run_for(120 * S)
    assert site.backend.concentrator.counters["rx_lost_collision"] > 0
    joined = {e.dev_eui for e in _of(site.events, JoinEvent)}  # type: ignore[attr-defined]
    assert joined == {EUI64(n) for n in range(10, 16)}
    senders = {e.dev_eui for e in _of(site.events, UplinkEvent)}  # type: ignore[attr-defined]
    assert senders == joined


async def test_abp_device_is_heard_and_moved_to_the_network_channels(site: Site) -> None:
    dev_eui, dev_addr = EUI64(0x30), DevAddr.from_net_id(NetID("000013"), 0x30)
    keys = SessionKeys.for_1_0(AESKey(bytes([5]) * 16), AESKey(bytes([6]) * 16))
    device_record = Device(dev_eui, JOIN_EUI, "abp", site.profile.id, uuid.uuid4())
    await site.store.add_device(device_record)
    session = abp_session(
        device_record, site.profile, site.server.settings, dev_addr=dev_addr, keys=keys
    )
    await site.store.activate_abp(dev_eui, session)
    config = DeviceConfig(
        dev_eui,
        ABP(dev_addr, keys),
        JOIN_EUI,
        LoRaWANVersion.V1_0_3,
        "EU868",
        payload=b"abp",
        uplink_interval_s=20,
        duty_cycle=False,
    )
    device = EndDevice(config, rng=random.Random(3), now_ns=site.clock.now)
    site.fleet.devices.append(SimulatedDevice(device, Position(500, 0)))
    await site.run_for(90 * S)
    uplinks = [e for e in _of(site.events, UplinkEvent) if e.dev_eui == dev_eui]  # type: ignore[attr-defined]
    assert len(uplinks) >= 3
    assert all(u.data == b"abp" for u in uplinks)  # type: ignore[attr-defined]
    # NewChannelReq for the network's five extra channels reached the device.
    assert len(device.enabled_channels) == 8


async def test_lorawan_1_1_rejoin_rekeys_the_session(site: Site) -> None:
    profile = DeviceProfile(
        "1.1", "EU868", mac_version=MACVersion.LORAWAN_1_1_0, device_status_req_interval=0
    )
    await site.store.add_profile(profile)
    device = await site.add_device(0x40, LoRaWANVersion.V1_1, profile=profile)
    await site.run_for(30 * S)
    assert device.activated
    stored = await site.store.device(EUI64(0x40))
    assert stored is not None and stored.session is not None
    keys_seen = [stored.session.keys]
    # The network orders a type 2 rejoin (new keys, same radio settings), then a type 0 one:
    # the device restarts RJcount0 with each new session, and the network with it.
    for rejoin_type in (2, 0):
        session = stored.session
        mac.queue_request(
            session, mac.force_rejoin_request(session, EU868, rejoin_type=rejoin_type, data_rate=5)
        )
        await site.store.save_session(EUI64(0x40), session)
        before = len([e for e in _of(site.events, UplinkEvent) if e.dev_eui == EUI64(0x40)])  # type: ignore[attr-defined]
        await site.run_for(90 * S)
        stored = await site.store.device(EUI64(0x40))
        assert stored is not None and stored.session is not None
        assert stored.session.keys not in keys_seen  # the device moved to the rejoin's session
        keys_seen.append(stored.session.keys)
        assert stored.session.pending_rejoin_session is None
        assert stored.session.pending_mac_requests.get(0x0E) is None  # the rejoin answered it
        after = [e for e in _of(site.events, UplinkEvent) if e.dev_eui == EUI64(0x40)]  # type: ignore[attr-defined]
        assert len(after) > before
        assert after[-1].data == b"\x01\x02\x03"  # type: ignore[attr-defined]
    assert site.server.metrics.rejoins == 2


async def test_lorawan_1_1_type_1_rejoin_restores_the_session(site: Site) -> None:
    profile = DeviceProfile(
        "1.1", "EU868", mac_version=MACVersion.LORAWAN_1_1_0, device_status_req_interval=0
    )
    await site.store.add_profile(profile)
    device = await site.add_device(0x41, LoRaWANVersion.V1_1, profile=profile)
    await site.run_for(30 * S)
    assert device.activated
    stored = await site.store.device(EUI64(0x41))
    assert stored is not None and stored.session is not None
    keys_seen = [stored.session.keys]
    for expected_rj_count1 in (1, 2):
        # The device lost its session context: a type 1 request (JSIntKey, RJcount1).
        device.request_rejoin(site.clock.now, rejoin_type=1)
        before = len([e for e in _of(site.events, UplinkEvent) if e.dev_eui == EUI64(0x41)])  # type: ignore[attr-defined]
        await site.run_for(60 * S)
        stored = await site.store.device(EUI64(0x41))
        assert stored is not None and stored.session is not None
        assert stored.session.keys not in keys_seen
        keys_seen.append(stored.session.keys)
        assert stored.session.pending_rejoin_session is None
        assert stored.session.rejoin_count_1 == expected_rj_count1
        after = [e for e in _of(site.events, UplinkEvent) if e.dev_eui == EUI64(0x41)]  # type: ignore[attr-defined]
        assert len(after) > before
        assert after[before].f_cnt == 0  # type: ignore[attr-defined]  # the new session's counter
    assert site.server.metrics.rejoins == 2
    assert not [e for e in _of(site.events, LogEvent) if e.dev_eui == EUI64(0x41)]  # type: ignore[attr-defined]


async def test_the_network_moves_rx1_frequencies_and_caps_the_duty_cycle(site: Site) -> None:
    # Every uplink channel answers in RX1 on 869.1 MHz (DlChannelReq), and the devices keep
    # to a 1/4 aggregated duty cycle (DutyCycleReq): wishes the session must record.
    moved = dict.fromkeys(range(8), 869_100_000)
    site.server.pipeline.policy = mac.MACPolicy(dl_channels=moved, max_duty_cycle=2)
    device = await site.add_device(0x60, LoRaWANVersion.V1_0_3)
    await site.run_for(120 * S)
    stored = await site.store.device(EUI64(0x60))
    assert stored is not None and stored.session is not None
    assert stored.session.rx1_frequencies == moved
    assert stored.session.max_duty_cycle == 2
    assert device.settings.max_duty_cycle == 2
    assert {c.rx1_frequency for c in device.enabled_channels} == {869_100_000}
    await site.store.enqueue(EUI64(0x60), QueueItem(uuid.uuid4(), 9, b"\x99"))
    await site.run_for(40 * S)
    received = [r for d, r in site.fleet.results if d is device and r.payloads]
    assert received and received[-1].payloads[0].data == b"\x99"
    stats = site.backend.concentrator.stats(site.clock.now)
    assert stats.tx_packets_per_frequency.get(869_100_000, 0) > 0
