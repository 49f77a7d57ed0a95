"""Pieces of the modal forms: a labelled one-line field and client-side checks that say what
is wrong in one line before anything is sent."""

from __future__ import annotations

import re
import secrets

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label

_HEX = re.compile(r"^[0-9a-fA-F]*$")


class FormError(ValueError):
    """What is wrong with a form, as one line naming the field."""


def field(label: str, *widgets: Widget, field_id: str | None = None) -> Horizontal:
    return Horizontal(Label(label), *widgets, classes="field", id=field_id)


def hex_value(name: str, text: str, digits: int, *, required: bool = True) -> str | None:
    value = text.strip().replace(" ", "").replace(":", "").replace("-", "").lower()
    if not value:
        if required:
            raise FormError(f"{name}: required ({digits} hexadecimal digits)")
        return None
    if not _HEX.match(value) or len(value) != digits:
        raise FormError(f"{name}: expected {digits} hexadecimal digits, got {len(value)}")
    return value


def new_key() -> str:
    """A fresh AES-128 root key."""
    return secrets.token_hex(16)


def new_eui() -> str:
    """A random EUI-64 with the locally-administered bit set (not from an OUI block)."""
    first = (secrets.randbits(8) | 0x02) & 0xFE
    return f"{first:02x}" + secrets.token_hex(7)
