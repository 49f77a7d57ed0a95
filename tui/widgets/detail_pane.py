"""A scrollable list of (label, value) lines: every field of one item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static


class DetailPane(VerticalScroll):
    def __init__(self, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self._body = Static(Text("select a row", style="dim"))

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show(self, lines: Sequence[tuple[str, str]]) -> None:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(style="dim", no_wrap=True, overflow="ellipsis", max_width=24)
        table.add_column(overflow="fold", ratio=1)
        for label, value in lines:
            table.add_row(label, value)
        self._body.update(table)
        self.scroll_home(animate=False)

    def clear(self, note: str = "select a row") -> None:
        self._body.update(Text(note, style="dim"))
