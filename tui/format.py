"""How values read on screen: short, aligned, '-' for unknown. Time comes in as ``now``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DASH = "-"


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ago(text: Any, now: datetime) -> str:
    """'12s ago', '5m ago', '3h ago', '2d ago'; '-' if never."""
    when = parse_time(text)
    if when is None:
        return DASH
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "now"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def clock_time(text: Any) -> str:
    """HH:MM:SS.mmm (UTC) of an RFC 3339 time; '-' if it does not parse."""
    when = parse_time(text)
    if when is None:
        return DASH
    return when.astimezone(UTC).strftime("%H:%M:%S.%f")[:12]


def value(item: Any, suffix: str = "") -> str:
    if item is None or item == "":
        return DASH
    if isinstance(item, bool):
        return "yes" if item else "no"
    if isinstance(item, float):
        return f"{item:g}{suffix}"
    return f"{item}{suffix}"


def megahertz(hertz: int | None) -> str:
    return DASH if hertz is None else f"{hertz / 1e6:.1f}"


def size(count: float | None) -> str:
    if count is None:
        return DASH
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return DASH  # not reached


def battery(level: Any, external: Any = None) -> str:
    if external is True:
        return "mains"
    if isinstance(level, int | float):
        return f"{level:.0f}%"
    return DASH


def mask(secret: str | None) -> str:
    """Hidden entirely: even a key's tail helps an onlooker who has the rest."""
    return DASH if not secret else "•" * 16
