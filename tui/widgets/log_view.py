"""A table for a fast log: fixed columns, rows that never change once added, and a cursor.

DataTable re-measures and re-renders every visible cell whenever a row is added, which at
200 rows a second costs more than the rows are worth. Here a row is kept as its cells (a
tuple of strings, which the garbage collector does not even track) and drawn into a
``Strip`` only when it is on screen, with the strips of recently shown rows kept. Rows are
added at the end and dropped from the front, so memory is bounded by the caller's trimming.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text
STRIP_CACHE = 256  # drawn rows kept: more than any screen shows at once


class LogView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LogView {
        background: $surface;
    }
    LogView > .log-view--header {
        text-style: bold;
        background: $panel;
    }
    LogView > .log-view--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    LogView > .log-view--odd {
        background: $surface-lighten-1;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--header",
        "log-view--cursor",
        "log-view--odd",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    cursor: reactive[int] = reactive(-1, always_update=True)

    class Highlighted(Message):
        def __init__(self, log_view: LogView, key: int) -> None:
            super().__init__()
            self.log_view = log_view
            self.key = key

        @property
        def control(self) -> LogView:
            return self.log_view

    class Selected(Message):
        def __init__(self, log_view: LogView, key: int) -> None:
            super().__init__()
            self.log_view = log_view
            self.key = key

        @property
        def control(self) -> LogView:
            return self.log_view

    def __init__(self, columns: Sequence[tuple[str, int]], **kwargs: Any) -> None:
        """``columns``: (title, width in cells) each."""
        super().__init__(**kwargs)
        self.columns = tuple(columns)
        self.line_width = sum(width + 1 for _, width in self.columns)
        self._keys: list[int] = []
        self._cells: list[tuple[Cell, ...]] = []
        self._strips: dict[int, Strip] = {}  # by row key, for rows recently on screen
        self._header: Strip | None = None

    # Rows
    @property
    def row_count(self) -> int:
        return len(self._keys)

    def cells(self, index: int) -> tuple[Cell, ...]:
        return self._cells[index]

    def key_at(self, index: int) -> int:
        return self._keys[index]

    @property
    def cursor_key(self) -> int | None:
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    @property
    def following(self) -> bool:
        """The cursor is on the newest row (or there are none): new rows keep it there."""
        return self.cursor >= len(self._keys) - 1

    def _line(self, cells: Sequence[Cell], style: str = "") -> Strip:
        text = Text(no_wrap=True, overflow="ellipsis", style=style)
        for (_, width), cell in zip(self.columns, cells, strict=False):
            piece = cell.copy() if isinstance(cell, Text) else Text(cell)
            piece.truncate(width, overflow="ellipsis", pad=True)
            text.append_text(piece)
            text.append(" ")
        segments = list(text.render(self.app.console))
        return Strip([s for s in segments if s.text != "\n"], self.line_width)

    def _strip(self, index: int) -> Strip:
        key = self._keys[index]
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._line(self._cells[index])
            if len(self._strips) > STRIP_CACHE:
                del self._strips[next(iter(self._strips))]
        return strip

    def add_rows(self, rows: Sequence[tuple[int, Sequence[Cell]]]) -> None:
        follow = self.following
        for key, cells in rows:
            self._keys.append(key)
            self._cells.append(tuple(cells))
        self._resized()
        if follow and self._keys:
            self.move_to(len(self._keys) - 1)

    def drop_oldest(self, count: int) -> None:
        """Forget the first ``count`` rows; the cursor stays on its row while it exists."""
        if count <= 0:
            return
        del self._keys[:count], self._cells[:count]
        top = max(round(self.scroll_offset.y) - count, 0)
        self._resized()
        self.scroll_to(y=top, animate=False, immediate=True)
        self.move_to(max(self.cursor - count, 0))

    def clear(self) -> None:
        self._keys.clear()
        self._cells.clear()
        self._strips.clear()
        self.cursor = -1
        self._resized()

    def _resized(self) -> None:
        self.virtual_size = Size(self.line_width, len(self._keys) + 1)  # + the header
        self.refresh()

    # Cursor
    def move_to(self, index: int) -> None:
        if not self._keys:
            return
        self.cursor = max(0, min(index, len(self._keys) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        if new < 0:
            return
        rows = self.scrollable_content_region.height - 1  # under the header
        top = round(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif rows > 0 and new >= top + rows:
            self.scroll_to(y=new - rows + 1, animate=False, immediate=True)
        self.refresh()
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Highlighted(self, key))

    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(self.scrollable_content_region.height - 1, 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self._keys) - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_offset.y) + event.y - 1  # the first line is the header
        if 0 <= index < len(self._keys):
            if index == self.cursor:
                self.action_select()
            self.move_to(index)

    # Drawing: line 0 is the header, the rest scroll under it.
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            if self._header is None:
                self._header = self._line([title for title, _ in self.columns])
            header_style = self.get_component_rich_style("log-view--header")
            line = self._header.apply_style(header_style)
            return line.crop_extend(scroll_x, scroll_x + width, header_style)
        index = round(scroll_y) + y - 1
        if index >= len(self._keys):
            return Strip.blank(width, self.rich_style)
        strip = self._strip(index)
        if index == self.cursor:
            style = self.get_component_rich_style("log-view--cursor")
        elif index % 2:
            style = self.rich_style + self.get_component_rich_style("log-view--odd")
        else:
            style = self.rich_style
        return strip.apply_style(style).crop_extend(scroll_x, scroll_x + width, style)
