"""Add or edit a device. A new device can have its DevEUI and root key generated here; the
form checks every field before sending and shows the appliance's answer if it refuses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from tui.client import ClientError
from tui.widgets.form import FormError, field, hex_value, new_eui, new_key

if TYPE_CHECKING:
    from tui.client.api import JSON

MAC_VERSIONS = ("1.0.2", "1.0.3", "1.0.4", "1.1.0")


class DeviceForm(ModalScreen["JSON | None"]):
    CSS_PATH = "forms.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+g", "generate", "Generate keys", tooltip="new DevEUI and AppKey"),
    ]

    def __init__(self, device: JSON | None = None) -> None:
        super().__init__()
        self.device = device  # None: a new device
        self.choices_loaded = False

    @property
    def creating(self) -> bool:
        return self.device is None

    def compose(self) -> ComposeResult:
        device = self.device or {}
        with VerticalScroll(classes="dialog") as dialog:
            dialog.border_title = "New device" if self.creating else f"Edit {device.get('name')}"
            yield field("Name", Input(device.get("name", ""), id="name", compact=True))
            if self.creating:
                yield field(
                    "DevEUI",
                    Input(placeholder="16 hex digits", id="dev-eui", compact=True),
                    Button("Generate", id="gen-eui", compact=True),
                )
            yield field(
                "JoinEUI",
                Input(device.get("joinEui", "0000000000000000"), id="join-eui", compact=True),
            )
            yield field(
                "Application",
                Select([], prompt="default application", id="application", compact=True),
            )
            yield field(
                "Profile",
                Select([], prompt="default for the region", id="profile", compact=True),
            )
            if self.creating:
                yield field(
                    "MAC version",
                    Select(
                        [(v, v) for v in MAC_VERSIONS],
                        value="1.0.3",
                        allow_blank=False,
                        id="mac-version",
                        compact=True,
                    ),
                )
                yield field(
                    "AppKey",
                    Input(placeholder="32 hex digits (OTAA)", id="app-key", compact=True),
                    Button("Generate", id="gen-key", compact=True),
                )
                yield field(
                    "NwkKey",
                    Input(placeholder="LoRaWAN 1.1 only", id="nwk-key", compact=True),
                )
            yield field(
                "Description", Input(device.get("description", ""), id="description", compact=True)
            )
            yield field(
                "",
                Checkbox("enabled", device.get("enabled", True), id="enabled", compact=True),
            )
            if self.creating:
                yield Static("ctrl+g: generate a DevEUI and an AppKey", classes="hint")
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.load_choices()

    @work(exclusive=True, group="choices")
    async def load_choices(self) -> None:
        app: Any = self.app
        api = app.api
        if api is None:
            self._error("not connected to the appliance")
            return
        try:
            applications = await api.list_applications()
            profiles = await api.list_profiles()
        except ClientError as error:
            self._error(str(error))
            return
        device = self.device or {}
        app_select = self.query_one("#application", Select)
        app_select.set_options([(a["name"], a["id"]) for a in applications])
        if device.get("applicationId"):
            app_select.value = device["applicationId"]
        profile_select = self.query_one("#profile", Select)
        profile_select.set_options(
            [(f"{p['name']} ({p.get('macVersion', '?')})", p["id"]) for p in profiles]
        )
        if device.get("deviceProfileId"):
            profile_select.value = device["deviceProfileId"]
        self.choices_loaded = True

    def _error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    def _text(self, widget_id: str) -> str:
        return self.query_one(widget_id, Input).value.strip()

    def body(self) -> JSON:
        """The request body; ``FormError`` for the first field that is wrong."""
        name = self._text("#name")
        if not name:
            raise FormError("Name: required")
        body: JSON = {
            "name": name,
            "joinEui": hex_value("JoinEUI", self._text("#join-eui"), 16),
            "description": self._text("#description"),
            "enabled": self.query_one("#enabled", Checkbox).value,
        }
        application = self.query_one("#application", Select).value
        if isinstance(application, str):
            body["applicationId"] = application
        profile = self.query_one("#profile", Select).value
        if isinstance(profile, str):
            body["deviceProfileId"] = profile
        if self.creating:
            body["devEui"] = hex_value("DevEUI", self._text("#dev-eui"), 16)
            app_key = hex_value("AppKey", self._text("#app-key"), 32, required=False)
            nwk_key = hex_value("NwkKey", self._text("#nwk-key"), 32, required=False)
            if app_key is not None:
                body["appKey"] = app_key
            if nwk_key is not None:
                body["nwkKey"] = nwk_key
            if not isinstance(profile, str):
                body["macVersion"] = self.query_one("#mac-version", Select).value
        else:
            assert self.device is not None
            for key in ("tags", "variables", "skipFCntCheck"):
                if key in self.device:
                    body[key] = self.device[key]
        return body

    @on(Button.Pressed, "#gen-eui")
    def generate_eui(self) -> None:
        self.query_one("#dev-eui", Input).value = new_eui()

    @on(Button.Pressed, "#gen-key")
    def generate_key(self) -> None:
        self.query_one("#app-key", Input).value = new_key()
        mac = self.query_one("#mac-version", Select).value
        if mac == "1.1.0":
            self.query_one("#nwk-key", Input).value = new_key()

    def action_generate(self) -> None:
        if self.creating:
            if not self._text("#dev-eui"):
                self.generate_eui()
            self.generate_key()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        try:
            body = self.body()
        except FormError as error:
            self._error(str(error))
            return
        self._error("")
        self.save(body)

    @work(exclusive=True, group="save")
    async def save(self, body: JSON) -> None:
        app: Any = self.app
        api = app.api
        if api is None:
            self._error("not connected to the appliance")
            return
        dialog = self.query_one(".dialog")
        dialog.loading = True
        try:
            if self.device is None:
                saved = await api.create_device(body)
            else:
                saved = await api.update_device(self.device["devEui"], body)
        except ClientError as error:
            self._error(str(error))
            return
        finally:
            dialog.loading = False
        self.dismiss(saved)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
