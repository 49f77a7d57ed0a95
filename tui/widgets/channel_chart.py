"""Receptions per channel as horizontal bars, split by spreading factor (one colour each)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text
from textual.widgets import Static

SF_COLOURS = {
    5: "bright_white",
    6: "white",
    7: "green",
    8: "bright_green",
    9: "cyan",
    10: "blue",
    11: "magenta",
    12: "red",
}


def render_chart(table: dict[int, Counter[int]], width: int) -> Text:
    """``table`` maps frequency (Hz) to counts by SF; bars share one scale."""
    text = Text(no_wrap=True)
    if not table:
        return text
    biggest = max(sum(counts.values()) for counts in table.values())
    label_width = 6
    count_width = max(len(str(sum(c.values()))) for c in table.values())
    room = max(width - label_width - count_width - 3, 4)
    for frequency, counts in table.items():
        total = sum(counts.values())
        text.append(f"{frequency / 1e6:>{label_width}.1f} ", style="dim")
        cells = max(round(total / biggest * room), 1)
        drawn = running = 0
        for sf in sorted(counts):
            running += counts[sf]
            end = round(running / total * cells)
            text.append("█" * (end - drawn), style=SF_COLOURS.get(sf, "white"))
            drawn = end
        text.append(" " * (room - drawn + 1))
        text.append(f"{total:>{count_width}}\n")
    present = sorted({sf for counts in table.values() for sf in counts})
    for sf in present:
        text.append("■", style=SF_COLOURS.get(sf, "white"))
        text.append(f"SF{sf} ")
    return text


class ChannelChart(Static):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "Uplinks by channel (MHz) and SF"
        self._table: dict[int, Counter[int]] = {}
        self._note = "waiting for the live stream"

    def show(self, table: dict[int, Counter[int]], note: str) -> None:
        self._table, self._note = table, note
        self.refresh_chart()

    def on_resize(self) -> None:
        self.refresh_chart()

    def refresh_chart(self) -> None:
        if not self._table:
            self.update(Text(self._note, style="dim"))
            return
        self.update(render_chart(self._table, self.content_size.width or 40))
