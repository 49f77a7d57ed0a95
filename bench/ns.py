"""In-process network-server pipeline: de-duplicated uplinks handed in, SQLite state, events
and downlinks handed out, no sockets (the figures the network-server issue sets targets for).

- uplinks: ABP devices, every frame a valid unconfirmed data uplink with its own counter, the
  devices taking turns (each device's session is read and written once per round, the worst
  case for any cache); up to 1,000 uplinks in flight, released as the server releases them.
- joins: OTAA devices joining once each with a fresh DevNonce (MIC, DevNonce history,
  JoinNonce, key derivation, join-accept, activation), as many in flight.
- latency: confirmed uplinks handed in at a steady 1,000 /s (after a warm-up round), each
  answered with an ACK; the time from the moment a frame is due to the moment its downlink
  reaches the sender. The de-duplication window is not part of it (frames are handed in
  de-duplicated) and the pipeline does not wait for applications (``downlink_wait_ms=0``).
- paced: the same with unconfirmed uplinks, timed until the pipeline is done with each (the
  bytes written per uplink at 1,000 /s).
- sessions: the stored form of a session with a full ADR history (its size, the CPU time to
  encode and decode it) and the memory a device takes in the store's caches (its decoded
  session and settings, measured with tracemalloc after one uplink of every device): what
  ``StoreTuning.cache_sessions`` is sized by.

Every run reports the CPU time of the process per operation (all threads: what one core had
to give, whatever else the machine was doing), the bytes the process wrote to disk
(``/proc/self/io`` write_bytes: the WAL, checkpoints and the operating system's page rewrites
included) and the fsyncs per second (one per commit, checked with strace, and two per WAL
checkpoint).

``python -m bench.ns uplinks --devices 100000`` runs one of them; ``python -m bench`` runs
the default set.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from appliance.lorawan import security
from appliance.lorawan.frames import JoinRequest
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns import collector, session_codec
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.device import Device, RootKeys
from appliance.ns.events import NSEvent
from appliance.ns.network import NetworkSettings
from appliance.ns.pipeline import Pipeline
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession, UplinkHistoryEntry
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
IN_FLIGHT = 1_000  # as appliance.ns.server releases them
SETTINGS = NetworkSettings(downlink_wait_ms=0, adr_disabled=True)


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


@dataclass
class Disk:
    """What a measured stretch cost the disk."""

    bytes_written: int = 0
    commits: int = 0
    checkpoints: int = 0
    cpu_seconds: float = 0.0  # this process, every thread: what one core had to give

    def per(self, operations: int, seconds: float) -> str:
        return (
            f"{self.cpu_seconds / operations * 1e6:.0f} µs CPU, "
            f"{self.bytes_written / operations / 1024:.2f} KiB written each, "
            f"{(self.commits + 2 * self.checkpoints) / seconds:,.0f} fsyncs/s"
        )


@contextmanager
def _measure(store: SQLiteStore) -> Iterator[Disk]:
    disk = Disk()
    cpu = time.process_time()
    before = (_write_bytes(), store.stats.commits, store.stats.checkpoints)
    yield disk
    disk.cpu_seconds = time.process_time() - cpu
    disk.bytes_written = _write_bytes() - before[0]
    disk.commits = store.stats.commits - before[1]
    disk.checkpoints = store.stats.checkpoints - before[2]


def _keys(index: int) -> SessionKeys:
    return SessionKeys.for_1_0(
        AESKey((index * 2 + 1).to_bytes(16, "big")), AESKey((index * 2 + 2).to_bytes(16, "big"))
    )


def _abp_session(index: int) -> DeviceSession:
    return DeviceSession(
        DevAddr(0x26000000 + index),
        _keys(index),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        dr=5,
    )


async def _open(directory: Path) -> tuple[SQLiteStore, DeviceProfile]:
    collector.tune_for_network_server()  # as NetworkServer.start does
    store = SQLiteStore.open(directory)
    profile = DeviceProfile(
        "bench", "EU868", mac_version=MACVersion.LORAWAN_1_0_3, device_status_req_interval=0
    )
    await store.add_profile(profile)
    return store, profile


async def _provision_abp(store: SQLiteStore, profile: DeviceProfile, devices: int) -> None:
    application = uuid.uuid4()
    await store.add_devices(
        Device(
            EUI64(index + 1),
            EUI64(0),
            f"d{index}",
            profile.id,
            application,
            None,
            session=_abp_session(index),
        )
        for index in range(devices)
    )


def _data_frames(devices: int, count: int, *, confirmed: bool = False) -> list[bytes]:
    """``count`` PHYPayloads of data uplinks, the devices taking turns. Kept as bytes, which
    the garbage collector does not track: a real server does not hold its future traffic."""
    mtype = MType.CONFIRMED_DATA_UP if confirmed else MType.UNCONFIRMED_DATA_UP
    return [
        security.build_data_frame(
            mtype,
            DevAddr(0x26000000 + number % devices),
            _keys(number % devices),
            number // devices,
            f_port=1,
            payload=bytes(20),
        ).encode()
        for number in range(count)
    ]


def _received(phy_payload: bytes, number: int, first_seen_ns: int = 0) -> DeduplicatedUplink:
    """The uplink as de-duplication hands it over; the reception context numbers it."""
    rx = UplinkRxInfo(EUI64(0xAA), rssi=-80, snr=7.0, context=number.to_bytes(4, "big"))
    return DeduplicatedUplink(phy_payload, TX, (rx,), first_seen_ns)


class _Sender:
    """The gateway side: every downlink is accepted at once; arrival times are kept."""

    def __init__(self) -> None:
        self.sent_at: dict[int, float] = {}

    async def __call__(self, frame: DownlinkFrame) -> DownlinkTxAck:
        context = frame.items[0].tx_info.context
        self.sent_at[int.from_bytes(context, "big")] = time.perf_counter()
        return DownlinkTxAck(
            frame.gateway_id, frame.downlink_id, (TxAckStatus.OK,) * len(frame.items)
        )


def _frozen_clock() -> int:
    """The throughput runs' clock: every frame was received just now (first_seen_ns 0)."""
    return 0


class _Events:
    """The application side: counts the events (and lets them go, as it would)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, event: NSEvent) -> None:
        self.count += 1


def _pipeline(store: SQLiteStore, sender: _Sender, clock: Callable[[], int]) -> Pipeline:
    return Pipeline(SETTINGS, store, sender, _Events(), clock, random.Random(1))


async def _drive(
    pipeline: Pipeline, frames: Iterable[bytes], clock: Callable[[], int] = _frozen_clock
) -> float:
    """Hand every frame to the pipeline, each in its own task with a bounded number in
    flight (as the server's release loop does); the seconds until all are done."""
    slots = asyncio.Semaphore(IN_FLIGHT)
    running: set[asyncio.Task[None]] = set()

    async def one(uplink: DeduplicatedUplink) -> None:
        try:
            await pipeline.handle(uplink)
        finally:
            slots.release()

    start = time.perf_counter()
    for number, frame in enumerate(frames):
        await slots.acquire()
        task = asyncio.create_task(one(_received(frame, number, clock())))
        running.add(task)
        task.add_done_callback(running.discard)
    while running:
        await asyncio.gather(*running)
    return time.perf_counter() - start


async def _uplinks(devices: int, uplinks: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        store, profile = await _open(Path(directory))
        await _provision_abp(store, profile, devices)
        # One round of every device first: the steady state of a running server, where
        # whatever the store caches has been filled by earlier traffic.
        frames = _data_frames(devices, devices + uplinks)
        pipeline = _pipeline(store, _Sender(), _frozen_clock)
        await _drive(pipeline, frames[:devices])
        await store.flush()
        with _measure(store) as disk:
            seconds = await _drive(pipeline, frames[devices:])
            await store.flush()
        await store.aclose()
    accepted = pipeline.metrics.uplinks
    assert accepted == devices + uplinks, (accepted, dict(pipeline.metrics.dropped))
    name = f"ns uplinks, {devices:,} devices ({disk.per(uplinks, seconds)})"
    return [Result(name, uplinks, seconds)]


def _join_request(index: int, dev_nonce: int) -> bytes:
    return security.sign_join_request(
        JoinRequest(EUI64(0x70B3D50000000000), EUI64(index + 1), dev_nonce), _root_key(index)
    ).encode()


def _root_key(index: int) -> AESKey:
    return AESKey((index + 0x1000).to_bytes(16, "big"))


async def _joins(joins: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        store, profile = await _open(Path(directory))
        application = uuid.uuid4()
        await store.add_devices(
            Device(
                EUI64(index + 1),
                EUI64(0x70B3D50000000000),
                f"d{index}",
                profile.id,
                application,
                RootKeys(_root_key(index)),
            )
            for index in range(joins)
        )
        requests = [_join_request(index, 1) for index in range(joins)]
        sender = _Sender()
        pipeline = _pipeline(store, sender, _frozen_clock)
        with _measure(store) as disk:
            seconds = await _drive(pipeline, requests)
        await store.aclose()
    assert pipeline.metrics.joins == joins, dict(pipeline.metrics.dropped)
    assert len(sender.sent_at) == joins
    name = f"ns joins ({disk.per(joins, seconds)})"
    return [Result(name, joins, seconds)]


async def _paced(devices: int, rate: int, seconds: float, *, confirmed: bool) -> list[Result]:
    """Uplinks handed in at a steady ``rate`` after one warm-up round of every device.

    Confirmed: every uplink is answered (an ACK), and the figure is the time from the moment
    a frame is due to the moment its downlink reaches the sender. Unconfirmed: the time until
    the pipeline is done with it (its session durable, its event out).
    """
    count = int(rate * seconds)
    with tempfile.TemporaryDirectory() as directory:
        store, profile = await _open(Path(directory))
        await _provision_abp(store, profile, devices)
        frames = _data_frames(devices, devices + count, confirmed=confirmed)
        sender = _Sender()
        pipeline = _pipeline(store, sender, time.monotonic_ns)
        await _drive(pipeline, frames[:devices], time.monotonic_ns)
        await store.flush()
        sender.sent_at.clear()
        due: list[float] = []
        done: list[float] = []
        running: set[asyncio.Task[None]] = set()

        async def one(uplink: DeduplicatedUplink) -> None:
            await pipeline.handle(uplink)
            done.append(time.perf_counter())

        with _measure(store) as disk:
            start = time.perf_counter()
            for number, frame in enumerate(frames[devices:]):
                at = start + number / rate
                delay = at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                due.append(at)
                # Received now, as far as the receive windows are concerned.
                task = asyncio.create_task(one(_received(frame, number, time.monotonic_ns())))
                running.add(task)
                task.add_done_callback(running.discard)
            while running:
                await asyncio.gather(*running)
            elapsed = time.perf_counter() - start
        await store.aclose()
    if confirmed:
        assert len(sender.sent_at) == count, (len(sender.sent_at), dict(pipeline.metrics.dropped))
        waits = sorted((sender.sent_at[n] - due[n]) * 1000 for n in range(count))
        what = "confirmed, frame in to downlink out"
    else:
        assert pipeline.metrics.uplinks == devices + count, dict(pipeline.metrics.dropped)
        waits = sorted((end - begin) * 1000 for begin, end in zip(due, sorted(done), strict=True))
        what = "unconfirmed, frame in to durable"
    p99 = waits[min(count - 1, int(count * 0.99))]
    name = (
        f"ns at {rate:,}/s, {devices:,} devices, {what}: p99 {p99:.2f} ms, "
        f"p50 {statistics.median(waits):.2f} ms, max {waits[-1]:.2f} ms "
        f"({disk.per(count, elapsed)})"
    )
    return [Result(name, count, elapsed)]


def _full_session() -> DeviceSession:
    session = _abp_session(1)
    session.f_cnt_up = 123_456
    for f_cnt in range(session.f_cnt_up - 20, session.f_cnt_up):
        session.add_uplink_history(UplinkHistoryEntry(f_cnt, 7.25 - f_cnt % 7, -80, 0, 2))
    return session


def _cpu_per_call(call: Callable[[], object], count: int) -> float:
    call()
    cpu = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - cpu) / count


async def _sessions(devices: int) -> list[Result]:
    session = _full_session()
    stored = session_codec.encode_session(session)
    count = 20_000
    encode = _cpu_per_call(lambda: session_codec.encode_session(session), count)
    decode = _cpu_per_call(lambda: session_codec.decode_session(stored), count)
    with tempfile.TemporaryDirectory() as directory:
        store, profile = await _open(Path(directory))
        await _provision_abp(store, profile, devices)
        pipeline = _pipeline(store, _Sender(), _frozen_clock)
        store.clear_caches()
        tracemalloc.start()
        try:
            seconds = await _drive(pipeline, _data_frames(devices, devices))
            await store.flush()
            gc.collect()
            filled = tracemalloc.get_traced_memory()[0]
            store.clear_caches()
            gc.collect()
            per_device = (filled - tracemalloc.get_traced_memory()[0]) / devices
        finally:
            tracemalloc.stop()
        await store.aclose()
    name = (
        f"ns sessions: {len(stored)} bytes stored, encode {encode * 1e6:.1f} µs, decode "
        f"{decode * 1e6:.1f} µs CPU; {per_device / 1024:.2f} KiB cached per device"
    )
    return [Result(name, devices, seconds)]


def run(quick: bool) -> list[Result]:
    if quick:
        return [
            *asyncio.run(_uplinks(100, 300)),
            *asyncio.run(_joins(100)),
            *asyncio.run(_paced(100, 1_000, 0.2, confirmed=True)),
            *asyncio.run(_sessions(100)),
        ]
    return [
        *asyncio.run(_uplinks(10_000, 50_000)),
        *asyncio.run(_uplinks(100_000, 200_000)),
        *asyncio.run(_joins(10_000)),
        *asyncio.run(_paced(10_000, 1_000, 10.0, confirmed=True)),
        *asyncio.run(_paced(10_000, 1_000, 10.0, confirmed=False)),
        *asyncio.run(_sessions(10_240)),  # the default cache size
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ns", description=__doc__)
    parser.add_argument("what", choices=("uplinks", "joins", "latency", "paced", "sessions"))
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--count", type=int, default=50_000, help="uplinks or joins")
    parser.add_argument("--rate", type=int, default=1_000, help="paced: uplinks per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced: how long")
    args = parser.parse_args()
    if args.what == "uplinks":
        results = asyncio.run(_uplinks(args.devices, args.count))
    elif args.what == "joins":
        results = asyncio.run(_joins(args.count))
    elif args.what == "sessions":
        results = asyncio.run(_sessions(args.devices))
    else:
        confirmed = args.what == "latency"
        results = asyncio.run(_paced(args.devices, args.rate, args.seconds, confirmed=confirmed))
    for result in results:
        print(result.line())


if __name__ == "__main__":
    main()
