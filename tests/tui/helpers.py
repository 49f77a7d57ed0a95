"""Waiting on the console in pilot tests without sleeping blindly: poll a condition between
the app's own message processing, with a deadline."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from rich.console import Console
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from tests.tui.fake_api import NOW, FakeAPI
from tui.app import ConsoleApp


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 15, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        await pilot.pause(0.05)


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text (tables rendered, styles dropped)."""
    content = widget.content
    if isinstance(content, str):
        return content
    if isinstance(content, Content):
        return content.plain
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(content)
    return console.export_text()


def still(app: ConsoleApp) -> None:
    """No blinking cursors: the same picture on every run."""
    for screen in app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False


def fake_app(**options: Any) -> tuple[ConsoleApp, FakeAPI]:
    """The console on the fixed appliance, at a fixed time, with a known traffic history."""
    api = FakeAPI(**options)
    app = ConsoleApp(lambda: api, target_name="fake", clock=lambda: NOW, refresh_seconds=3600)
    per_minute = [minute * 5 % 9 + 2 for minute in range(30)]  # 2..10, the same every run
    total = 1_234 - sum(per_minute)
    app.uplink_rate.observe(total, NOW - timedelta(minutes=30))
    for minute, count in zip(range(29, -1, -1), per_minute, strict=False):
        total += count
        app.uplink_rate.observe(total, NOW - timedelta(minutes=minute))
    return app, api
