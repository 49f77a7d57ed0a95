"""The check every decoded object passes before it leaves the codec layer: JSON data only."""

from __future__ import annotations

import math
from typing import Any

from appliance.codecs.errors import CodecError, CodecErrorKind

MAX_DEPTH = 40


def check_json_value(value: Any, path: str, *, kind: CodecErrorKind = "output") -> None:
    """Raise ``CodecError`` unless ``value`` is made of dict/list/str/int/float/bool/None only.

    Strings must be valid Unicode (a lone UTF-16 surrogate from a script cannot be stored or
    sent as UTF-8), floats finite, dict keys strings, nesting at most ``MAX_DEPTH`` deep.
    """
    # The fast walk only says yes or no; the slow one, run on failure, says where and why.
    if not _ok(value, 0):
        _explain(value, path, 0, kind)
        raise CodecError(f"{path} is not JSON data", kind=kind)  # not reached: _explain raises


def _ok(value: Any, depth: int) -> bool:
    kind = type(value)
    if kind is str:
        return value.isascii() or _encodable(value)
    if kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)
    if depth >= MAX_DEPTH:
        return False
    if kind is list:
        return all(_ok(item, depth + 1) for item in value)
    if kind is dict:
        return all(
            type(key) is str and (key.isascii() or _encodable(key)) and _ok(item, depth + 1)
            for key, item in value.items()
        )
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _explain(value: Any, path: str, depth: int, kind: CodecErrorKind) -> None:
    if value is None or type(value) in (bool, int):
        return
    if type(value) is str:
        if not _encodable(value):
            raise CodecError(f"{path} holds a lone UTF-16 surrogate", kind=kind)
        return
    if type(value) is float:
        if not math.isfinite(value):
            raise CodecError(f"{path} is {value}, which is not a JSON number", kind=kind)
        return
    if depth >= MAX_DEPTH and type(value) in (list, dict):
        raise CodecError(f"{path} is nested more than {MAX_DEPTH} levels deep", kind=kind)
    if type(value) is list:
        for index, item in enumerate(value):
            _explain(item, f"{path}[{index}]", depth + 1, kind)
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise CodecError(f"{path} has a key {key!r} that is not a string", kind=kind)
            _explain(key, f"{path} key", depth + 1, kind)
            _explain(item, f"{path}.{key}", depth + 1, kind)
        return
    raise CodecError(f"{path} is a {type(value).__name__}, not JSON data", kind=kind)


def check_messages(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CodecError(f"{path} must be a list of strings", kind="output")
    check_json_value(value, path)
    return list(value)
