"""RFC 3339 text for timestamps stored in SQLite and shown in the API (always UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def from_text(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
