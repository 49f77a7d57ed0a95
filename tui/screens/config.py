"""Region, board profile and upstream bridge: read from the appliance, edited here, checked,
written to its configuration file through ``PUT /api/system/config``, and applied by a
restart (the appliance reads its file when it starts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from appliance.lorawan.regions import REGION_NAMES
from tui.client import ClientError, NotOfferedError
from tui.screens.base import ConsoleScreen
from tui.screens.confirm import ConfirmScreen
from tui.state.config_edit import (
    BRIDGE_MODES,
    BRIDGE_TRANSPORTS,
    ConfigInvalidError,
    ConfigValues,
    changes,
    read_values,
)
from tui.widgets.form import field

if TYPE_CHECKING:
    from tui.app import Connection


class ConfigScreen(ConsoleScreen):
    MODE = "config"
    CSS_PATH = "config.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", "Save", tooltip="check the settings and save them"),
        Binding("ctrl+r", "restart", "Restart", tooltip="restart the appliance to apply them"),
        Binding("f5", "reload", "Reload", tooltip="discard edits and read the settings again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.document: dict[str, Any] | None = None
        self.offered = True

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="config-form") as form:
            form.border_title = "Configuration"
            yield Static(id="config-state", classes="hint")
            yield field(
                "Region",
                Select(
                    [(r, r) for r in REGION_NAMES], allow_blank=False, id="region", compact=True
                ),
            )
            yield field(
                "Board profile",
                Input(placeholder="e.g. rak2287 (sx1302 backend)", id="board", compact=True),
            )
            yield Static("Upstream bridge", classes="section")
            yield field(
                "Mode",
                Select([(m, m) for m in BRIDGE_MODES], allow_blank=False, id="mode", compact=True),
            )
            yield field(
                "Transport",
                Select(
                    [(t, t) for t in BRIDGE_TRANSPORTS],
                    allow_blank=False,
                    id="transport",
                    compact=True,
                ),
            )
            yield field(
                "Server",
                Input(placeholder="mqtt://host:1883 or host:1700", id="url", compact=True),
            )
            yield field(
                "Gateway IDs",
                Input(placeholder="16 hex digits, comma-separated", id="gateways", compact=True),
            )
            yield Static("", classes="error", id="config-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="apply", compact=True)
                yield Button("Restart (ctrl+r)", variant="warning", id="restart", compact=True)
                yield Button("Reload (f5)", id="reload", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#config-form").loading = True
        self.reload()

    def on_status(self, connection: Connection) -> None:
        if connection.ok and self.document is None and self.offered:
            self.reload()

    @on(Button.Pressed, "#reload")
    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        api = self.console_app.api
        form = self.query_one("#config-form")
        if api is None:
            form.loading = False
            self._state("not connected to the appliance", error=True)
            return
        try:
            document = await api.get_config()
        except NotOfferedError:
            self.offered = False
            self._unavailable()
            return
        except ClientError as error:
            self._state(str(error), error=True)
            return
        finally:
            form.loading = False
        self.offered = True
        self._show(document)

    def _show(self, document: dict[str, Any]) -> None:
        self.document = document
        values = read_values(document)
        self.query_one("#region", Select).value = values.region
        self.query_one("#board", Input).value = values.board_profile
        self.query_one("#mode", Select).value = values.bridge_mode
        self.query_one("#transport", Select).value = values.bridge_transport
        self.query_one("#url", Input).value = values.bridge_server
        self.query_one("#gateways", Input).value = values.bridge_gateways
        for widget in self.query("Select, Input, Button"):
            widget.disabled = False
        where = document.get("configFile") or "the configuration file"
        if document.get("restartRequired"):
            self._state(f"{where} differs from what runs: restart to apply it (ctrl+r)")
        else:
            self._state(f"as the appliance runs it ({where})")

    def _unavailable(self) -> None:
        region = self.console_app.status.get("region", "?")
        self._state(
            f"this appliance has no configuration endpoint (GET /api/system/config); "
            f"region {region}, set at start-up",
            error=True,
        )
        for widget in self.query("Select, Input, #apply, #restart"):
            widget.disabled = True

    def _values(self) -> ConfigValues:
        def choice(widget_id: str) -> str:
            value = self.query_one(widget_id, Select).value
            return value if isinstance(value, str) else ""

        def text(widget_id: str) -> str:
            return self.query_one(widget_id, Input).value.strip()

        return ConfigValues(
            region=choice("#region"),
            board_profile=text("#board"),
            bridge_mode=choice("#mode"),
            bridge_transport=choice("#transport"),
            bridge_server=text("#url"),
            bridge_gateways=text("#gateways"),
        )

    def _state(self, message: str, *, error: bool = False) -> None:
        self.query_one("#config-state", Static).update(
            Text(message, style="bold red" if error else "")
        )

    def _error(self, message: str) -> None:
        self.query_one("#config-error", Static).update(message)

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self.document is None:
            return
        try:
            wanted = changes(self.document, self._values())
        except ConfigInvalidError as error:
            self._error(str(error))
            return
        self._error("")
        if not wanted:
            self._state("nothing changed")
            return
        self.apply(wanted)

    @work(exclusive=True, group="apply")
    async def apply(self, wanted: dict[str, Any]) -> None:
        api = self.console_app.api
        if api is None:
            return
        form = self.query_one("#config-form")
        form.loading = True
        try:
            saved = await api.put_config(wanted)
        except ClientError as error:
            self._error(str(error))
            return
        finally:
            form.loading = False
        self._show(saved)
        self.notify(f"saved: {', '.join(sorted(wanted))}; applied at the next restart")

    @on(Button.Pressed, "#restart")
    def action_restart(self) -> None:
        if not self.offered:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.restart()

        question = "Restart the appliance now? Radio traffic stops for a few seconds."
        self.app.push_screen(ConfirmScreen(question, yes="Restart"), answered)

    @work(exclusive=True, group="restart")
    async def restart(self) -> None:
        api = self.console_app.api
        if api is None:
            return
        try:
            await api.restart()
        except ClientError as error:
            self._error(str(error))
            return
        self.document = None
        self._state("restarting; the console reconnects when the appliance is back")
