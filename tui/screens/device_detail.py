"""One device: its settings, session, root keys (masked until revealed), downlink queue,
recent events and link quality over its last uplinks."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.widgets import Sparkline, Static

from tui import format as fmt
from tui.client import ClientError, Missed, NotOfferedError
from tui.screens.base import ConsoleScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.device_form import DeviceForm
from tui.screens.downlink_form import DownlinkForm
from tui.state.decode import row_of
from tui.widgets.panels import Panel

if TYPE_CHECKING:
    from tui.app import Connection
    from tui.client.api import JSON
    from tui.client.stream_items import StreamItem
    from tui.state.frame_log import LogItem

RECENT_EVENTS = 10
_SESSION_KEYS = ("appSKey", "nwkSEncKey", "sNwkSIntKey", "fNwkSIntKey")


def _payload_hex(data: str) -> str:
    try:
        return base64.b64decode(data, validate=True).hex() or "(empty)"
    except (binascii.Error, ValueError):
        return "?"


class DeviceDetailScreen(ConsoleScreen):
    MODE = "devices"
    CSS_PATH = "device_detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", tooltip="back to the device list"),
        Binding("k", "reveal", "Reveal keys", tooltip="show or hide the keys"),
        Binding("e", "edit", "Edit", tooltip="edit this device"),
        Binding("n", "downlink", "Downlink", tooltip="queue a downlink"),
        Binding("f", "flush", "Flush queue", tooltip="remove every queued downlink"),
        Binding("delete", "delete", "Delete", tooltip="delete this device"),
        Binding("r", "reload", "Refresh", tooltip="load this device again"),
    ]

    def __init__(self, dev_eui: str) -> None:
        super().__init__()
        self.dev_eui = dev_eui
        self.device: JSON = {}
        self.activation: JSON | None = None
        self.keys: JSON | None = None
        self.revealed = False
        self.events: list[StreamItem] = []
        self.events_from_log = False

    def compose_body(self) -> ComposeResult:
        with Grid(id="detail-grid"):
            yield Panel("Device", id="device")
            yield Panel("Session", id="session")
            yield Panel("Keys", id="keys")
            with Vertical(id="link"):
                yield Static(id="rssi-label")
                yield Sparkline([], id="rssi")
                yield Static(id="snr-label")
                yield Sparkline([], id="snr")
            yield Panel("Downlink queue", id="queue")
            yield Panel("Recent events", id="events")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#link").border_title = "Link: RSSI / SNR of recent uplinks"
        self.query_one("#detail-grid").loading = True
        self.reload()

    def on_status(self, connection: Connection) -> None:
        if connection.ok and not self.device:
            self.reload()

    def on_live(self, batch: list[LogItem]) -> None:
        directory = self.console_app.directory
        if self.events_from_log and any(directory.dev_eui_of(i) == self.dev_eui for i in batch):
            self._events_from_log()
            self._show_events()

    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        api = self.console_app.api
        grid = self.query_one("#detail-grid")
        if api is None:
            return
        try:
            self.device = await api.get_device(self.dev_eui)
            self.activation = await api.get_activation(self.dev_eui)
            queue = await api.list_queue(self.dev_eui)
            link = await api.link_metrics(self.dev_eui)
            try:
                self.events = await api.device_events(self.dev_eui, RECENT_EVENTS)
                self.events_from_log = False
            except NotOfferedError:
                self._events_from_log()
            if self.revealed:
                self.keys = await api.get_keys(self.dev_eui)
        except ClientError as error:
            self.notify_error(error)
            return
        finally:
            grid.loading = False
        self._show_device()
        self._show_session()
        self._show_keys()
        self._show_queue(queue)
        self._show_link(link)
        self._show_events()

    def _events_from_log(self) -> None:
        """Without the appliance's event log: what this console saw on the live stream."""
        self.events_from_log = True
        directory = self.console_app.directory
        entries = [
            e.item
            for e in self.console_app.feed.log
            if directory.dev_eui_of(e.item) == self.dev_eui
        ]
        self.events = list(entries[-RECENT_EVENTS:])

    # Panels
    def _show_device(self) -> None:
        d = self.device
        now = self.console_app.clock()
        self.query_one("#device", Panel).border_title = f"Device {d.get('name', '')}"
        self.query_one("#device", Panel).show_rows(
            [
                ("DevEUI", d.get("devEui", "")),
                ("JoinEUI", d.get("joinEui", "")),
                ("profile", f"{d.get('deviceProfileName', '')} ({d.get('macVersion', '')})"),
                ("enabled", fmt.value(d.get("enabled"))),
                ("last seen", fmt.ago(d.get("lastSeenAt"), now)),
                ("RSSI/SNR", f"{fmt.value(d.get('rssi'))}/{fmt.value(d.get('snr'))}"),
                ("battery", fmt.battery(d.get("batteryLevel"), d.get("externalPower"))),
                ("margin", fmt.value(d.get("margin"), " dB")),
                ("description", d.get("description") or fmt.DASH),
            ]
        )

    def _show_session(self) -> None:
        a = self.activation
        panel = self.query_one("#session", Panel)
        if a is None:
            panel.show_rows([], empty="not activated (no join yet)")
            return
        rows: list[tuple[str, str]] = [
            ("DevAddr", a.get("devAddr", "")),
            ("FCnt up/down", f"{a.get('fCntUp')}/{a.get('nFCntDown')}/{a.get('aFCntDown')}"),
            ("DR / TX power", f"DR{a.get('dr')} / index {a.get('txPowerIndex')}"),
            ("ADR", fmt.value(a.get("adr"))),
            ("RX1 delay", f"{a.get('rx1Delay')} s"),
            ("RX2", f"DR{a.get('rx2Dr')} {fmt.megahertz(a.get('rx2Frequency'))} MHz"),
        ]
        rows.extend(
            (key, a[key] if self.revealed else fmt.mask(a[key]))
            for key in _SESSION_KEYS
            if a.get(key)
        )
        panel.show_rows(rows)

    def _show_keys(self) -> None:
        panel = self.query_one("#keys", Panel)
        if not self.revealed:
            panel.show_rows(
                [("AppKey", fmt.mask("x")), ("NwkKey", fmt.mask("x")), ("", "k: reveal")]
            )
            return
        if self.keys is None:
            panel.show_rows([], empty="no root keys (ABP device)")
            return
        panel.show_rows(
            [
                ("AppKey", self.keys.get("appKey") or fmt.DASH),
                ("NwkKey", self.keys.get("nwkKey") or fmt.DASH),
            ]
        )

    def _show_queue(self, queue: list[JSON]) -> None:
        rows = [
            (
                str(item.get("id", ""))[:8],
                f"port {item.get('fPort')}",
                "confirmed" if item.get("confirmed") else "unconfirmed",
                "pending" if item.get("pending") else "queued",
                _payload_hex(str(item.get("data", ""))),
            )
            for item in queue
        ]
        self.query_one("#queue", Panel).show_rows(rows, empty="empty")

    def _show_link(self, link: JSON) -> None:
        rssi = [float(v) for v in link.get("maxRssi", []) if isinstance(v, int | float)]
        snr = [float(v) for v in link.get("maxSnr", []) if isinstance(v, int | float)]
        self.query_one("#rssi", Sparkline).data = rssi
        self.query_one("#snr", Sparkline).data = snr
        self.query_one("#rssi-label", Static).update(_range("RSSI dBm", rssi))
        self.query_one("#snr-label", Static).update(_range("SNR dB", snr))

    def _show_events(self) -> None:
        names = self.console_app.directory
        rows = []
        shown = [item for item in self.events if not isinstance(item, Missed)]
        for item in sorted(shown, key=lambda item: item.time, reverse=True):
            row = row_of(item, names)
            rows.append((row.time, row.kind, row.f_cnt, row.info))
        source = "from this console's live log" if self.events_from_log else ""
        panel = self.query_one("#events", Panel)
        panel.border_subtitle = source
        panel.show_rows(rows, empty="none yet")

    # Actions
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        if self.revealed:
            self.reload()
        else:
            self.keys = None
            self._show_keys()
            self._show_session()

    def action_edit(self) -> None:
        if self.device:
            self.app.push_screen(DeviceForm(self.device), self._changed)

    def action_downlink(self) -> None:
        self.app.push_screen(
            DownlinkForm(self.dev_eui, self.device.get("name", self.dev_eui)), self._changed
        )

    def _changed(self, result: JSON | None) -> None:
        if result is not None:
            self.notify("saved")
            self.reload()

    def action_flush(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.flush()

        self.app.push_screen(ConfirmScreen("Remove every queued downlink?", yes="Flush"), answered)

    @work(group="flush")
    async def flush(self) -> None:
        api = self.console_app.api
        if api is None:
            return
        try:
            await api.flush_queue(self.dev_eui)
        except ClientError as error:
            self.notify_error(error)
            return
        self.reload()

    def action_delete(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.delete()

        question = f"Delete {self.device.get('name', self.dev_eui)} ({self.dev_eui})?"
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="delete")
    async def delete(self) -> None:
        api = self.console_app.api
        if api is None:
            return
        try:
            await api.delete_device(self.dev_eui)
        except ClientError as error:
            self.notify_error(error)
            return
        self.notify(f"deleted {self.dev_eui}")
        self.app.pop_screen()


def _range(label: str, values: list[float]) -> Text:
    if not values:
        return Text(f"{label}: no uplinks yet", style="dim")
    return Text.assemble(
        (f"{label} ", "dim"),
        f"{min(values):g} … {max(values):g}",
        ("  last ", "dim"),
        f"{values[-1]:g}",
    )
