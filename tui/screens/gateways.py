"""The gateways the appliance hears: packet forwarders on the network (Semtech UDP, Basics
Station) and the local concentrators, with their statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui import format as fmt
from tui.client import ClientError
from tui.screens.base import ConsoleScreen
from tui.state.parts import parse_parts
from tui.widgets.panels import Panel

if TYPE_CHECKING:
    from tui.app import Connection
    from tui.client.api import JSON

# ChirpStack GatewayStats counters, camelCase as the API prints them.
STAT_COLUMNS = (
    ("rxPacketsReceived", "rx"),
    ("rxPacketsReceivedOk", "rx ok"),
    ("txPacketsReceived", "tx req"),
    ("txPacketsEmitted", "tx sent"),
)


def _stat(stats: Any, key: str) -> str:
    if not isinstance(stats, dict):
        return fmt.DASH
    return fmt.value(stats.get(key))


class GatewaysScreen(ConsoleScreen):
    MODE = "gateways"
    CSS_PATH = "gateways.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Refresh", tooltip="load the gateways again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.gateways: list[JSON] = []

    def compose_body(self) -> ComposeResult:
        yield Static("Gateways (forwarders and virtual radios)", classes="section")
        table: DataTable[str] = DataTable(id="gateways", cursor_type="row", zebra_stripes=True)
        yield table
        yield Panel("Backends and concentrators", id="concentrators")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#gateways", DataTable)
        table.add_columns(
            "gateway", "name", "via", "last seen", *(label for _, label in STAT_COLUMNS)
        )
        table.loading = True
        table.focus()
        self.reload()
        self.set_interval(self.console_app.refresh_seconds, self._background_reload)
        self._show_concentrators()

    def on_screen_resume(self) -> None:
        self.reload()

    def on_status(self, connection: Connection) -> None:
        self._show_concentrators()
        if connection.ok and not self.gateways:
            self.reload()

    def _background_reload(self) -> None:
        if self.is_current:
            self.reload()

    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        api = self.console_app.api
        table = self.query_one("#gateways", DataTable)
        if api is None:
            return
        try:
            self.gateways = await api.list_gateways()
        except ClientError as error:
            self.notify_error(error)
            return
        finally:
            table.loading = False
        now = self.console_app.clock()
        cursor = table.cursor_row
        table.clear()
        for gateway in self.gateways:
            stats = gateway.get("stats")
            table.add_row(
                gateway.get("gatewayId", ""),
                gateway.get("name", ""),
                gateway.get("connectedThrough") or fmt.DASH,
                fmt.ago(gateway.get("lastSeenAt"), now),
                *(_stat(stats, key) for key, _ in STAT_COLUMNS),
                key=gateway.get("gatewayId"),
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)

    def _show_concentrators(self) -> None:
        parts = [p for p in parse_parts(self.console_app.status) if p.group == "radio"]
        rows = [
            (
                part.name,
                part.state,
                fmt.value(part.get("gateway_count")),
                fmt.value(part.get("chip")),
                fmt.value(part.temperature, "°C"),
                part.detail,
            )
            for part in parts
        ]
        self.query_one("#concentrators", Panel).show_rows(
            rows,
            headers=("part", "state", "gws", "chip", "temp", "detail"),
            empty="none reported by the appliance",
        )
