"""Semtech UDP backend throughput: PUSH_DATA datagrams (one rxpk each) parsed and converted.

- core: ``SemtechUDPCore.datagram_received`` alone: header, JSON, rxpk -> ``UplinkFrame``, the
  PUSH_ACK; no sockets, so this is the ceiling. Timed in CPU time of the process (the figure
  that matters on the appliance, where this shares the main thread with everything else, and
  one that other work on a shared machine barely disturbs).
- loopback: the asyncio ``SemtechUDPBackend`` on 127.0.0.1 fed by a load generator in another
  process (on another core when one is free), which keeps a window of PUSH_DATA
  unacknowledged as a busy forwarder would; timed from the first to the last ``UplinkFrame``
  the consumer takes from ``events()``, in wall-clock time and in CPU time of the thread that
  runs the event loop (socket reads, core, PUSH_ACK sends, the event queue and the consumer).
  Every datagram is distinct (token, tmst, payload), from 10 gateways, in the sx1302
  forwarder's format.

``python -m bench.semtech_udp [--quick]``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.protocol import Result
from hal.model import UplinkFrame
from hal.semtech_udp import SemtechUDPBackend, SemtechUDPCore

GATEWAYS = 10
WINDOW = 64  # PUSH_DATA in flight; lora_pkt_fwd sends and waits for PUSH_ACK per datagram


def push_data(index: int) -> bytes:
    """The ``index``-th PUSH_DATA of the load: distinct token, gateway, tmst and payload."""
    phy = bytes.fromhex("40f17dbe49000200") + index.to_bytes(4, "little") + bytes(range(21))
    rxpk = {
        "jver": 1,
        "tmst": (index * 1_000_003) & 0xFFFF_FFFF,
        "time": "2024-05-01T12:00:00.000000Z",
        "tmms": 1_398_600_018_000 + index,
        "chan": index % 8,
        "rfch": 0,
        "freq": 868.1,
        "mid": 8,
        "stat": 1,
        "modu": "LORA",
        "datr": f"SF{7 + index % 6}BW125",
        "codr": "4/5",
        "rssis": -93,
        "lsnr": 7.2,
        "foff": -120,
        "rssi": -90,
        "size": len(phy),
        "data": base64.b64encode(phy).decode(),
    }
    body = json.dumps({"rxpk": [rxpk]}, separators=(",", ":")).encode()
    gateway = (0x0016C001FF100000 + index % GATEWAYS).to_bytes(8, "big")
    return bytes((2, index & 0xFF, (index >> 8) & 0xFF, 0)) + gateway + body


def bench_core(count: int, repeats: int) -> Result:
    datagrams = [push_data(i) for i in range(count)]
    best = float("inf")
    for _ in range(repeats):
        core = SemtechUDPCore()
        start = time.process_time()
        for data in datagrams:
            core.datagram_received(data, ("127.0.0.1", 1700), 0, 0)
            core.datagrams_to_send()
            core.events_to_deliver()
        best = min(best, time.process_time() - start)
        assert not core.drop_counts, core.drop_counts
    return Result("semtech-udp core: PUSH_DATA -> UplinkFrame, CPU", count, best)


# The load generator: a plain blocking socket in a child process, so it does not compete with
# the backend for the GIL; moved off the backend's CPUs when the machine has others.
_GENERATOR = """
import os, socket, sys
from bench.semtech_udp import push_data
port, count, window = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
busy = {int(c) for c in sys.argv[4].split(",") if c}
free = set(range(os.cpu_count() or 1)) - busy
if free and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, free)
datagrams = [push_data(i) for i in range(count)]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.connect(("127.0.0.1", port))
sock.settimeout(2.0)
sent = acked = 0
while sent < min(window, count):
    sock.send(datagrams[sent]); sent += 1
while acked < sent:
    try:
        sock.recv(64)
    except socket.timeout:
        break
    acked += 1
    if sent < count:
        sock.send(datagrams[sent]); sent += 1
sock.close()
print(sent, acked)
"""


async def _loopback(count: int) -> tuple[int, float, float]:
    backend = SemtechUDPBackend({"bind": "127.0.0.1:0", "max_queue": count + GATEWAYS})
    await backend.start()
    busy = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    generator = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _GENERATOR,
            str(backend.port),
            str(count),
            str(WINDOW),
            ",".join(map(str, busy)),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
    )
    received, first, last, first_cpu, last_cpu = 0, 0.0, 0.0, 0.0, 0.0
    try:
        # One deadline for the whole run (a per-event wait_for would cost a task per event).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(count / 1_000 + 10):
                async for event in backend.events():
                    if isinstance(event, UplinkFrame):
                        received += 1
                        last, last_cpu = time.perf_counter(), time.thread_time()
                        if received == 1:
                            first, first_cpu = last, last_cpu
                        if received == count:
                            break
    finally:
        await backend.stop()
        generator.communicate(timeout=30)
    drops = {k: v for k, v in backend.drop_counts.items() if v}
    if drops:
        raise AssertionError(f"the backend dropped datagrams: {drops}")
    return received, last - first, last_cpu - first_cpu


def bench_loopback(count: int, repeats: int) -> list[Result]:
    runs = [asyncio.run(_loopback(count)) for _ in range(repeats)]
    runs = [(received - 1, wall, cpu) for received, wall, cpu in runs if received > 1]
    if not runs:
        raise AssertionError("no uplink came back over loopback")
    # Intervals between the first and the last uplink; the best run by each measure.
    wall = max(runs, key=lambda run: run[0] / run[1])
    cpu = max(runs, key=lambda run: run[0] / max(run[2], 1e-9))
    return [
        Result("semtech-udp loopback: PUSH_DATA -> PUSH_ACK + event", wall[0], wall[1]),
        Result("semtech-udp loopback, CPU of the event loop thread", cpu[0], max(cpu[2], 1e-9)),
    ]


def run(quick: bool) -> list[Result]:
    count, repeats = (2_000, 1) if quick else (100_000, 3)
    return [bench_core(count, repeats), *bench_loopback(count, repeats)]


if __name__ == "__main__":
    for result in run("--quick" in sys.argv):
        print(result.line())
