"""What a person sees: every screen at 80x24 and 120x40, drawn from the fixed appliance of
``fake_api`` at a fixed time. Update after a deliberate change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.tui.helpers import fake_app, still, wait_until
from tui.app import ConsoleApp
from tui.screens.config import ConfigScreen
from tui.screens.device_detail import DeviceDetailScreen
from tui.screens.device_form import DeviceForm
from tui.screens.downlink_form import DownlinkForm
from tui.screens.help import HelpScreen
from tui.widgets.log_view import LogView

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Step = Callable[[Pilot[Any]], Awaitable[None]]


def _app(pilot: Pilot[Any]) -> ConsoleApp:
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    return app


async def _connected(pilot: Pilot[Any], *, live: bool) -> None:
    app = _app(pilot)
    await wait_until(pilot, lambda: app.connection.ok and app.directory.names, what="first poll")
    if live:
        await wait_until(pilot, lambda: len(app.feed.log) == 18, what="the live items")
    else:
        await wait_until(pilot, lambda: "no live stream" in app.stream_state, what="no stream")


async def _table_loaded(pilot: Pilot[Any], selector: str) -> None:
    def loaded() -> bool:
        found = pilot.app.screen.query(selector)
        if not found:
            return False
        table = found.first()
        assert isinstance(table, DataTable | LogView)
        return not table.loading and table.row_count > 0

    await wait_until(pilot, loaded, what=f"rows in {selector}")


def _steps(*steps: Step, live: bool = True) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await _connected(pilot, live=live)
        for step in steps:
            await step(pilot)
        await pilot.pause()
        still(_app(pilot))
        await pilot.pause()

    return run


def _press(*keys: str) -> Step:
    async def press(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)
        await pilot.pause()

    return press


def _wait_table(selector: str) -> Step:
    async def wait(pilot: Pilot[Any]) -> None:
        await _table_loaded(pilot, selector)

    return wait


def _wait_screen(kind: type[Any], ready: Callable[[Any], object] = bool) -> Step:
    async def wait(pilot: Pilot[Any]) -> None:
        await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, kind) and ready(pilot.app.screen),
            what=kind.__name__,
        )

    return wait


def _no_loading(pilot_screen: Any) -> bool:
    return not any(widget.loading for widget in pilot_screen.query("*"))


def _options_loaded(screen: Any) -> bool:
    return _no_loading(screen) and screen.choices_loaded


CASES: dict[str, tuple[dict[str, Any], Callable[[Pilot[Any]], Awaitable[None]]]] = {
    "dashboard": ({}, _steps()),
    "live": ({}, _steps(_press("2"), _wait_table("#log"))),
    "live_detail": ({}, _steps(_press("2"), _wait_table("#log"), _press("up", "enter"))),
    "live_filtered": (
        {},
        _steps(_press("2"), _wait_table("#log"), _press("slash", *"cold", "escape")),
    ),
    "devices": ({}, _steps(_press("3"), _wait_table("#devices"))),
    "device_detail": (
        {},
        _steps(
            _press("3"),
            _wait_table("#devices"),
            _press("enter"),
            _wait_screen(DeviceDetailScreen, _no_loading),
        ),
    ),
    "device_keys_revealed": (
        {},
        _steps(
            _press("3"),
            _wait_table("#devices"),
            _press("enter"),
            _wait_screen(DeviceDetailScreen, _no_loading),
            _press("k"),
            _wait_screen(DeviceDetailScreen, lambda s: s.keys is not None),
        ),
    ),
    "device_add": (
        {},
        _steps(
            _press("3"),
            _wait_table("#devices"),
            _press("a"),
            _wait_screen(DeviceForm, _options_loaded),
        ),
    ),
    "downlink": (
        {},
        _steps(
            _press("3"),
            _wait_table("#devices"),
            _press("n"),
            _wait_screen(DownlinkForm),
            _press(*"01ff"),
        ),
    ),
    "applications": ({}, _steps(_press("4"), _wait_table("#integrations"))),
    "gateways": ({}, _steps(_press("5"), _wait_table("#gateways"))),
    "config": (
        {},
        _steps(_press("6"), _wait_screen(ConfigScreen, lambda s: s.document is not None)),
    ),
    "config_not_offered": (
        {"config_offered": False},
        _steps(_press("6"), _wait_screen(ConfigScreen, lambda s: not s.offered)),
    ),
    "no_live_stream": (
        {"stream": False},
        _steps(_press("2"), _press(), live=False),
    ),
    "help": ({}, _steps(_press("question_mark"), _wait_screen(HelpScreen))),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", list(CASES))
def test_screen(case: str, size: tuple[int, int], snap_compare: Any) -> None:
    options, run_before = CASES[case]
    app, _ = fake_app(**options)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
