"""Queue a downlink for a device: FPort, confirmed or not, and the payload as hex, base64, or
a JSON object for the device profile's codec to encode."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from tui.client import ClientError
from tui.widgets.form import FormError, field

if TYPE_CHECKING:
    from tui.client.api import JSON

MAX_PAYLOAD = 242  # the largest FRMPayload any region carries
FORMATS = (("hex", "hex"), ("base64", "base64"), ("JSON object (codec)", "json"))


def downlink_body(f_port: str, confirmed: bool, payload_format: str, payload: str) -> JSON:
    """The queue item to send; ``FormError`` naming the field that is wrong."""
    try:
        port = int(f_port)
    except ValueError:
        raise FormError(f"FPort: expected a number 1-223, got {f_port!r}") from None
    if not 1 <= port <= 223:
        raise FormError(f"FPort: must be 1-223, got {port}")
    body: JSON = {"fPort": port, "confirmed": confirmed}
    text = payload.strip()
    if payload_format == "json":
        try:
            value = json.loads(text or "{}")
        except ValueError as error:
            raise FormError(f"Payload: not valid JSON ({error.args[0]})") from None
        if not isinstance(value, dict):
            raise FormError("Payload: the codec takes a JSON object ({...})")
        body["object"] = value
        return body
    if payload_format == "hex":
        try:
            data = bytes.fromhex(text.replace(" ", ""))
        except ValueError:
            raise FormError("Payload: not hexadecimal (pairs of 0-9, a-f)") from None
    else:
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise FormError("Payload: not valid base64") from None
    if len(data) > MAX_PAYLOAD:
        raise FormError(f"Payload: {len(data)} bytes is more than any data rate carries")
    body["data"] = base64.b64encode(data).decode()
    return body


class DownlinkForm(ModalScreen["JSON | None"]):
    CSS_PATH = "forms.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "send", "Enqueue"),
    ]

    def __init__(self, dev_eui: str, name: str) -> None:
        super().__init__()
        self.dev_eui = dev_eui
        self.device_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = f"Downlink to {self.device_name}"
            yield field("FPort", Input("1", id="f-port", compact=True))
            yield field(
                "Format",
                Select(
                    [(label, value) for label, value in FORMATS],
                    value="hex",
                    allow_blank=False,
                    id="format",
                    compact=True,
                ),
            )
            yield field("Payload", Input(placeholder="e.g. 01ff", id="payload", compact=True))
            yield field("", Checkbox("confirmed", id="confirmed", compact=True))
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Enqueue (ctrl+s)", variant="primary", id="send", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#payload", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        fmt = self.query_one("#format", Select).value
        try:
            body = downlink_body(
                self.query_one("#f-port", Input).value,
                self.query_one("#confirmed", Checkbox).value,
                fmt if isinstance(fmt, str) else "hex",
                self.query_one("#payload", Input).value,
            )
        except FormError as error:
            self.query_one("#error", Static).update(str(error))
            return
        self.send(body)

    @work(exclusive=True, group="send")
    async def send(self, body: JSON) -> None:
        app: Any = self.app
        api = app.api
        error = self.query_one("#error", Static)
        if api is None:
            error.update("not connected to the appliance")
            return
        dialog = self.query_one(".dialog")
        dialog.loading = True
        try:
            item = await api.enqueue(self.dev_eui, body)
        except ClientError as failure:
            error.update(str(failure))
            return
        finally:
            dialog.loading = False
        self.dismiss(item)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
