"""In-process network-server pipeline: de-duplicated uplinks handed in, SQLite state, events
and downlinks handed out, no sockets (the figure the network-server issue sets targets for).

Devices are provisioned with ABP sessions so every frame is a valid data uplink with its own
counter; the downlink path answers through a sender that acknowledges at once.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path

from appliance.lorawan import security
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.device import Device
from appliance.ns.events import NSEvent
from appliance.ns.network import NetworkSettings
from appliance.ns.pipeline import Pipeline
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore
from bench.protocol import Result
from hal.model import (
    DownlinkFrame,
    DownlinkTxAck,
    LoRaModulation,
    TxAckStatus,
    UplinkRxInfo,
    UplinkTxInfo,
)

TX = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7))


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


async def _run(devices: int, uplinks: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore.open(Path(directory))
        profile = DeviceProfile(
            "bench", "EU868", mac_version=MACVersion.LORAWAN_1_0_3, device_status_req_interval=0
        )
        await store.add_profile(profile)
        sessions = []
        for index in range(devices):
            keys = SessionKeys.for_1_0(
                AESKey(index.to_bytes(16, "big")), AESKey((index + 1).to_bytes(16, "big"))
            )
            session = DeviceSession(
                DevAddr(0x26000000 + index),
                keys,
                MACVersion.LORAWAN_1_0_3,
                "EU868",
                0,
                869_525_000,
                (0, 1, 2),
                dr=5,
            )
            await store.add_device(
                Device(
                    EUI64(index + 1),
                    EUI64(0),
                    f"d{index}",
                    profile.id,
                    uuid.uuid4(),
                    None,
                    session=session,
                )
            )
            sessions.append(session)
        frames = []
        for number in range(uplinks):
            index = number % devices
            frame = security.build_data_frame(
                MType.UNCONFIRMED_DATA_UP,
                sessions[index].dev_addr,
                sessions[index].keys,
                number // devices,
                f_port=1,
                payload=bytes(20),
            )
            rx = UplinkRxInfo(EUI64(0xAA), rssi=-80, snr=7.0, context=b"\x00\x00\x00\x01")
            frames.append(DeduplicatedUplink(frame.encode(), TX, (rx,), 0))

        events: list[NSEvent] = []

        async def send(frame: DownlinkFrame) -> DownlinkTxAck:
            return DownlinkTxAck(
                frame.gateway_id, frame.downlink_id, (TxAckStatus.OK,) * len(frame.items)
            )

        pipeline = Pipeline(
            NetworkSettings(downlink_wait_ms=0, adr_disabled=True),
            store,
            send,
            events.append,
            time.monotonic_ns,
            random.Random(1),
        )
        written = _write_bytes()
        start = time.perf_counter()
        # As the server does: each uplink in its own task, a bounded number in flight, so the
        # session writes of concurrent uplinks share group commits.
        slots = asyncio.Semaphore(500)

        async def one(uplink: DeduplicatedUplink) -> None:
            async with slots:
                await pipeline.handle(uplink)

        await asyncio.gather(*(one(uplink) for uplink in frames))
        seconds = time.perf_counter() - start
        per_uplink = (_write_bytes() - written) / uplinks
        await store.aclose()
    accepted = pipeline.metrics.uplinks
    assert accepted == uplinks, (accepted, dict(pipeline.metrics.dropped))
    name = f"ns pipeline, SQLite, {devices:,} dev ({per_uplink / 1024:.1f} KiB written/uplink)"
    return [Result(name, uplinks, seconds)]


def run(quick: bool) -> list[Result]:
    devices, uplinks = (100, 300) if quick else (10_000, 30_000)
    return asyncio.run(_run(devices, uplinks))
