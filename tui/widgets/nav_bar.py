"""The top line of every screen: the screens with their number keys, the current one lit,
and how the console stands with the appliance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from tui.navigation import SCREENS

if TYPE_CHECKING:
    from tui.app import Connection

_STATE_STYLE = {
    "connected": ("●", "green"),
    "connecting": ("○", "yellow"),
    "waiting": ("○", "yellow"),
    "unreachable": ("✕", "red"),
    "refused": ("✕", "red"),
}


class NavBar(Static):
    def __init__(self, current: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current = current

    def on_mount(self) -> None:
        self.refresh_bar()

    def refresh_bar(self) -> None:
        app: Any = self.app
        text = Text(no_wrap=True, overflow="ellipsis")
        for mode, key, label in SCREENS:
            style = "bold reverse" if mode == self.current else ""
            text.append(f" {key} {label} ", style=style)
        connection: Connection = app.connection
        mark, colour = _STATE_STYLE.get(connection.state, ("?", "yellow"))
        text.append("  ")
        text.append(f"{mark} {connection.state}", style=colour)
        self.update(text)


class ConnectionBanner(Static):
    """One line under the top bar while the appliance cannot be reached; hidden otherwise."""

    def refresh_banner(self) -> None:
        app: Any = self.app
        connection: Connection = app.connection
        self.display = not connection.ok and connection.state != "connecting"
        if self.display:
            # "retrying" first: a long reason is cut at the right edge of a small terminal.
            text = f"retrying · {connection.message}"
            self.update(Text(text, no_wrap=True, overflow="ellipsis"))
