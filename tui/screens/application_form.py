"""Add or edit an application, and set one of its integrations (its configuration as JSON,
checked before it is sent; the appliance checks the keys)."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static, TextArea

from tui.client import ClientError
from tui.widgets.form import FormError, field

if TYPE_CHECKING:
    from tui.client.api import JSON

INTEGRATION_KINDS = ("mqtt", "http", "influxdb")
# A starting point per kind (docs/integrations.md lists every key); the appliance checks the
# configuration and its refusal names the key that is wrong.
INTEGRATION_TEMPLATES: dict[str, JSON] = {
    "mqtt": {"url": "mqtt://127.0.0.1:1883", "topic_prefix": "application", "encoding": "json"},
    "http": {"urls": ["http://127.0.0.1:8090/events"], "encoding": "json"},
    "influxdb": {
        "url": "http://127.0.0.1:8086",
        "version": 2,
        "org": "site",
        "bucket": "lorawan",
        "token": "",
    },
}


def parse_config(text: str) -> JSON:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise FormError(f"Config: not valid JSON ({error.args[0]})") from None
    if not isinstance(value, dict):
        raise FormError("Config: expected a JSON object ({...})")
    return value


class _Form(ModalScreen["JSON | None"]):
    CSS_PATH = "forms.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def _buttons(self) -> ComposeResult:
        yield Static("", classes="error", id="error")
        with Horizontal(classes="buttons"):
            yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)
            yield Button("Cancel (esc)", id="cancel", compact=True)

    def _error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        try:
            body = self.body()
        except FormError as error:
            self._error(str(error))
            return
        self._error("")
        self.save(body)

    @abstractmethod
    def body(self) -> JSON:
        """The request body from the form's fields (FormError for a bad field)."""

    @abstractmethod
    async def send(self, body: JSON) -> JSON:
        """Send ``body`` to the API; the answer is the stored record."""

    @work(exclusive=True, group="save")
    async def save(self, body: JSON) -> None:
        app: Any = self.app
        if app.api is None:
            self._error("not connected to the appliance")
            return
        dialog = self.query_one(".dialog")
        dialog.loading = True
        try:
            saved = await self.send(body)
        except ClientError as error:
            self._error(str(error))
            return
        finally:
            dialog.loading = False
        self.dismiss(saved)


class ApplicationForm(_Form):
    def __init__(self, application: JSON | None = None) -> None:
        super().__init__()
        self.application = application

    def compose(self) -> ComposeResult:
        app = self.application or {}
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "New application" if not app else f"Edit {app.get('name')}"
            yield field("Name", Input(app.get("name", ""), id="name", compact=True))
            yield field(
                "Description", Input(app.get("description", ""), id="description", compact=True)
            )
            yield from self._buttons()

    def body(self) -> JSON:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            raise FormError("Name: required")
        body: JSON = {
            "name": name,
            "description": self.query_one("#description", Input).value.strip(),
        }
        if self.application and "tags" in self.application:
            body["tags"] = self.application["tags"]
        return body

    async def send(self, body: JSON) -> JSON:
        app: Any = self.app
        if self.application is None:
            return await app.api.create_application(body)  # type: ignore[no-any-return]
        return await app.api.update_application(self.application["id"], body)  # type: ignore[no-any-return]


class IntegrationForm(_Form):
    def __init__(self, app_id: str, app_name: str, integration: JSON | None = None) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_name = app_name
        self.integration = integration

    def compose(self) -> ComposeResult:
        kind = (self.integration or {}).get("kind", "mqtt")
        config = (self.integration or {}).get("config", INTEGRATION_TEMPLATES[kind])
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = f"Integration of {self.app_name}"
            yield field(
                "Kind",
                Select(
                    [(k, k) for k in INTEGRATION_KINDS],
                    value=kind,
                    allow_blank=False,
                    id="kind",
                    compact=True,
                    disabled=self.integration is not None,
                ),
            )
            yield Static("Config (JSON)", classes="hint")
            yield TextArea(json.dumps(config, indent=2), id="config", language=None)
            yield from self._buttons()

    @on(Select.Changed, "#kind")
    def kind_changed(self, event: Select.Changed) -> None:
        if self.integration is None and isinstance(event.value, str):
            template = INTEGRATION_TEMPLATES.get(event.value, {})
            self.query_one("#config", TextArea).text = json.dumps(template, indent=2)

    def body(self) -> JSON:
        kind = self.query_one("#kind", Select).value
        if not isinstance(kind, str):
            raise FormError("Kind: choose one")
        return {"kind": kind, "config": parse_config(self.query_one("#config", TextArea).text)}

    async def send(self, body: JSON) -> JSON:
        app: Any = self.app
        return await app.api.put_integration(self.app_id, body["kind"], body["config"])  # type: ignore[no-any-return]
