"""Basics Station uplink handling: JSON ``updf`` -> PHYPayload -> UplinkFrame, one core.

- in process: ``StationSession.receive_text`` on distinct ``updf`` messages (JSON parse, field
  checks, PHYPayload rebuild, UplinkFrame with its radio metadata);
- loopback WebSocket: a station emulator on 127.0.0.1 sends the same messages to a running
  ``BasicStationBackend`` and the clock stops when the last UplinkFrame leaves ``events()``
  (client and server share the one core and event loop, so this is a lower bound).

Target: 10,000 messages/s or more.
"""

from __future__ import annotations

import asyncio
import json
import time

from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import get_region
from bench.protocol import Result
from hal.basic_station import (
    BasicStationBackend,
    SessionConfig,
    StationDataRates,
    StationSession,
    parse_options,
    region_channels,
)
from hal.basic_station.emulator import StationEmulator, uplink_message
from hal.basic_station.timing import make_xtime
from hal.model import UplinkFrame

GATEWAY = EUI64("0016c001ff10a235")
PAYLOAD = bytes(range(20))


def _messages(count: int) -> list[str]:
    texts = []
    for index in range(count):
        dev_addr = (0x26000000 + index % 100).to_bytes(4, "little")
        f_cnt = (index // 100).to_bytes(2, "little")
        frame = (
            b"\x40" + dev_addr + b"\x00" + f_cnt + b"\x01" + PAYLOAD + index.to_bytes(4, "little")
        )
        message = uplink_message(
            frame,
            data_rate=index % 6,
            frequency_hz=868_100_000 + 200_000 * (index % 3),
            xtime=make_xtime(0, 1, 1_000_000 + index * 1000),
            gpstime_us=1_400_000_000_000_000 + index * 1000,
            rssi=-100 + index % 50,
            snr=7.5,
            rxtime=1_700_000_000.0 + index / 1000,
        )
        texts.append(json.dumps(message))
    return texts


def bench_in_process(count: int, repeats: int) -> Result:
    rates = StationDataRates(get_region("EU868"))
    config = SessionConfig(rates, region_channels(rates.region), rate_limit_per_s=1e12)
    texts = _messages(count)
    best = float("inf")
    for _ in range(repeats):
        session = StationSession(GATEWAY, config, now_ns=0)
        start = time.perf_counter()
        for text in texts:
            session.receive_text(text, 0, 0)
        best = min(best, time.perf_counter() - start)
        if session.drops:
            raise AssertionError(f"benchmark messages were dropped: {session.drops}")
    return Result("basic-station updf: JSON -> UplinkFrame (in process)", count, best)


async def _loopback_once(texts: list[str]) -> float:
    options = parse_options(
        {"bind": "127.0.0.1:0", "rate_limit_per_s": 1e12, "max_queue": len(texts) + 10}
    )
    backend = BasicStationBackend(options)
    await backend.start()
    events = backend.events()
    try:
        async with await StationEmulator.connect(
            f"ws://127.0.0.1:{backend.port}/gateway/{GATEWAY}", GATEWAY
        ) as station:
            await anext(events)  # GatewayConnected

            async def consume() -> None:
                received = 0
                async for event in events:
                    if isinstance(event, UplinkFrame):
                        received += 1
                        if received == len(texts):
                            return

            start = time.perf_counter()
            consumer = asyncio.create_task(consume())
            for text in texts:
                await station.connection.send(text)
            await asyncio.wait_for(consumer, 120)
            elapsed = time.perf_counter() - start
    finally:
        await backend.stop()
        async for _ in events:
            pass
    if backend.drop_counts:
        raise AssertionError(f"benchmark messages were dropped: {backend.drop_counts}")
    return elapsed


def bench_loopback(count: int, repeats: int) -> Result:
    texts = _messages(count)
    best = min(asyncio.run(_loopback_once(texts)) for _ in range(repeats))
    return Result("basic-station updf: over loopback WebSocket", count, best)


def run(quick: bool) -> list[Result]:
    count, repeats = (2_000, 1) if quick else (50_000, 3)
    return [bench_in_process(count, repeats), bench_loopback(count, repeats)]


if __name__ == "__main__":
    for result in run(quick=False):
        print(result.line())
