"""The devices: a sortable, searchable table; Enter opens one, and the keys below add, edit,
delete and queue downlinks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from tui import format as fmt
from tui.client import ClientError
from tui.screens.base import ConsoleScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.device_detail import DeviceDetailScreen
from tui.screens.device_form import DeviceForm
from tui.screens.downlink_form import DownlinkForm

if TYPE_CHECKING:
    from tui.app import Connection
    from tui.client.api import JSON

# (column key, heading, sort key of a device)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "name"),
    ("devEui", "DevEUI"),
    ("lastSeenAt", "last seen"),
    ("rssi", "RSSI/SNR"),
    ("batteryLevel", "battery"),
    ("fCntUp", "FCnt"),
    ("dr", "DR"),
)


def sort_key(device: JSON, column: str) -> tuple[int, Any]:
    value = device.get(column)
    if value is None:
        return (1, "")  # unknown values last whichever the direction
    return (0, value.lower() if isinstance(value, str) else value)


def device_cells(device: JSON, now: Any) -> tuple[str | Text, ...]:
    rssi, snr = device.get("rssi"), device.get("snr")
    signal = fmt.DASH if rssi is None else f"{rssi}/{fmt.value(snr)}"
    name: str | Text = device.get("name", "")
    if not device.get("enabled", True):
        name = Text(f"{name} (off)", style="dim")
    return (
        name,
        device.get("devEui", ""),
        fmt.ago(device.get("lastSeenAt"), now),
        signal,
        fmt.battery(device.get("batteryLevel"), device.get("externalPower")),
        fmt.value(device.get("fCntUp")),
        fmt.value(device.get("dr")),
    )


class DevicesScreen(ConsoleScreen):
    MODE = "devices"
    CSS_PATH = "devices.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", tooltip="add a device"),
        Binding("e", "edit", "Edit", tooltip="edit the highlighted device"),
        Binding("delete,d", "delete", "Delete", tooltip="delete the highlighted device"),
        Binding("n", "downlink", "Downlink", tooltip="queue a downlink for the highlighted device"),
        Binding("s", "sort", "Sort", tooltip="sort by the next column (again: reverse)"),
        Binding("slash", "search", "Search", key_display="/", tooltip="search by name or EUI"),
        Binding("r", "reload", "Refresh", tooltip="load the device list again"),
        Binding("escape", "focus_table", "Table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.devices: list[JSON] = []
        self.sort_column = "name"
        self.sort_reverse = False
        self._loaded = False

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="/ search by name or DevEUI", id="search", compact=True)
        yield Static(id="devices-state", classes="hint")
        table: DataTable[str | Text] = DataTable(
            id="devices", cursor_type="row", zebra_stripes=True
        )
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        table = self._table()
        for key, heading in COLUMNS:
            table.add_column(heading, key=key)
        table.loading = True
        table.focus()
        self.reload()
        self.set_interval(self.console_app.refresh_seconds, self._background_reload)

    def on_screen_resume(self) -> None:
        self.reload()

    def on_status(self, connection: Connection) -> None:
        if connection.ok and not self._loaded:
            self.reload()

    def _background_reload(self) -> None:
        if self.is_current:
            self.reload()

    def _table(self) -> DataTable[str | Text]:
        return self.query_one("#devices", DataTable)

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        api = self.console_app.api
        table = self._table()
        if api is None:
            self._state("not connected")
            return
        try:
            devices = await api.list_devices()
        except ClientError as error:
            self._state(str(error))
            return
        finally:
            table.loading = False
        self._loaded = True
        self.devices = devices
        self.console_app.directory.names.update(
            {d["devEui"]: d.get("name", "") for d in devices if "devEui" in d}
        )
        self.show()

    def shown_devices(self) -> list[JSON]:
        wanted = self.query_one("#search", Input).value.strip().lower()
        rows = [
            d
            for d in self.devices
            if not wanted
            or wanted in str(d.get("name", "")).lower()
            or wanted in str(d.get("devEui", "")).lower()
        ]
        rows.sort(key=lambda d: sort_key(d, self.sort_column), reverse=self.sort_reverse)
        if self.sort_reverse:  # keep unknown values last
            rows.sort(key=lambda d: d.get(self.sort_column) is None)
        return rows

    def show(self) -> None:
        table = self._table()
        highlighted = self.highlighted()
        table.clear()
        now = self.console_app.clock()
        rows = self.shown_devices()
        for device in rows:
            table.add_row(*device_cells(device, now), key=device.get("devEui"))
        if highlighted is not None:
            for index, device in enumerate(rows):
                if device.get("devEui") == highlighted.get("devEui"):
                    table.move_cursor(row=index, animate=False)
        heading = dict(COLUMNS)[self.sort_column]
        arrow = "▼" if self.sort_reverse else "▲"
        self._state(f"{len(rows)} of {len(self.devices)} devices · sorted by {heading} {arrow}")

    def _state(self, message: str) -> None:
        self.query_one("#devices-state", Static).update(message)

    def highlighted(self) -> JSON | None:
        table = self._table()
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((d for d in self.devices if d.get("devEui") == row_key.value), None)

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.show()

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        self._table().focus()

    @on(DataTable.HeaderSelected, "#devices")
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        self._sort_by(str(event.column_key.value))

    def _sort_by(self, column: str) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.show()

    def action_sort(self) -> None:
        keys = [key for key, _ in COLUMNS]
        if self.sort_reverse:
            self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
            self.sort_reverse = False
        else:
            self.sort_reverse = True
        self.show()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_table(self) -> None:
        self._table().focus()

    def action_reload(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#devices")
    def open_device(self) -> None:
        device = self.highlighted()
        if device is not None:
            self.app.push_screen(DeviceDetailScreen(device["devEui"]))

    def action_add(self) -> None:
        self.app.push_screen(DeviceForm(), self._saved)

    def action_edit(self) -> None:
        device = self.highlighted()
        if device is not None:
            self.edit(device["devEui"])

    @work(exclusive=True, group="edit")
    async def edit(self, dev_eui: str) -> None:
        api = self.console_app.api
        if api is None:
            return
        try:
            device = await api.get_device(dev_eui)
        except ClientError as error:
            self.notify_error(error)
            return
        self.app.push_screen(DeviceForm(device), self._saved)

    def _saved(self, device: JSON | None) -> None:
        if device is not None:
            self.notify(f"saved {device.get('name')} ({device.get('devEui')})")
            self.reload()

    def action_delete(self) -> None:
        device = self.highlighted()
        if device is None:
            return
        question = f"Delete {device.get('name')} ({device.get('devEui')}) and its session?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(device["devEui"])

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="delete")
    async def delete(self, dev_eui: str) -> None:
        api = self.console_app.api
        if api is None:
            return
        try:
            await api.delete_device(dev_eui)
        except ClientError as error:
            self.notify_error(error)
            return
        self.notify(f"deleted {dev_eui}")
        self.reload()

    def action_downlink(self) -> None:
        device = self.highlighted()
        if device is not None:
            self.app.push_screen(
                DownlinkForm(device["devEui"], device.get("name", "")), self._queued
            )

    def _queued(self, item: JSON | None) -> None:
        if item is not None:
            self.notify(f"queued {item.get('id')} on port {item.get('fPort')}")
