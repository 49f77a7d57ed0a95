"""The console's flows, driven from the keyboard with the pilot, against a real appliance on
loopback (``appliance run --simulate 3``, or one ``--simulate 10`` shared by the tests that change
nothing): what the console does is checked in the appliance through its API, not in the
console's own state."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from tests.appliance_process import Running, running_appliance
from tests.tui.helpers import text_of, wait_until
from tui.app import ConsoleApp
from tui.client import HTTPApplianceAPI, RefusedError, RejectedError, UnreachableError
from tui.screens.application_form import ApplicationForm, IntegrationForm
from tui.screens.config import ConfigScreen
from tui.screens.device_detail import DeviceDetailScreen
from tui.screens.device_form import DeviceForm
from tui.screens.downlink_form import DownlinkForm
from tui.screens.frames import VIEW_ROWS, FramesScreen
from tui.target import Target
from tui.widgets.log_view import LogView

pytestmark = pytest.mark.slow

SIMULATED = ["fffe000000000001", "fffe000000000002", "fffe000000000003"]


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Running]:
    with running_appliance(tmp_path / "data", "--simulate", "3") as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def busy_appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """``appliance run --simulate 10``, started with the module's first test, for the live log
    test. Simulated devices send their first uplinks some 15-20 s after a start (a join, then
    their 10 s interval), which that test spent waiting on a fresh appliance; this one has been
    sending all the while the tests before it ran, about one uplink a second by then. The tests
    that change nothing in the appliance use it too, rather than starting one each."""
    with running_appliance(tmp_path_factory.mktemp("busy") / "data", "--simulate", "10") as running:
        # Its log goes on for the whole module: read it, so a full pipe never stalls it.
        drain = threading.Thread(target=_read_to_the_end, args=(running.process,), daemon=True)
        drain.start()
        yield running


def _read_to_the_end(process: subprocess.Popen[bytes]) -> None:
    assert process.stderr is not None
    while os.read(process.stderr.fileno(), 65536):
        pass


def console(running: Running) -> ConsoleApp:
    return ConsoleApp(
        lambda: HTTPApplianceAPI(running.url, running.token),
        target_name=running.url,
        poll_seconds=0.5,
    )


def table(pilot: Pilot[Any], selector: str) -> DataTable[Any]:
    return pilot.app.screen.query_one(selector, DataTable)


async def rows_loaded(pilot: Pilot[Any], selector: str, count: int = 1) -> None:
    await wait_until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen.query(selector).first(), DataTable)
            and table(pilot, selector).row_count >= count
        ),
        what=f"{count} rows in {selector}",
    )


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.pause()
    await pilot.press(*text)


async def test_dashboard_shows_the_appliance(appliance: Running) -> None:
    app = console(appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        system = app.screen.query_one("#system", Static)
        await wait_until(pilot, lambda: "EU868" in text_of(system), what="the status")
        totals = app.screen.query_one("#totals", Static)
        await wait_until(pilot, lambda: "devices 3" in " ".join(text_of(totals).split()))
        await wait_until(pilot, lambda: app.status.get("joins", 0) >= 1, what="a join")


async def test_add_a_device_with_generated_keys(appliance: Running) -> None:
    app = console(appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await rows_loaded(pilot, "#devices", 3)
        await pilot.press("a")
        await wait_until(
            pilot, lambda: isinstance(app.screen, DeviceForm) and app.screen.choices_loaded
        )
        form = app.screen
        await type_into(pilot, "#name", "boiler-room")
        await pilot.press("ctrl+g")  # a new DevEUI and AppKey
        dev_eui = form.query_one("#dev-eui", Input).value
        app_key = form.query_one("#app-key", Input).value
        assert len(dev_eui) == 16 and len(app_key) == 32
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, DeviceForm), what="saved")
        await rows_loaded(pilot, "#devices", 4)
    with appliance.client() as client:
        device = client.get(f"/api/devices/{dev_eui}").json()
        assert device["name"] == "boiler-room"
        assert client.get(f"/api/devices/{dev_eui}/keys").json()["appKey"] == app_key


async def test_a_refused_device_keeps_the_form_open_with_the_reason(
    busy_appliance: Running,
) -> None:
    app = console(busy_appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await rows_loaded(pilot, "#devices", 3)
        await pilot.press("a")
        await wait_until(
            pilot, lambda: isinstance(app.screen, DeviceForm) and app.screen.choices_loaded
        )
        await type_into(pilot, "#name", "twin")
        await type_into(pilot, "#dev-eui", SIMULATED[0])  # already enrolled
        await type_into(pilot, "#app-key", "00" * 16)
        await pilot.press("ctrl+s")
        error = app.screen.query_one("#error", Static)
        await wait_until(pilot, lambda: text_of(error).strip(), what="the refusal")
        assert isinstance(app.screen, DeviceForm)
        assert SIMULATED[0] in text_of(error) or "exists" in text_of(error)
        # A field that is wrong is named before anything is sent.
        app.screen.query_one("#dev-eui", Input).value = "12"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "DevEUI" in text_of(error))


async def test_enqueue_a_downlink(appliance: Running) -> None:
    quiet = "70b3d57ed0000042"  # enrolled, never transmits: its queue only fills
    with appliance.client() as client:
        response = client.post(
            "/api/devices",
            json={"devEui": quiet, "name": "a-quiet-one", "appKey": "11" * 16},
        )
        assert response.status_code == 201, response.text
    app = console(appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await rows_loaded(pilot, "#devices", 4)  # sorted by name: a-quiet-one first
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, DownlinkForm))
        await pilot.press(*"01ff")
        form = app.screen
        form.query_one("#f-port", Input).value = "42"
        form.query_one("#confirmed", Checkbox).value = True
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, DownlinkForm), what="queued")
        # The device's page shows it in the queue.
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, DeviceDetailScreen) and app.screen.device,
            what="detail",
        )
        queue = app.screen.query_one("#queue", Static)
        await wait_until(pilot, lambda: "01ff" in text_of(queue), what="queue panel")
    with appliance.client() as client:
        (item,) = client.get(f"/api/devices/{quiet}/queue").json()
    assert item["fPort"] == 42
    assert item["confirmed"] is True
    assert base64.b64decode(item["data"]) == b"\x01\xff"


async def test_every_action_is_in_the_command_palette(busy_appliance: Running) -> None:
    app = console(busy_appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await rows_loaded(pilot, "#devices", 3)
        await pilot.press("ctrl+p")
        await pilot.press(*"downlink")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DownlinkForm), what="the form")
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"go to live", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FramesScreen), what="Live")


async def test_delete_a_device(appliance: Running) -> None:
    app = console(appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await rows_loaded(pilot, "#devices", 3)
        first = table(pilot, "#devices").coordinate_to_cell_key((0, 0)).row_key.value
        await pilot.press("delete")
        await pilot.press("y")
        await wait_until(pilot, lambda: table(pilot, "#devices").row_count == 2, what="gone")
    with appliance.client() as client:
        assert client.get(f"/api/devices/{first}").status_code == 404


async def test_reveal_the_keys_of_a_device(busy_appliance: Running) -> None:
    app = console(busy_appliance)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await rows_loaded(pilot, "#devices", 3)
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, DeviceDetailScreen) and app.screen.device,
            what="detail",
        )
        keys = app.screen.query_one("#keys", Static)
        with busy_appliance.client() as client:
            app_key = client.get(f"/api/devices/{SIMULATED[0]}/keys").json()["appKey"]
        assert app_key not in text_of(keys)
        await pilot.press("k")
        await wait_until(pilot, lambda: app_key in text_of(keys), what="revealed key")
        await pilot.press("k")
        await wait_until(pilot, lambda: app_key not in text_of(keys), what="hidden again")


async def test_filter_the_live_log(busy_appliance: Running) -> None:
    app = console(busy_appliance)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, FramesScreen)
        log = app.screen.query_one("#log", LogView)
        # Simulated traffic: wait for frames from two different devices.
        await wait_until(
            pilot,
            lambda: (
                len({e.item.dev_eui for e in app.feed.log if e.item.dev_eui}) >= 2
                and any(e.item.kind == "uplink" for e in app.feed.log)
            ),
            timeout=90,
            what="traffic from two devices",
        )
        wanted = next(e.item.dev_eui for e in app.feed.log if e.item.dev_eui)
        assert wanted is not None
        await pilot.press("slash", *wanted)
        await wait_until(pilot, lambda: screen.filter.device == wanted)
        shown = [log.cells(i) for i in range(log.row_count)]
        assert shown, "the filter left nothing"
        names = {app.directory.names.get(wanted, wanted), wanted}
        assert all(row[2] in names for row in shown), shown
        # Only uplink frames of that device.
        screen.query_one("#f-type", Select).value = "uplink"
        await wait_until(pilot, lambda: screen.filter.kind == "uplink")
        assert all(str(log.cells(i)[1]) == "▲ up" for i in range(log.row_count))
        # Pausing freezes the table while items keep arriving in the log.
        await pilot.press("escape", "p")
        assert screen.paused
        frozen = log.row_count
        before = app.feed.log.last_seq
        await wait_until(pilot, lambda: app.feed.log.last_seq > before, timeout=60)
        assert log.row_count == frozen
        await pilot.press("p", "x")
        await wait_until(pilot, lambda: screen.filter.is_empty and not screen.paused)
        assert log.row_count == min(len(app.feed.log), VIEW_ROWS)
        # The detail pane shows the raw bytes of a frame.
        await pilot.press("enter")
        detail = text_of(screen.query_one("#detail").query_one(Static))
        assert "phyPayload" in detail or "devEui" in detail


async def test_edit_the_configuration_and_restart(appliance: Running) -> None:
    app = console(appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, ConfigScreen)
        await wait_until(pilot, lambda: screen.document is not None, what="the configuration")
        assert screen.query_one("#region", Select).value == "EU868"
        screen.query_one("#region", Select).value = "US915"
        screen.query_one("#mode", Select).value = "forwarder"
        screen.query_one("#transport", Select).value = "mqtt"
        screen.query_one("#url", Input).value = "not a url"
        screen.query_one("#gateways", Input).value = "0016c001ff100001"
        await pilot.press("ctrl+s")
        error = screen.query_one("#config-error", Static)
        assert "bridge server: an MQTT broker URL" in text_of(error)  # checked here, not sent
        screen.query_one("#url", Input).value = "mqtt://127.0.0.1:1883"
        await pilot.press("ctrl+s")
        state = screen.query_one("#config-state", Static)
        await wait_until(pilot, lambda: "restart to apply" in text_of(state), what="saved")
        assert text_of(error) == ""
        with appliance.client() as client:
            saved = client.get("/api/system/config").json()
        assert saved["restartRequired"] is True
        assert saved["file"]["region"] == "US915"
        assert saved["file"]["bridge"]["mqtt"]["url"] == "mqtt://127.0.0.1:1883"
        assert saved["file"]["bridge"]["gateway_ids"] == ["0016c001ff100001"]
        assert saved["running"]["region"] == "EU868"  # until the restart
        # What only the appliance can tell is wrong comes back as its one line.
        screen.query_one("#url", Input).value = "mqtt://"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "bridge.mqtt.url" in text_of(error), what="refusal")
        # Restart: started by hand (not under systemd), the appliance stops.
        await pilot.press("ctrl+r", "y")
        await wait_until(pilot, lambda: appliance.process.poll() is not None, timeout=30)
        assert appliance.process.returncode == 75
        await wait_until(pilot, lambda: app.connection.state == "unreachable", what="gone")
    assert 'region = "US915"' in (appliance.data_dir / "appliance.toml").read_text()


async def test_add_an_application_and_its_integration(appliance: Running) -> None:
    app = console(appliance)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await rows_loaded(pilot, "#apps", 1)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ApplicationForm))
        await type_into(pilot, "#name", "cold chain")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ApplicationForm))
        await rows_loaded(pilot, "#apps", 2)
        apps = table(pilot, "#apps")
        names = [apps.get_row_at(i)[0] for i in range(apps.row_count)]
        apps.move_cursor(row=names.index("cold chain"))
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, IntegrationForm))
        form = app.screen
        form.query_one("#kind", Select).value = "http"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, IntegrationForm), what="saved")
        await rows_loaded(pilot, "#integrations", 1)
    with appliance.client() as client:
        (created,) = [
            a for a in client.get("/api/applications").json()["result"] if a["name"] == "cold chain"
        ]
        kinds = [
            i["kind"] for i in client.get(f"/api/applications/{created['id']}/integrations").json()
        ]
    assert kinds == ["http"]


async def test_waits_for_the_appliance_then_connects(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    target = Target(data_dir=data_dir)

    def connect() -> HTTPApplianceAPI:
        url, token = target.resolve()
        return HTTPApplianceAPI(url, token)

    app = ConsoleApp(connect, target_name=target.description, poll_seconds=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.connection.state == "waiting", what="waiting")
        banner = app.screen.query_one("#banner", Static)
        assert banner.display
        assert "admin.key" in text_of(banner)
        with running_appliance(data_dir, "--simulate", "1"):
            await wait_until(pilot, lambda: app.connection.ok, timeout=30, what="connected")
            await pilot.pause(0.2)
            assert not banner.display
        # Stopped: the console says so and keeps trying.
        await wait_until(pilot, lambda: app.connection.state == "unreachable", what="unreachable")
        assert "retrying" in text_of(banner)


async def test_the_client_says_what_is_wrong_in_one_line(busy_appliance: Running) -> None:
    wrong = HTTPApplianceAPI(busy_appliance.url, "wrong-token")
    with pytest.raises(RefusedError):
        await wrong.system_status()
    with pytest.raises(RefusedError):
        async for _ in wrong.stream():
            pass
    await wrong.close()
    dead = HTTPApplianceAPI("http://127.0.0.1:9", busy_appliance.token, timeout=2)
    with pytest.raises(UnreachableError) as unreachable:
        await dead.system_status()
    assert "\n" not in str(unreachable.value)
    await dead.close()
    api = HTTPApplianceAPI(busy_appliance.url, busy_appliance.token)
    with pytest.raises(RejectedError) as rejected:
        await api.get_device("00000000000000ff")
    assert rejected.value.status == 404
    assert str(rejected.value) == "no device 00000000000000ff"
    await api.close()
