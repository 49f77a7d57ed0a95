"""Typed reads of JSON fields that turn every bad value into a counted ``StationMessageError``.

JSON gives us ``Any``; these helpers are the one place that checks types and ranges, so the
message handlers read like the protocol text. Booleans are refused where integers are meant
(``True`` is an ``int`` in Python but never a valid count in the protocol).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from hal.basic_station.errors import StationMessageError

_MISSING: Final = object()


def bad(key: str, detail: str) -> StationMessageError:
    return StationMessageError(f"bad_field:{key}", detail)


def get_int(message: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = message.get(key, _MISSING)
    if value is _MISSING:
        raise StationMessageError(f"missing_field:{key}")
    if type(value) is not int:
        raise bad(key, f"expected an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise bad(key, f"{value} is outside {low}..{high}")
    return value


def get_optional_int(
    message: Mapping[str, Any], key: str, low: int, high: int, default: int
) -> int:
    if message.get(key) is None:
        return default
    return get_int(message, key, low, high)


def get_number(message: Mapping[str, Any], key: str, default: float) -> float:
    value = message.get(key)
    if value is None:
        return default
    if type(value) not in (int, float) or not math.isfinite(value):
        raise bad(key, f"expected a finite number, got {value!r:.40}")
    return float(value)


def get_hex(message: Mapping[str, Any], key: str, max_bytes: int) -> bytes:
    value = message.get(key, _MISSING)
    if value is _MISSING:
        raise StationMessageError(f"missing_field:{key}")
    if type(value) is not str:
        raise bad(key, f"expected hex text, got {type(value).__name__}")
    if len(value) > 2 * max_bytes:
        raise bad(key, f"longer than {max_bytes} bytes")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise bad(key, "not hexadecimal") from None
    if 2 * len(data) != len(value):  # fromhex skips whitespace; the protocol has none
        raise bad(key, "hex text with whitespace")
    return data
