"""At a glance: does the radio work, is traffic flowing, what is being dropped, is anything
backing up. Everything here comes from the status poll and the live stream."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.widgets import Sparkline, Static

from tui import format as fmt
from tui.screens.base import ConsoleScreen
from tui.state.parts import Part, cpu_temperature, integrations_backlog, parse_parts
from tui.widgets.channel_chart import ChannelChart
from tui.widgets.panels import Panel

if TYPE_CHECKING:
    from tui.app import Connection
    from tui.state.frame_log import LogItem


def _state(part: Part) -> Text:
    state = part.state
    good = state in ("running", "connected", "ok", "up", "started")
    bad = state in ("stopped", "disconnected", "failed", "error", "down")
    return Text(state, style="green" if good else "red" if bad else "yellow")


class DashboardScreen(ConsoleScreen):
    MODE = "dashboard"
    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", tooltip="poll the appliance now"),
    ]

    def compose_body(self) -> ComposeResult:
        with Grid(id="dashboard"):
            yield Panel("Radio: backends and concentrators", id="radio")
            with Vertical(id="traffic"):
                yield Static(id="rate-title")
                yield Sparkline([], id="rate")
                yield Static(id="totals")
            yield ChannelChart(id="channels")
            yield Panel("Drops by reason", id="drops")
            yield Panel("Downlinks by status", id="downlinks")
            yield Panel("Backlog", id="backlog")
            yield Panel("System", id="system")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#traffic").border_title = "Uplinks per minute (30 min)"
        self.set_class(self.app.size.width >= 120, "-wide")
        self.show_status()
        self.show_channels()

    def on_resize(self) -> None:
        self.set_class(self.app.size.width >= 120, "-wide")

    def on_screen_resume(self) -> None:
        self.show_status()
        self.show_channels()

    def on_status(self, connection: Connection) -> None:
        self.show_status()

    def on_live(self, batch: list[LogItem]) -> None:
        if self.is_current:
            self.show_channels()

    async def action_refresh(self) -> None:
        await self.console_app.poll_once()

    # Rendering
    def show_status(self) -> None:
        app = self.console_app
        status = app.status
        parts = parse_parts(status)
        self._show_radio([p for p in parts if p.group in ("radio", "other")])
        series = app.uplink_rate.series(app.clock())
        self.query_one("#rate", Sparkline).data = [float(v) for v in series]
        self.query_one("#rate-title", Static).update(
            Text.assemble(
                ("this minute ", "dim"), str(series[-1]), ("  peak ", "dim"), str(max(series))
            )
        )
        self.query_one("#totals", Static).update(
            Text.assemble(
                ("uplinks ", "dim"),
                fmt.value(status.get("uplinks")),
                ("  joins ", "dim"),
                fmt.value(status.get("joins")),
                ("  devices ", "dim"),
                fmt.value(status.get("devices")),
            )
        )
        metrics = app.metrics
        drops = metrics.by_label("appliance_dropped_frames_total", "reason")
        self.query_one("#drops", Panel).show_rows(
            [(reason, f"{count:.0f}") for reason, count in sorted(drops.items())], empty="none"
        )
        downlinks = metrics.by_label("appliance_downlinks_total", "status")
        self.query_one("#downlinks", Panel).show_rows(
            [(name, f"{count:.0f}") for name, count in sorted(downlinks.items())], empty="none yet"
        )
        self._show_backlog(parts, metrics.value("appliance_device_queue_items"))
        self._show_system(status)

    def _show_radio(self, parts: list[Part]) -> None:
        rows = [
            (
                part.name,
                _state(part),
                fmt.value(part.get("gateway_count")),
                fmt.value(part.get("chip")),
                fmt.value(part.temperature, "°C"),
                part.detail,
            )
            for part in parts
        ]
        if not rows and self.console_app.connection.ok:
            region = self.console_app.status.get("region")
            empty = f"region {region}; the appliance reports no radio parts"
        else:
            empty = "no status yet"
        self.query_one("#radio", Panel).show_rows(
            rows, headers=("part", "state", "gws", "chip", "temp", "detail"), empty=empty
        )

    def _show_backlog(self, parts: list[Part], queued: float | None) -> None:
        rows: list[tuple[str, str | Text]] = []
        rows.append(("device queues", fmt.value(None if queued is None else int(queued))))
        total = integrations_backlog(self.console_app.status)
        if total is not None:
            rows.append(("integrations", fmt.value(total)))
        for part in parts:
            if part.group in ("integration", "bridge"):
                error = part.last_error
                label = _target_label(part) if part.group == "integration" else "upstream bridge"
                value = Text(fmt.value(part.backlog))
                if error:
                    value.append(f" {error}", style="red")
                rows.append((label, value))
        if not any(p.group == "bridge" for p in parts):
            rows.append(("upstream bridge", "off"))
        self.query_one("#backlog", Panel).show_rows(rows)

    def _show_system(self, status: dict[str, object]) -> None:
        free, total = status.get("diskFreeBytes"), status.get("diskTotalBytes")
        disk = fmt.DASH
        if isinstance(free, int) and isinstance(total, int) and total:
            disk = f"{fmt.size(free)} free ({free / total:.0%})"
        uptime = status.get("uptimeS")
        rows = [
            ("region", fmt.value(status.get("region"))),
            ("disk", disk),
            ("CPU", fmt.value(cpu_temperature(status), "°C")),
            ("uptime", fmt.DASH if not isinstance(uptime, int | float) else _duration(uptime)),
            ("version", fmt.value(status.get("version"))),
        ]
        self.query_one("#system", Panel).show_rows(rows, empty="no status yet")

    def show_channels(self) -> None:
        app = self.console_app
        self.query_one(ChannelChart).show(app.feed.channels.by_channel(), app.stream_state)


def _target_label(part: Part) -> str:
    """``app/<id>/http/0`` -> ``http app 5e1f…``: short enough for a dashboard cell."""
    pieces = part.name.split("/")
    if len(pieces) >= 3 and pieces[0] == "app":
        return f"{part.kind} app {pieces[1][:8]}"
    return f"{part.kind} {pieces[0]}" if pieces[0] != part.kind else part.kind


def _duration(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
