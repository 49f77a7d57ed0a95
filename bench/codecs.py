"""Payload codec speed: what one uplink's decode costs the application server.

- js decode latency: ``CodecRunner.decode_uplink`` awaited one at a time (an uplink at a time,
  as the pipeline does per device) with a typical vendor decoder: a switch on the port, Buffer
  reads, bit fields, a dozen fields out. Each call crosses to a sandbox process and back, so
  this is end to end: thread hand-off, pipe, JSON, QuickJS, result checks. p50 and p99.
- js decode, 64 in flight: the same with many uplinks waiting, both sandbox processes busy.
- cayenne lpp decode: in process, a 6-record payload.

Every payload is distinct, so no cache other than the compiled script helps.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from appliance.codecs import CodecRunner, CodecSpec, cayenne_lpp
from bench.protocol import Result

TYPICAL_DECODER = r"""
function decodeUplink(input) {
  var b = Buffer.from(input.bytes);
  switch (input.fPort) {
    case 2: {
      var flags = b.readUInt8(0);
      var data = {
        battery: (b.readUInt16BE(1) & 0x3fff) / 1000,
        batteryStatus: ["ultra low", "low", "ok", "good"][b[1] >> 6],
        temperature: b.readInt16BE(3) / 100,
        humidity: b.readUInt16BE(5) / 10,
        extTemperature: b.readInt16BE(7) === 0x7fff ? null : b.readInt16BE(7) / 100,
        counter: b.readUInt32LE(9),
        pressure: Math.round(b.readFloatLE(13) * 100) / 100,
        doorOpen: (flags & 0x01) !== 0,
        alarm: (flags & 0x02) !== 0,
        mode: (flags >> 4) & 0x07,
        raw: b.toString("hex"),
      };
      var warnings = data.battery < 2.5 ? ["battery low"] : [];
      return { data: data, warnings: warnings };
    }
    case 5:
      return { data: { firmware: b[0] + "." + b[1], interval: b.readUInt16BE(2) } };
    default:
      return { errors: ["unknown FPort " + input.fPort] };
  }
}
"""
RECV_TIME = datetime(2026, 11, 21, tzinfo=UTC)
LPP_PAYLOAD = bytes.fromhex("03670110056700ff036829016701f40271000100020003038806765ff2960a0003e8")


def uplink(index: int) -> bytes:
    """The ``index``-th port 2 payload: 17 bytes, every one distinct."""
    counter = index.to_bytes(4, "little")
    return (
        bytes([index & 0x33, 0x8B, 0xB8, 0x08, 0x6A, 0x02, 0x1C, 0x7F, 0xFF])
        + counter
        + bytes.fromhex("00507d44")
    )


@dataclass(frozen=True)
class LatencyResult:
    name: str
    operations: int
    seconds: float
    p50: float
    p99: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<48} p50 {self.p50 * 1e6:>6,.0f} µs  p99 {self.p99 * 1e6:>6,.0f} µs "
            f"({self.per_second:,.0f} /s)"
        )


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


async def _sequential(runner: CodecRunner, spec: CodecSpec, count: int) -> LatencyResult:
    latencies = []
    start = time.perf_counter()
    for index in range(count):
        began = time.perf_counter()
        result = await runner.decode_uplink(spec, f_port=2, data=uplink(index), recv_time=RECV_TIME)
        latencies.append(time.perf_counter() - began)
        assert result is not None and result.object["counter"] == index
    seconds = time.perf_counter() - start
    latencies.sort()
    return LatencyResult(
        "js decode, one at a time (end to end)",
        count,
        seconds,
        _percentile(latencies, 0.50),
        _percentile(latencies, 0.99),
    )


async def _concurrent(runner: CodecRunner, spec: CodecSpec, count: int) -> LatencyResult:
    window = asyncio.Semaphore(64)
    latencies: list[float] = []

    async def one(index: int) -> None:
        async with window:
            began = time.perf_counter()
            await runner.decode_uplink(spec, f_port=2, data=uplink(index), recv_time=RECV_TIME)
            latencies.append(time.perf_counter() - began)

    start = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(count)))
    seconds = time.perf_counter() - start
    latencies.sort()
    return LatencyResult(
        "js decode, 64 in flight",
        count,
        seconds,
        _percentile(latencies, 0.50),
        _percentile(latencies, 0.99),
    )


async def _js(count: int, repeats: int) -> list[LatencyResult]:
    spec = CodecSpec("js", TYPICAL_DECODER)
    async with CodecRunner(workers=2) as runner:
        await runner.start()
        for index in range(200):  # load the script in both workers, warm the caches
            await runner.decode_uplink(spec, f_port=2, data=uplink(index), recv_time=RECV_TIME)
        sequential = [await _sequential(runner, spec, count) for _ in range(repeats)]
        concurrent = [await _concurrent(runner, spec, count) for _ in range(repeats)]
    return [min(sequential, key=lambda r: r.p99), max(concurrent, key=lambda r: r.per_second)]


def bench_lpp(count: int, repeats: int) -> Result:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(count):
            cayenne_lpp.decode(LPP_PAYLOAD)
        best = min(best, time.perf_counter() - start)
    return Result("cayenne lpp decode (6 records, in process)", count, best)


def run(quick: bool) -> list[LatencyResult | Result]:
    count, repeats = (300, 1) if quick else (10_000, 3)
    return [*asyncio.run(_js(count, repeats)), bench_lpp(count * 10, repeats)]


if __name__ == "__main__":
    for result in run("--quick" in sys.argv):
        print(result.line())
