"""The console's live log under load: 200 stream messages a second into the live-frames
screen of a headless console (120x40), for a fixed time.

Messages arrive as JSON text, as the WebSocket delivers them, and go the whole way: parsing,
the feed's batches, the bounded log, the filter, the table. Reported: CPU time of the whole
process per message handled (the console's idle redraws included), the share of one core
that is, and the event-loop lag seen by a probe that wakes every 20 ms (what a key press
would wait), as its 99th percentile: single outliers on a shared machine say more about the
machine than about the console. The source is a synthetic appliance in this process: the
API's own cost is not part of the figure.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections.abc import AsyncGenerator
from typing import Any

from bench.protocol import Result
from tui.app import ConsoleApp
from tui.client.api import JSON, StreamFilters
from tui.client.stream_items import StreamItem, parse_stream_message
from tui.screens.frames import VIEW_ROWS, FramesScreen
from tui.widgets.log_view import LogView

RATE = 200  # messages per second
DEVICES = 50


def _messages(count: int) -> list[str]:
    """Uplink frames and their ``up`` events, from ``DEVICES`` devices, as JSON text."""
    texts = []
    for index in range(count):
        device = index // 2 % DEVICES
        dev_eui = f"70b3d57ed0{device:06x}"
        dev_addr = f"01{device:06x}"
        time_text = (
            f"2026-11-21T12:{index // 6000 % 60:02d}:{index // 100 % 60:02d}.{index % 100:02d}0Z"
        )
        if index % 2 == 0:
            phy = bytes([0x40]) + bytes.fromhex(dev_addr)[::-1] + bytes([0x80, index & 0xFF, 0, 1])
            phy += bytes(12) + b"\x11\x22\x33\x44"
            message: JSON = {
                "type": "frame",
                "direction": "up",
                "gatewayId": "0016c001ff100001",
                "devEui": None,
                "devAddr": dev_addr,
                "fType": "UNCONFIRMED_DATA_UP",
                "time": time_text,
                "body": {
                    "phyPayload": base64.b64encode(phy).decode(),
                    "txInfo": {
                        "frequency": 868_100_000 + index % 3 * 200_000,
                        "modulation": {
                            "lora": {"bandwidth": 125_000, "spreadingFactor": 7 + index % 6}
                        },
                    },
                    "rxInfo": [{"gatewayId": "0016c001ff100001", "rssi": -90, "snr": 7.5}],
                },
            }
        else:
            message = {
                "type": "event",
                "kind": "up",
                "devEui": dev_eui,
                "applicationId": "5e1f0000-0000-4000-8000-000000000002",
                "time": time_text,
                "body": {
                    "deviceInfo": {"deviceName": f"sensor-{device}", "devEui": dev_eui},
                    "devAddr": dev_addr,
                    "fCnt": index,
                    "fPort": 1,
                    "dr": 5,
                    "data": "AQIDBA==",
                    "object": {"temperature": 21.5, "humidity": 40},
                },
            }
        texts.append(json.dumps(message))
    return texts


class _SyntheticAppliance:
    """Just enough of the API for the live screen, with a stream paced at ``RATE``."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.go = asyncio.Event()
        self.done = asyncio.Event()
        self.sent = 0

    @property
    def url(self) -> str:
        return "synthetic"

    async def close(self) -> None:
        return None

    async def system_status(self) -> JSON:
        return {"region": "EU868", "uplinks": self.sent // 2, "joins": 0, "parts": {}}

    async def metrics(self) -> str:
        return ""

    async def list_devices(self, *, search: str = "", limit: int = 1000) -> list[JSON]:
        return []

    async def stream(
        self, filters: StreamFilters | None = None
    ) -> AsyncGenerator[StreamItem, None]:
        await self.go.wait()
        start = time.perf_counter()
        while self.sent < len(self.texts):
            due = min(int((time.perf_counter() - start) * RATE), len(self.texts))
            while self.sent < due:
                yield parse_stream_message(json.loads(self.texts[self.sent]))
                self.sent += 1
            await asyncio.sleep(0.005)
        self.done.set()
        await asyncio.Event().wait()


async def _drive(seconds: float) -> tuple[int, float, float, float, int]:
    """(messages, CPU seconds, wall seconds, 99th percentile of the probe's lag, kept)"""
    api = _SyntheticAppliance(_messages(int(seconds * RATE)))
    # Only the calls of the live screen are answered: the rest of ApplianceAPI is not needed.
    connect: Any = lambda: api  # noqa: E731
    app = ConsoleApp(connect, target_name="bench", poll_seconds=1.0, freeze_startup=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        while not (app.connection.ok and app.stream_state == "connecting"):
            await pilot.pause(0.05)
        screen = app.screen
        assert isinstance(screen, FramesScreen)
        cpu, wall = time.process_time(), time.perf_counter()
        api.go.set()
        lags: list[float] = []
        while not api.done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.02)
            lags.append(time.perf_counter() - before - 0.02)
        await pilot.pause(2 * app.flush_seconds)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rows = screen.query_one("#log", LogView).row_count
        assert min(api.sent, VIEW_ROWS) <= rows <= 2 * VIEW_ROWS, (rows, api.sent)
        assert len(app.feed.log) == min(api.sent, app.feed.log.capacity)
        lags.sort()
        return api.sent, cpu, wall, lags[int(len(lags) * 0.99)], len(app.feed.log)


def run(quick: bool) -> list[Result]:
    seconds = 3.0 if quick else 30.0
    handled, cpu, wall, lag, _ = asyncio.run(_drive(seconds))
    name = f"console live log {RATE}/s: {cpu / wall:.0%} core, p99 lag {lag * 1e3:.0f} ms"
    return [Result(name, handled, cpu)]


if __name__ == "__main__":
    for result in run("--quick" in sys.argv):
        print(result.line())
