"""End to end on the network server's side: the real pipeline (real SQLite store, real
encrypted frames) emits its events; each becomes a ChirpStack event that parses strictly."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from google.protobuf import json_format

from appliance.app.events import (
    EVENT_MESSAGES,
    DeviceInfo,
    EventContext,
    EventKind,
    EventRecord,
    application_events,
)
from appliance.lorawan import security
from appliance.lorawan.frames import FCtrl, JoinRequest
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.device import Device, RootKeys
from appliance.ns.downlink.data import QueueItem
from appliance.ns.events import NSEvent, TxAckEvent
from appliance.ns.network import NetworkSettings
from appliance.ns.pipeline import Pipeline
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from hal.model import DownlinkFrame, DownlinkTxAck, TxAckStatus, UplinkRxInfo
from tests.app.events.samples import GW1, TIME, TX_EU868

ABP_EUI, OTAA_EUI = EUI64(0x0101), EUI64(0x0202)
ADDR = DevAddr(0x26000001)
KEYS = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
APP_KEY = AESKey(bytes(range(16)))
JOIN_EUI = EUI64("70b3d57ed0000000")
PROFILE = DeviceProfile(
    "1.0.3", "EU868", mac_version=MACVersion.LORAWAN_1_0_3, device_status_req_interval=0
)
APPLICATION = uuid.UUID(int=7)


class Gateway:
    """The outside edge: sends the first item of every downlink and keeps what it sent."""

    def __init__(self) -> None:
        self.frames: list[DownlinkFrame] = []

    async def __call__(self, frame: DownlinkFrame) -> DownlinkTxAck:
        self.frames.append(frame)
        statuses = (TxAckStatus.OK,) + (TxAckStatus.IGNORED,) * (len(frame.items) - 1)
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, statuses)


def _device_info(dev_eui: EUI64) -> DeviceInfo:
    return DeviceInfo(APPLICATION, "app", PROFILE.id, PROFILE.name, f"d-{dev_eui}", dev_eui)


async def test_pipeline_events_become_chirpstack_events(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    await store.add_profile(PROFILE)
    session = DeviceSession(
        ADDR, KEYS, MACVersion.LORAWAN_1_0_3, "EU868", 0, 869_525_000, (0, 1, 2)
    )
    await store.add_device(
        Device(ABP_EUI, EUI64(0), "abp", PROFILE.id, APPLICATION, session=session)
    )
    await store.add_device(
        Device(OTAA_EUI, JOIN_EUI, "otaa", PROFILE.id, APPLICATION, RootKeys(APP_KEY))
    )
    item = QueueItem(uuid.uuid4(), 10, b"\x01\x02", confirmed=True)
    await store.enqueue(ABP_EUI, item)
    now = [1_000_000_000_000]
    gateway = Gateway()
    ns_events: list[NSEvent] = []
    settings = NetworkSettings(downlink_wait_ms=0, adr_disabled=True)
    pipeline = Pipeline(
        settings, store, gateway, ns_events.append, lambda: now[0], random.Random(1)
    )

    def heard(phy_payload: bytes) -> DeduplicatedUplink:
        rx = UplinkRxInfo(GW1, rssi=-70, snr=8.5, context=now[0].to_bytes(8, "big"))
        return DeduplicatedUplink(phy_payload, TX_EU868, (rx,), now[0])

    try:
        for f_cnt, ack in ((0, False), (1, True)):
            frame = security.build_data_frame(
                MType.UNCONFIRMED_DATA_UP,
                ADDR,
                KEYS,
                f_cnt,
                f_ctrl=FCtrl(ack=ack),
                f_port=2,
                payload=b"\x10\x20",
            )
            await pipeline.handle(heard(frame.encode()))
            now[0] += 10_000_000_000
        join = security.sign_join_request(JoinRequest(JOIN_EUI, OTAA_EUI, 1), APP_KEY)
        await pipeline.handle(heard(join.encode()))
    finally:
        await store.aclose()

    records: list[EventRecord] = []
    downlinks = iter(gateway.frames)
    for event in ns_events:
        context = EventContext(TIME, uuid.uuid4(), "eu868")
        if isinstance(event, TxAckEvent):
            sent = next(downlinks)
            carries_item = event.dev_eui == ABP_EUI and event.f_cnt_down == 0
            context = EventContext(
                TIME,
                uuid.uuid4(),
                "eu868",
                queue_item_id=item.id if carries_item else None,
                downlink_tx_info=sent.items[0].tx_info,
            )
        records.extend(application_events(event, _device_info(event.dev_eui), context))

    assert [type(e) for e in ns_events if not isinstance(e, TxAckEvent)][:3] == [
        UplinkEvent,
        UplinkEvent,
        AckEvent,
    ]
    assert [r.kind for r in records] == [
        EventKind.UP,
        EventKind.TXACK,  # the confirmed queue item went out
        EventKind.UP,
        EventKind.ACK,  # and the next uplink acknowledged it
        EventKind.JOIN,  # the join-accept's tx ack is no event
    ]
    for record in records:
        parsed = json_format.Parse(
            record.json(), EVENT_MESSAGES[record.kind](), ignore_unknown_fields=False
        )
        assert parsed == record.message
    up, txack, _, ack, joined = (r.message for r in records)
    assert (up.dev_addr, up.f_cnt, up.f_port, up.data) == (str(ADDR), 0, 2, b"\x10\x20")
    assert (txack.queue_item_id, txack.gateway_id) == (str(item.id), str(GW1))
    assert txack.tx_info.frequency == gateway.frames[0].items[0].tx_info.frequency
    assert (ack.acknowledged, ack.f_cnt_down) == (True, txack.f_cnt_down)
    assert joined.device_info.dev_eui == str(OTAA_EUI)
    assert DevAddr(joined.dev_addr).net_id_type == 0
