"""SX1302 driver: RX FIFO parsing and the idle cost of the poll loop.

- fifo parse: ``parse_fifo`` on a full 4,096-byte RX FIFO (95 LoRa packets of 20-byte
  payloads, every checksum and payload CRC verified); target under 1 ms.
- fifo to uplinks: the same FIFO parsed and converted to ``UplinkFrame`` (RSSI, timestamps).
- idle poll loop: the ``sx1302`` backend polling an empty FIFO every 10 ms for a while, on the
  register-level emulator behind the fake spidev; the process CPU time (event loop, worker
  thread *and* the emulated chip answering every frame) over the wall time, as a share of
  one core; target under 2 %. On hardware the chip side is the kernel's spidev instead.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from appliance.lorawan.identifiers import EUI64
from bench.protocol import Result
from hal.sx1302.backend import Sx1302Backend
from hal.sx1302.emulator import EmulatedSpiDev, EmulatedSx1302
from hal.sx1302.emulator.fifo import FifoPacket
from hal.sx1302.emulator.selftest import synthetic_firmware
from hal.sx1302.hardware import Hardware
from hal.sx1302.options import Sx1302Options, parse_options
from hal.sx1302.profiles import concentrator_config, load_profile
from hal.sx1302.receive import ReceptionContext, to_uplink
from hal.sx1302.rx_fifo import MAX_FIFO, parse_fifo
from hal.sx1302.spi import SpiTransport
from hal.sx1302.timestamps import CounterTracker


def full_fifo() -> bytes:
    packets = []
    size = 0
    index = 0
    while True:
        payload = bytes([0x40]) + index.to_bytes(4, "little") + bytes(range(15))
        encoded = FifoPacket(
            payload,
            if_chain=index % 8,
            spreading_factor=7 + index % 6,
            timestamp_32mhz=index * 3200,
        ).encode()
        if size + len(encoded) > MAX_FIFO:
            return b"".join(packets)
        packets.append(encoded)
        size += len(encoded)
        index += 1


def bench_fifo_parse(repeats: int) -> Result:
    fifo = full_fifo()
    count = len(parse_fifo(fifo).packets)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(100):
            result = parse_fifo(fifo)
        best = min(best, time.perf_counter() - start)
        assert len(result.packets) == count and not result.dropped
    return Result(f"sx1302 fifo parse: {len(fifo)} B, {count} packets", 100, best)


def bench_fifo_to_uplinks(repeats: int) -> Result:
    fifo = full_fifo()
    config = concentrator_config(load_profile("semtech-sx1302c868gw1"), "EU868")
    context = ReceptionContext(config, EUI64("0102030405060708"), 25.0, 0, None)
    best = float("inf")
    for _ in range(repeats):
        counter = CounterTracker()
        start = time.perf_counter()
        for _ in range(20):
            packets = parse_fifo(fifo).packets
            frames = [to_uplink(p, context, counter, n) for n, p in enumerate(packets)]
        best = min(best, time.perf_counter() - start)
        assert len(frames) == len(packets)
    return Result("sx1302 fifo -> UplinkFrames (full FIFO)", 20, best)


class _RealTimeClock:
    """Real time, except that sleeping only moves it forward (the start's radio resets take
    no wall time), so the emulated counter runs and the driver refreshes it as on hardware."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(frozen=True, slots=True)
class CpuShare:
    name: str
    cpu_seconds: float
    wall_seconds: float
    polls: int

    @property
    def share(self) -> float:
        return self.cpu_seconds / self.wall_seconds

    @property
    def operations(self) -> int:
        return self.polls

    @property
    def per_second(self) -> float:
        return self.polls / self.wall_seconds

    def line(self) -> str:
        return (
            f"{self.name:<48} {100 * self.share:>11.2f} % of one core "
            f"({self.polls} polls, {self.cpu_seconds / max(self.polls, 1) * 1e6:.0f} µs CPU each)"
        )


def bench_idle_poll(duration_s: float, interval_ms: int = 20) -> CpuShare:
    options: Sx1302Options = parse_options(
        {
            "profile": "rak2287",
            "region": "EU868",
            "stats_interval_s": 3600,
            "poll_interval_ms": interval_ms,
        }
    )
    clock = _RealTimeClock()
    chip = EmulatedSx1302(clock, tracing=False)

    def opener(_: Sx1302Options, __: object) -> Hardware:
        return Hardware(SpiTransport(EmulatedSpiDev(chip)))

    agc, arb = synthetic_firmware()
    backend = Sx1302Backend(options, agc=agc, arb=arb, opener=opener, clock=clock)

    async def run() -> CpuShare:
        await backend.start()
        await asyncio.sleep(0.2)  # settle
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(duration_s)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await backend.stop()
        polls = round(wall / options.poll_interval_s)
        return CpuShare(f"sx1302 idle poll loop ({interval_ms} ms)", cpu, wall, polls)

    return asyncio.run(run())


def run(quick: bool) -> list[Result | CpuShare]:
    repeats = 1 if quick else 5
    return [
        bench_fifo_parse(repeats),
        bench_fifo_to_uplinks(repeats),
        bench_idle_poll(1.0 if quick else 20.0),
        bench_idle_poll(1.0 if quick else 20.0, interval_ms=10),
    ]
