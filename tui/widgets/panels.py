"""Read-only panels of the dashboard and the detail views: a titled box of rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

Row = Sequence[Any]


class Panel(Static):
    """A bordered box titled ``title``; ``show_rows`` fills it with aligned columns."""

    def __init__(self, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = title

    def show_rows(
        self, rows: Sequence[Row], *, headers: Sequence[str] = (), empty: str = "nothing yet"
    ) -> None:
        if not rows:
            self.update(Text(empty, style="dim"))
            return
        if headers:
            table = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="bold")
            for header in headers:
                table.add_column(header, no_wrap=True, overflow="ellipsis")
        else:
            table = Table.grid(padding=(0, 2, 0, 0))
            # Labels keep their width (up to 16); a long value is what gets cut.
            label_width = min(max(len(str(row[0])) for row in rows), 16)
            table.add_column(no_wrap=True, overflow="ellipsis", style="dim", min_width=label_width)
            for _ in range(max(len(row) for row in rows) - 1):
                table.add_column(no_wrap=True, overflow="ellipsis")
        for row in rows:
            table.add_row(*(cell if isinstance(cell, Text) else str(cell) for cell in row))
        self.update(table)
