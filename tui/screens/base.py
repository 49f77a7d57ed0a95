"""What every main screen shares: the top bar, the connection banner, the key footer, and
hooks called after each status poll and each live batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from tui.widgets.nav_bar import ConnectionBanner, NavBar

if TYPE_CHECKING:
    from tui.app import Connection, ConsoleApp
    from tui.state.frame_log import LogItem


class ConsoleScreen(Screen[None]):
    MODE = ""

    @property
    def console_app(self) -> ConsoleApp:
        return cast("ConsoleApp", self.app)

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE, id="nav")
        yield ConnectionBanner(id="banner")
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        console_app = self.console_app
        console_app.status_signal.subscribe(self, self._status_changed)
        console_app.live_signal.subscribe(self, self._live_batch)
        self.query_one(ConnectionBanner).refresh_banner()

    def _status_changed(self, connection: Connection) -> None:
        self.query_one(NavBar).refresh_bar()
        self.query_one(ConnectionBanner).refresh_banner()
        if self.is_current:
            self.on_status(connection)

    def _live_batch(self, batch: list[LogItem]) -> None:
        self.on_live(batch)

    def on_status(self, connection: Connection) -> None:
        """After every status poll while this screen is shown."""

    def on_live(self, batch: list[LogItem]) -> None:
        """After every live batch, shown or not (keep it cheap when not shown)."""

    def notify_error(self, error: Exception) -> None:
        self.notify(str(error).splitlines()[0] or type(error).__name__, severity="error")
