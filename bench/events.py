"""Application events: building them, the live stream, and the event log.

- build: a de-duplicated uplink's ``UplinkEvent`` (two gateways, a decoded object) turned into
  ChirpStack's ``up`` event record and its JSON, what every uplink costs the application server;
- stream: records published to an ``EventBroker`` and taken by one subscriber iterating
  asynchronously, from the first publish to the last item received; the publisher yields to
  the loop every 100 items, as it would between uplinks. Once bare, once with the subscriber
  turning each item into JSON (what a WebSocket subscriber sends);
- log: records appended to an ``EventLog`` in a temporary directory and flushed whenever a
  batch is due, then with one and with five entries per flush (a quiet network, where each
  flush interval brings a few), with retention at work (the log is filled to its count limit
  first), so the figures are the steady state; bytes written to disk per entry from
  ``/proc/self/io`` (``write_bytes``: WAL, checkpoints and index pages included).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from appliance.lorawan import security
from appliance.lorawan.frames import FCtrl
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.uplink.data_flow import UplinkEvent
from bench.protocol import Result
from hal.model import LoRaModulation, UplinkRxInfo, UplinkTxInfo

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
    start = time.perf_counter()
    for number, (event, info) in enumerate(inputs):
        context = EventContext(START, uuid.UUID(int=number), "eu868", decoded={"counter": number})
        for record in application_events(event, info, context):
            record.json()
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


if __name__ == "__main__":
    for result in run(quick=False):
        print(result.line())
