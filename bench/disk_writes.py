"""Bytes written to storage per uplink by the application side's two SQLite files, at a paced
1,000 uplinks/s, as the appliance feeds them; and the CPU the outbox spends per event.

- outbox: each uplink's ``up`` event handed to the integration outbox (``Outbox.append``, one
  target as with the global MQTT integration) by one worker that takes whatever arrived while
  the previous commit was being written, as the application server does; a courier delivers
  to a target that takes every batch at once (the rows are deleted after delivery, with the
  next commit or every ``delete_interval_s``). Paced on the real clock, because what a group
  commit holds is what arrives during one fsync (and the commit interval);
- event log: each uplink's ``up`` event and its uplink frame appended to the ``EventLog``
  (filled to its count limits first, so retention runs throughout), flushed when due on a
  fake clock running at 1,000 uplinks/s (the log never waits for the disk), checkpointed
  when due as ``run()`` does (here in the same thread, so in its CPU figure); the frames in
  memory as by default; event_log_frames_on_disk: the same with ``frames_on_disk``;
- outbox_cpu: not paced, ``--batch`` events per commit back to back (no commit interval, so
  the process never idles: waking from idle costs a cold CPU far more than the work), the
  CPU per event of append, commit and delivery, all threads and the event loop's alone.

Each runs in a child process of its own, in a temporary directory under the current one (on
the machine's disk, not a tmpfs), so ``/proc/self/io`` ``write_bytes`` (what the kernel was
asked to write: WAL, database pages, checkpoints) is that file's alone; the WAL and database
sizes at the end are printed too. "rows" are the event bytes handed to the outbox, or the
event log's row payloads as written. CPU is the child's process time (all threads).

``python -m bench.disk_writes [--seconds S] [--rate R] [--only PART] [--batch N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from appliance.app.events import (
    EventLog,
    EventLogOptions,
    EventRecord,
    FrameRecord,
    uplink_frame_log,
)
from appliance.integrations.courier import Courier, Progress, TargetStats
from appliance.integrations.http_config import Retry
from appliance.integrations.limits import OutboxLimits
from appliance.integrations.outbox import Outbox
from appliance.integrations.queue import Entry, TargetQueue
from bench.events import START, _records, _uplink_event
from hal.model import UplinkFrame

PARTS = ("outbox", "event_log", "event_log_frames_on_disk", "outbox_cpu")
CPU_BATCH = 20  # events per commit in the unpaced CPU run: 1,000/s with 20 ms commits


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _sizes(directory: Path, name: str) -> dict[str, int]:
    return {
        suffix or "db": (directory / f"{name}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if (directory / f"{name}{suffix}").exists()
    }


class _Instant:
    """A target that has every batch at once, like a QoS 0 publish to a fast broker."""

    name = "global/mqtt"
    kind = "mqtt"
    application_id = None
    batch_size = 64
    destination = "nowhere"

    def __init__(self) -> None:
        self.stats = TargetStats()
        self.delivered = 0

    async def start(self) -> None:
        return None

    async def ready(self) -> None:
        return None

    async def deliver(self, entries: Sequence[Entry]) -> Progress:
        self.delivered += len(entries)
        return Progress(settled=len(entries))

    async def close(self) -> None:
        return None


async def _outbox(directory: Path, records: list[EventRecord], rate: float) -> dict[str, Any]:
    limits = OutboxLimits()
    outbox = Outbox(directory / "outbox.db", limits, clock=time.time_ns, on_drop=lambda *_: None)
    await outbox.open()
    queue: TargetQueue = await outbox.queue("global/mqtt")
    target = _Instant()
    courier = Courier(outbox, queue, target, Retry(), on_refused=lambda *_: None)
    courier.start()
    arrived: list[EventRecord] = []
    wake = asyncio.Event()

    async def worker() -> None:  # the application server: one append per batch that waited
        handed = 0
        while handed < len(records):
            if not arrived:
                wake.clear()
                await wake.wait()
            batch = arrived[:]
            arrived.clear()
            await outbox.append([(record, [queue]) for record in batch])
            handed += len(batch)

    async def deleter() -> None:  # the integration manager's maintenance
        while True:
            await asyncio.sleep(limits.delete_interval_s)
            outbox.flush_deletes()

    written = _write_bytes()
    cpu = time.process_time()
    start = time.perf_counter()
    task = asyncio.create_task(worker())
    maintenance = asyncio.create_task(deleter())
    for number, record in enumerate(records):
        due = start + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        arrived.append(record)
        wake.set()
    await task
    while target.delivered < len(records):
        await asyncio.sleep(0.001)
    await asyncio.sleep(limits.delete_interval_s + 0.5)  # the last deletions, as when running
    cpu = time.process_time() - cpu
    maintenance.cancel()
    sizes = _sizes(directory, "outbox.db")
    await courier.stop()
    await outbox.close()
    return {
        "bytes": _write_bytes() - written,
        "cpu_s": cpu,
        "commits": outbox.commits,
        "body_bytes": outbox.bytes_appended,
        "sizes": sizes,
    }


async def _outbox_cpu(directory: Path, records: list[EventRecord], batch: int) -> dict[str, Any]:
    """Unpaced: ``batch`` events per ``append`` (one commit each), one after the other."""
    outbox = Outbox(
        directory / "outbox.db", OutboxLimits(), clock=time.time_ns, on_drop=lambda *_: None
    )
    # Back to back, each append would wait for the commit interval (as a steady stream does):
    # the commits here are the ``batch`` given, and the process never idles.
    outbox.commit_interval_s = 0.0
    await outbox.open()
    queue = await outbox.queue("global/mqtt")
    target = _Instant()
    courier = Courier(outbox, queue, target, Retry(), on_refused=lambda *_: None)
    courier.start()
    written = _write_bytes()
    cpu, main, wall = time.process_time(), time.thread_time(), time.perf_counter()
    for start in range(0, len(records), batch):
        await outbox.append([(record, [queue]) for record in records[start : start + batch]])
    while target.delivered < len(records):
        await asyncio.sleep(0.001)
    wall = time.perf_counter() - wall
    outbox.flush_deletes()
    await asyncio.sleep(0.05)
    cpu, main = time.process_time() - cpu, time.thread_time() - main
    sizes = _sizes(directory, "outbox.db")
    await courier.stop()
    await outbox.close()
    return {
        "bytes": _write_bytes() - written,
        "cpu_s": cpu,
        "main_s": main,
        "wall_s": wall,
        "commits": outbox.commits,
        "body_bytes": outbox.bytes_appended,
        "sizes": sizes,
    }


def _frames(count: int) -> list[FrameRecord]:
    frames = []
    for number in range(count):
        event, _ = _uplink_event(number)
        uplink = event.uplink
        frame = UplinkFrame(uplink.phy_payload, uplink.tx_info, uplink.rx_info[0])
        frames.append(uplink_frame_log(frame, time=START + timedelta(milliseconds=number)))
    return frames


def _event_log(
    directory: Path, count: int, rate: float, *, frames_on_disk: bool = False
) -> dict[str, Any]:
    options = EventLogOptions(frames_on_disk=frames_on_disk)
    fill = options.max_events
    records = _records(fill + count)
    frames = _frames(fill + count)
    log = EventLog.open(directory, options)
    for record, frame in zip(records[:fill], frames[:fill], strict=True):
        log.append_event(record)
        log.append_frame(frame)
    log.flush(now=0.0, wall=START)
    rows, flushes = log.stats.bytes_written, log.stats.flushes
    written = _write_bytes()
    cpu = time.process_time()
    now = 0.0
    for number in range(count):
        log.append_event(records[fill + number])
        log.append_frame(frames[fill + number])
        now = (number + 1) / rate
        if log.flush_due(now):
            log.flush(now=now, wall=START)
            # (hasattr: the same run measures versions of the log without the policy)
            if hasattr(log, "checkpoint_due") and log.checkpoint_due():
                log.checkpoint()  # what ``run()`` has a worker thread do
    log.flush(now=now + 1, wall=START)
    cpu = time.process_time() - cpu
    sizes = _sizes(directory, "events.db")
    log.close()
    return {
        "bytes": _write_bytes() - written,
        "cpu_s": cpu,
        "commits": log.stats.flushes - flushes,
        "body_bytes": log.stats.bytes_written - rows,
        "sizes": sizes,
    }


def _child(part: str, seconds: float, rate: float, batch: int) -> None:
    count = int(seconds * rate)
    with tempfile.TemporaryDirectory(prefix="bench-disk-", dir=Path.cwd()) as name:
        directory = Path(name)
        if part == "outbox":
            result = asyncio.run(_outbox(directory, _records(count), rate))
        elif part == "outbox_cpu":
            result = asyncio.run(_outbox_cpu(directory, _records(count), batch))
        else:
            result = _event_log(
                directory, count, rate, frames_on_disk=part == "event_log_frames_on_disk"
            )
    result["uplinks"] = count
    print(json.dumps(result))


def measure(part: str, seconds: float, rate: float, batch: int = CPU_BATCH) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.disk_writes",
            "--child",
            part,
            "--seconds",
            str(seconds),
            "--rate",
            str(rate),
            "--batch",
            str(batch),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.splitlines()[-1])
    return result


def line(part: str, result: dict[str, Any]) -> str:
    uplinks = result["uplinks"]
    sizes = ", ".join(f"{key} {value / 1024:,.0f} KiB" for key, value in result["sizes"].items())
    return (
        f"{part:<10} {result['bytes'] / uplinks:>7,.0f} B written/uplink  "
        f"{result['cpu_s'] / uplinks * 1e6:>5,.0f} µs CPU/uplink  "
        f"{uplinks / result['commits']:>6,.1f} uplinks/commit  "
        f"{result['body_bytes'] / uplinks:>5,.0f} B rows/uplink  ({sizes} at the end)"
        + (
            f", main thread {result['main_s'] / uplinks * 1e6:,.0f} µs/uplink, "
            f"{uplinks / result['wall_s']:,.0f} uplinks/s"
            if "main_s" in result
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.disk_writes", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1_000.0, help="uplinks per second")
    parser.add_argument("--only", choices=PARTS)
    parser.add_argument(
        "--batch", type=int, default=CPU_BATCH, help="events per commit in the outbox_cpu run"
    )
    parser.add_argument("--child", choices=PARTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.seconds, args.rate, args.batch)
        return
    for part in (args.only,) if args.only else PARTS:
        print(line(part, measure(part, args.seconds, args.rate, args.batch)), flush=True)


if __name__ == "__main__":
    main()
