"""EUIs in every form a station writes them, and the ID6 form Station prints.

Station's ``rt_readEui`` (src/rt.c) decides by the separators: two or three colons mean ID6 (four
16-bit groups written like IPv6, ``::`` standing for zero groups); otherwise the hex digits are
read with ``-`` or ``:`` separators ignored, fewer than 16 digits meaning leading zeros. JSON
integers are taken as the 64-bit value. ``format_id6`` follows Station's ``encId6`` (src/uj.c),
which compresses only two adjacent zero groups at the start, the end or the middle.
"""

from __future__ import annotations

import re
from typing import Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64

_ID6_GROUP: Final = re.compile(r"[0-9A-Fa-f]{1,4}")
_HEX_FORM: Final = re.compile(r"[0-9A-Fa-f]+(?:[-:][0-9A-Fa-f]+)*")
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_MAX_TEXT: Final = 64  # longer than any valid form; refuse before doing work on it


def _id6_groups(text: str) -> list[int] | None:
    if text == "":
        return []
    groups = text.split(":")
    if not all(_ID6_GROUP.fullmatch(group) for group in groups):
        return None
    return [int(group, 16) for group in groups]


def _parse_id6(text: str) -> int:
    head, compressed, tail = text.partition("::")
    left, right = _id6_groups(head), _id6_groups(tail)
    if left is None or right is None or "::" in tail:
        raise InvalidValueError(f"not an ID6 EUI: {text!r}")
    if compressed:
        if len(left) + len(right) > 3:
            raise InvalidValueError(f"ID6 {text!r} has too many groups around '::'")
        groups = left + [0] * (4 - len(left) - len(right)) + right
    elif len(left) != 4:
        raise InvalidValueError(f"ID6 {text!r} needs four groups or a '::'")
    else:
        groups = left
    value = 0
    for group in groups:
        value = (value << 16) | group
    return value


def _parse_text(text: str) -> int:
    text = text.strip()
    if not text or len(text) > _MAX_TEXT:
        raise InvalidValueError(f"not an EUI: {text[:_MAX_TEXT]!r}")
    colons, dashes = text.count(":"), text.count("-")
    if colons > 7 or dashes > 7 or not any(c in _HEX_DIGITS for c in text):
        raise InvalidValueError(f"not an EUI: {text!r}")
    if colons in (2, 3):
        return _parse_id6(text)
    if dashes and colons:
        raise InvalidValueError(f"EUI {text!r} mixes '-' and ':'")
    if not _HEX_FORM.fullmatch(text):
        raise InvalidValueError(f"EUI {text!r} is not hexadecimal")
    digits = text.replace("-", "").replace(":", "")
    if len(digits) > 16:
        raise InvalidValueError(f"EUI {text!r} has more than 16 hex digits")
    return int(digits, 16)


def parse_eui(value: object) -> EUI64:
    """An EUI from ID6 text, dashed/colon/plain hex, or a JSON integer (as Station reads it)."""
    if isinstance(value, bool):
        raise InvalidValueError("an EUI cannot be a boolean")
    if isinstance(value, EUI64):
        return value
    if isinstance(value, int):
        if not -(1 << 63) <= value < 1 << 64:
            raise InvalidValueError(f"EUI {value} does not fit in 64 bits")
        return EUI64(value & 0xFFFF_FFFF_FFFF_FFFF)  # Station reads int64 bits as unsigned
    if isinstance(value, str):
        return EUI64(_parse_text(value))
    raise InvalidValueError(f"an EUI is text or an integer, not {type(value).__name__}")


def format_id6(eui: EUI64) -> str:
    """The ID6 text Station itself prints (``::0``, ``1::``, ``1:2:3:4``)."""
    value = int(eui)
    g0, g1, g2, g3 = (
        (value >> 48) & 0xFFFF,
        (value >> 32) & 0xFFFF,
        (value >> 16) & 0xFFFF,
        value & 0xFFFF,
    )
    if not g0 and not g1:
        return f"::{g3:x}" if not g2 else f"::{g2:x}:{g3:x}"
    if not g2 and not g3:
        return f"{g0:x}::" if not g1 else f"{g0:x}:{g1:x}::"
    if not g1 and not g2:
        return f"{g0:x}::{g3:x}"
    return f"{g0:x}:{g1:x}:{g2:x}:{g3:x}"
