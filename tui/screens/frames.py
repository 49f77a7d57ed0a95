"""The live log: uplinks, downlinks and events as they arrive, filtered, pausable, with every
field of the highlighted one in the detail pane.

Rows are added in the batches the app hands on (a few a second); the table holds between
``VIEW_ROWS`` and twice that many of the newest, and the log behind it keeps more
(``FrameLog``), so a new filter applies to recent history too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Select, Static

from tui.screens.base import ConsoleScreen
from tui.state.decode import COLUMNS, detail_lines, row_of
from tui.state.frame_log import TYPE_CHOICES, Entry, LogFilter
from tui.widgets.detail_pane import DetailPane
from tui.widgets.log_view import LogView

if TYPE_CHECKING:
    from tui.app import Connection
    from tui.state.frame_log import LogItem

VIEW_ROWS = 500


class FramesScreen(ConsoleScreen):
    MODE = "frames"
    CSS_PATH = "frames.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_pause", "Pause", tooltip="stop or resume following the stream"),
        Binding("enter", "toggle_detail", "Detail", tooltip="show or hide the detail pane"),
        Binding("slash", "focus_filter", "Filter", key_display="/", tooltip="edit the filters"),
        Binding("x", "clear_filter", "Clear filter", tooltip="show everything again"),
        Binding("escape", "focus_log", "Log", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = LogFilter()
        self.paused = False
        self._shown_seq = -1  # the newest log entry considered for the table
        self._unseen = 0

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder="device", id="f-device", compact=True)
            yield Input(placeholder="DevAddr", id="f-addr", compact=True)
            yield Input(placeholder="gateway", id="f-gateway", compact=True)
            yield Select(
                [(label, value) for value, label in TYPE_CHOICES],
                value="all",
                allow_blank=False,
                id="f-type",
                compact=True,
            )
            yield Checkbox("MIC failures", id="f-mic", compact=True)
        yield Static(id="log-state", classes="hint")
        with Horizontal(id="log-area"):
            yield LogView(COLUMNS, id="log")
            yield DetailPane("Detail", id="detail")

    def on_mount(self) -> None:
        super().on_mount()
        table = self._table()
        self.query_one("#detail").display = False
        self._arrange(self.app.size.width)
        self.rebuild()
        table.focus()

    def on_resize(self) -> None:
        self._arrange(self.app.size.width)

    def _arrange(self, width: int) -> None:
        self.set_class(width >= 120, "-wide")

    def on_screen_resume(self) -> None:
        if self._unseen and not self.paused:
            self.rebuild()

    # The table
    def _table(self) -> LogView:
        return self.query_one("#log", LogView)

    def rebuild(self) -> None:
        app = self.console_app
        table = self._table()
        table.clear()
        entries = app.feed.log.matching(self.filter, app.directory, VIEW_ROWS)
        self._add(entries)
        self._shown_seq = app.feed.log.last_seq
        self._unseen = 0
        table.move_to(table.row_count - 1)
        self._show_state()

    def _add(self, entries: list[Entry]) -> None:
        names = self.console_app.directory
        rows = []
        for entry in entries:
            cells: list[str | Text] = list(row_of(entry.item, names).cells())
            if entry.item.is_mic_failure:
                cells[1] = Text(str(cells[1]), style="bold red")
            rows.append((entry.seq, cells))
        self._table().add_rows(rows)

    def on_live(self, batch: list[LogItem]) -> None:
        if self.paused or not self.is_current:
            self._unseen += len(batch)
            if self.is_current:
                self._show_state()
            return
        app = self.console_app
        table = self._table()
        fresh = [
            e
            for e in app.feed.log.since(self._shown_seq)
            if self.filter.matches(e.item, app.directory)
        ][-VIEW_ROWS:]
        self._shown_seq = app.feed.log.last_seq
        self._add(fresh)  # the view keeps following the newest row if it was on it
        if table.row_count > 2 * VIEW_ROWS:
            table.drop_oldest(table.row_count - VIEW_ROWS)  # in runs: one list move each
        self._show_state()

    def _show_state(self) -> None:
        app = self.console_app
        log = app.feed.log
        parts = [
            "PAUSED" if self.paused else f"stream: {app.stream_state}",
            f"{self._table().row_count} shown, {len(log)} kept",
        ]
        if self._unseen:
            parts.append(f"{self._unseen} new")
        if log.missed or app.feed.dropped_locally:
            parts.append(f"{log.missed + app.feed.dropped_locally} missed")
        if not self.filter.is_empty:
            parts.append("filtered")
        style = "bold yellow" if self.paused else ""
        self.query_one("#log-state", Static).update(Text(" · ".join(parts), style=style))

    def on_status(self, connection: Connection) -> None:
        self._show_state()

    # Filters
    def _read_filter(self) -> LogFilter:
        kind = self.query_one("#f-type", Select).value
        return LogFilter(
            device=self.query_one("#f-device", Input).value.strip(),
            dev_addr=self.query_one("#f-addr", Input).value.strip(),
            gateway=self.query_one("#f-gateway", Input).value.strip(),
            kind=kind if isinstance(kind, str) else "all",
            mic_failures_only=self.query_one("#f-mic", Checkbox).value,
        )

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def filter_changed(self) -> None:
        new = self._read_filter()
        if new != self.filter:
            self.filter = new
            self.rebuild()

    def action_focus_filter(self) -> None:
        self.query_one("#f-device", Input).focus()

    def action_focus_log(self) -> None:
        self._table().focus()

    def action_clear_filter(self) -> None:
        for widget_id in ("#f-device", "#f-addr", "#f-gateway"):
            self.query_one(widget_id, Input).value = ""
        self.query_one("#f-type", Select).value = "all"
        self.query_one("#f-mic", Checkbox).value = False
        self.filter = LogFilter()
        self.rebuild()

    # Pause and detail
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.rebuild()
        else:
            self._show_state()

    def action_toggle_detail(self) -> None:
        detail = self.query_one("#detail", DetailPane)
        detail.display = not detail.display
        if detail.display:
            self._show_detail()
        table = self._table()
        # The table just changed height: keep the highlighted row in view.
        self.call_after_refresh(table.move_to, table.cursor)

    @on(LogView.Highlighted, "#log")
    def row_highlighted(self) -> None:
        if self.query_one("#detail").display:
            self._show_detail()

    @on(LogView.Selected, "#log")
    def row_selected(self) -> None:
        self.action_toggle_detail()

    def _show_detail(self) -> None:
        key = self._table().cursor_key
        detail = self.query_one("#detail", DetailPane)
        if key is None:
            detail.clear()
            return
        entry = self.console_app.feed.log.get(key)
        if entry is None:
            detail.clear("this item has left the log")
            return
        detail.show(detail_lines(entry.item))
