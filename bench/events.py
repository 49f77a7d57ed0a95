"""Application events: building them, the live stream, and the event log.

- build: a de-duplicated uplink's ``UplinkEvent`` (two gateways, a decoded object) turned into
  ChirpStack's ``up`` event record, its JSON and its protobuf bytes the way ``EventFlow`` does
  it (``up_record``, each device's ``deviceInfo`` made once);
- stream: records published to an ``EventBroker`` and taken by one subscriber iterating
  asynchronously, from the first publish to the last item received; the publisher yields to
  the loop every 100 items, as it would between uplinks. Once bare, once with the subscriber
  turning each item into JSON (what a WebSocket subscriber sends);
- log: records appended to an ``EventLog`` in a temporary directory and flushed whenever a
  batch is due, then with one and with five entries per flush (a quiet network, where each
  flush interval brings a few), with retention at work (the log is filled to its count limit
  first), so the figures are the steady state; bytes written to disk per entry from
  ``/proc/self/io`` (``write_bytes``: WAL, checkpoints and index pages included).
- flow (``python -m bench.events flow [--devices N] [--uplinks N] [--gateways G]``, not part
  of ``python -m bench``): what the application server spends per uplink, as the appliance
  runs it. ``UplinkEvent``s of ABP devices in a real SQLite store go through
  ``ApplicationServer.handle`` and its worker (batches of up to 256) into ``EventFlow``; each
  gateway's reception is also handed to ``EventFlow.uplink_frame`` (the frame log); the
  records go to an ``EventLog`` (flushed when due) and an ``EventBroker`` without subscribers,
  and to a sink doing what the integrations do with each record (the outbox stores its
  protobuf bytes, the MQTT target sends its JSON). A fake monotonic clock advances at
  ``--rate`` uplinks a second, so device information expires (10 s) as it would at that rate.
  Reported: CPU time of the process per uplink (``time.process_time``), the event log's
  flushes apart.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.app.bootstrap import ensure_application
from appliance.app.event_flow import EventFlow
from appliance.app.events import (
    DeviceInfo,
    EventBroker,
    EventContext,
    EventLog,
    EventLogOptions,
    EventRecord,
    Missed,
    application_events,
)
from appliance.app.events.device_info import DeviceBlock
from appliance.app.events.uplink_records import DeduplicationIds, up_record
from appliance.app.repository import Repository
from appliance.app.service import ApplicationServer
from appliance.app.status import StatusTracker
from appliance.lorawan import security
from appliance.lorawan.frames import FCtrl
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns import collector
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.device import Device
from appliance.ns.profile import DeviceProfile
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.data_flow import UplinkEvent
from bench.protocol import Result
from hal.model import LoRaModulation, UplinkFrame, UplinkRxInfo, UplinkTxInfo

TX = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7))
KEYS = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
APPLICATION = uuid.UUID(int=1)
PROFILE = uuid.UUID(int=2)
DEVICES = 100


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _uplink_event(number: int) -> tuple[UplinkEvent, DeviceInfo]:
    device = number % DEVICES
    dev_eui = EUI64(0x0100 + device)
    payload = number.to_bytes(4, "big") + bytes(16)
    frame = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        DevAddr(0x26000000 + device),
        KEYS,
        number,
        f_ctrl=FCtrl(adr=True),
        f_port=1,
        payload=payload,
    )
    receptions = tuple(
        UplinkRxInfo(
            EUI64(0xAA00 + gateway),
            uplink_id=number,
            rssi=-80 - gateway,
            snr=7.5 - gateway,
            channel=number % 8,
            context=number.to_bytes(4, "big"),
            ns_time_ns=1_795_000_000_000_000_000 + number,
        )
        for gateway in range(2)
    )
    uplink = DeduplicatedUplink(frame.encode(), TX, receptions, 0)
    event = UplinkEvent(dev_eui, number, 1, payload, False, True, 5, uplink)
    info = DeviceInfo(APPLICATION, "bench", PROFILE, "EU868", f"d{device}", dev_eui)
    return event, info


def _records(count: int) -> list[EventRecord]:
    records = []
    for number in range(count):
        event, info = _uplink_event(number)
        context = EventContext(
            START + timedelta(milliseconds=number),
            uuid.UUID(int=number),
            "eu868",
            decoded={"counter": number, "temperature": 21.5, "door": "open"},
        )
        records.extend(application_events(event, info, context))
    return records


def bench_build(count: int) -> Result:
    inputs = [_uplink_event(number) for number in range(count)]
    blocks = {info.dev_eui: DeviceBlock(info) for _, info in inputs}  # as EventFlow keeps them
    ids = DeduplicationIds()
    start = time.perf_counter()
    for number, (event, info) in enumerate(inputs):
        record = up_record(
            event,
            blocks[info.dev_eui],
            time=START,
            deduplication_id=ids(),
            region_config_id="eu868",
            decoded={"counter": number},
        )
        record.json()
        record.to_bytes()
    return Result("events build: up record + its JSON", count, time.perf_counter() - start)


async def _stream(records: list[EventRecord], *, as_json: bool) -> float:
    broker = EventBroker()
    subscription = broker.subscribe(max_queue=1_000)
    done = asyncio.Event()

    async def consume() -> None:
        received = 0
        async for item in subscription:
            assert not isinstance(item, Missed), item
            if as_json:
                item.json()
            received += 1
            if received == len(records):
                done.set()
                return

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    start = time.perf_counter()
    for number, record in enumerate(records):
        broker.publish(record)
        if number % 100 == 99:
            await asyncio.sleep(0)
    await done.wait()
    seconds = time.perf_counter() - start
    await consumer
    subscription.close()
    return seconds


def bench_stream(count: int, *, as_json: bool) -> Result:
    records = _records(count)  # fresh records: no JSON cached
    seconds = asyncio.run(_stream(records, as_json=as_json))
    name = "events stream to 1 subscriber" + (" + JSON" if as_json else "")
    return Result(name, count, seconds)


def bench_log(count: int, max_events: int, *, per_flush: int | None = None) -> Result:
    """``per_flush`` None: flush when due (full batches); a number: flush after that many
    appends, as a quiet network does when every flush interval brings a few entries."""
    records = _records(count + max_events)
    options = EventLogOptions(max_events=max_events)
    with tempfile.TemporaryDirectory() as directory:
        log = EventLog.open(Path(directory), options)
        for record in records[:max_events]:  # fill to the limit: retention works from here on
            log.append_event(record)
        log.flush(now=0.0, wall=START)
        now = 0.0
        written_before = _write_bytes()
        start = time.perf_counter()
        for number, record in enumerate(records[max_events:], start=1):
            log.append_event(record)
            if per_flush is None:  # a busy network: 1,000 entries a second of fake time
                now = number / 1_000
                due = log.flush_due(now)
            else:  # a quiet one: an entry a second; the age prune runs once a minute
                now = float(number)
                due = number % per_flush == 0
            if due:
                log.flush(now=now, wall=START)
        log.flush(now=now + 1, wall=START)
        seconds = time.perf_counter() - start
        written = _write_bytes() - written_before
        stored, _ = log.counts()
        assert max_events * 0.9 <= stored <= max_events, stored
        log.close()
    payload = log.stats.bytes_written / log.stats.events_written
    batches = "full batches" if per_flush is None else f"{per_flush} per flush"
    name = (
        f"events log append, {batches} ({written / count:,.0f} B written each, "
        f"{payload:,.0f} B row)"
    )
    return Result(name, count, seconds)


# --- flow: the application server per uplink ------------------------------------------------


def _flow_uplinks(devices: int, count: int, gateways: int) -> list[UplinkEvent]:
    """What the network server emits: one distinct valid uplink per device in turn, heard by
    ``gateways`` Semtech UDP gateways (their receptions carry what that backend fills in)."""
    events = []
    for number in range(count):
        device = number % devices
        f_cnt = number // devices
        payload = number.to_bytes(4, "big") + bytes(8)
        frame = security.build_data_frame(
            MType.UNCONFIRMED_DATA_UP,
            DevAddr(0x26000000 + device),
            KEYS,
            f_cnt,
            f_ctrl=FCtrl(adr=True),
            f_port=1,
            payload=payload,
        )
        tmst = number * 1_000 & 0xFFFF_FFFF
        receptions = tuple(
            UplinkRxInfo(
                EUI64(0xAA00 + (number + gateway) % 10),
                uplink_id=number,
                rssi=-80 - gateway,
                snr=7.5 - gateway,
                channel=number % 8,
                context=tmst.to_bytes(4, "big"),
                gw_time_ns=1_795_000_000_000_000_000 + number * 1_000_000,
                ns_time_ns=1_795_000_000_000_000_000 + number * 1_000_000 + 5_000,
                metadata={"tmst64": str(tmst)},
            )
            for gateway in range(gateways)
        )
        uplink = DeduplicatedUplink(frame.encode(), TX, receptions, 0)
        events.append(
            UplinkEvent(EUI64(0x0100 + device), f_cnt, 1, payload, False, True, 5, uplink)
        )
    return events


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _flow(devices: int, uplinks: list[UplinkEvent], rate: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        store = SQLiteStore.open(data_dir)
        profile = DeviceProfile("bench", "EU868")
        await store.add_profile(profile)
        await store.add_devices(
            Device(EUI64(0x0100 + d), EUI64(0), f"d{d}", profile.id, APPLICATION)
            for d in range(devices)
        )
        repository = Repository(store.connection)
        ensure_application(repository, APPLICATION, "bench", "", START)
        clock = _Clock()
        event_log = EventLog.open(data_dir, EventLogOptions())
        server = ApplicationServer(
            repository, StatusTracker(repository), now=lambda: START, monotonic=clock
        )
        flow = EventFlow(
            store,
            repository,
            region_config_id="eu868",
            monotonic=clock,
            event_log=event_log,
            broker=EventBroker(),
        )

        async def integrations(records: list[EventRecord]) -> None:
            for record in records:
                record.to_bytes()  # what the outbox stores
                record.json()  # what the MQTT target publishes

        flow.sinks.append(integrations)
        server.consumers.append(flow.handle_batch)

        async def run(uplinks: list[UplinkEvent], first: int) -> float:
            """Hand ``uplinks`` in; the CPU time the event log's flushes took."""
            flush_cpu = 0.0
            for number, event in enumerate(uplinks, start=first):
                clock.now = number / rate
                uplink = event.uplink
                for rx in uplink.rx_info:
                    flow.uplink_frame(UplinkFrame(uplink.phy_payload, uplink.tx_info, rx), START)
                server.handle(event)
                if number % 256 == 0:
                    await server.drain()
                # The log's own thresholds: a full batch, or its interval since the last flush.
                if event_log.flush_due(clock.now):
                    before = time.process_time()
                    event_log.flush(now=clock.now, wall=START)
                    flush_cpu += time.process_time() - before
            await server.drain()
            before = time.process_time()
            event_log.flush(now=clock.now, wall=START)
            return flush_cpu + time.process_time() - before

        # A first round reads every device once (as the network server's warm-up does).
        await run(uplinks[:devices], 1)
        written = event_log.stats.events_written
        start = time.process_time()
        flush_cpu = await run(uplinks[devices:], devices + 1)
        total = time.process_time() - start
        assert event_log.stats.events_written - written == len(uplinks) - devices
        event_log.close()
        await store.aclose()
    return total - flush_cpu, flush_cpu


def bench_flow(devices: int, count: int, *, gateways: int = 1, rate: float = 3_000) -> list[Result]:
    """``count`` uplinks measured, after a round of one uplink per device."""
    uplinks = _flow_uplinks(devices, devices + count, gateways)
    # The collector as the appliance runs it (the network server raises its thresholds), and
    # the prepared uplinks, which the appliance does not hold, out of its collections.
    thresholds = gc.get_threshold()
    collector.tune_for_network_server()
    gc.collect()
    gc.freeze()
    try:
        flow_cpu, flush_cpu = asyncio.run(_flow(devices, uplinks, rate))
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    where = f"{devices:,} devices, {gateways} gateway(s), {rate:,.0f}/s"
    return [
        Result(f"events flow per uplink, CPU ({where})", count, flow_cpu),
        Result(f"events flow: event log flushes, CPU per uplink ({where})", count, flush_cpu),
    ]


def run(quick: bool) -> list[Result]:
    count = 1_000 if quick else 20_000
    return [
        bench_build(count),
        bench_stream(count, as_json=False),
        bench_stream(count, as_json=True),
        bench_log(count, max_events=500 if quick else 10_000),
        bench_log(count // 4, max_events=500 if quick else 10_000, per_flush=1),
        bench_log(count // 4, max_events=500 if quick else 10_000, per_flush=5),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__)
    parser.add_argument("what", nargs="?", choices=("all", "flow"), default="all")
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--uplinks", type=int, default=30_000)
    parser.add_argument("--gateways", type=int, default=1)
    parser.add_argument("--rate", type=float, default=3_000.0)
    parser.add_argument("--repeat", type=int, default=3, help="flow: best of this many runs")
    args = parser.parse_args()
    if args.what == "flow":
        runs = [
            bench_flow(args.devices, args.uplinks, gateways=args.gateways, rate=args.rate)
            for _ in range(args.repeat)
        ]
        for result in min(runs, key=lambda results: results[0].seconds):
            print(result.line())
        return
    for result in run(quick=False):
        print(result.line())


if __name__ == "__main__":
    main()
