"""proto3-JSON exactly as ChirpStack v4 prints its integration events and frame logs.

ChirpStack serialises with pbjson; for the ``integration`` package it asks for every field
(``emit_fields``), for ``gw`` and ``common`` messages it does not. So an event prints
``"fCnt":0``, ``"adr":false`` and ``"tags":{}``, while its ``rxInfo``, ``txInfo`` and
``location`` leave out zero, empty and false fields. The frame logs (``stream``, which
ChirpStack never sends as JSON) follow the events' rule, so a join-request's log says
``"fType":"JOIN_REQUEST"`` rather than leaving the field out as proto3's zero. Fields with
presence (sub-messages, ``optional`` scalars, oneof members) print only when set, in either
case. Other rules:

- keys lowerCamelCase, in the order the .proto declares them;
- enums by name (an unknown number prints as the number); bytes as standard base64;
- 64-bit integers as strings; 32-bit floats as the shortest decimal naming the same float32;
- ``Timestamp`` as chrono's RFC 3339 (``2025-06-13T12:44:52.670509+00:00``: 0, 3, 6 or 9
  fractional digits, always ``+00:00``), ``Duration`` as ``"1.500s"``;
- ``Struct`` (the decoded ``object``) as plain JSON with its keys sorted (a protobuf map has no
  order; sorting makes the output reproducible); numbers in it are doubles (``5`` -> ``5.0``);
- compact separators and UTF-8 text, as serde_json writes them.

Every output parses with ``google.protobuf.json_format.Parse`` without ignoring unknown fields.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# protobuf ships no type information.
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from appliance.app.events.errors import EventBuildError

_EMIT_ALL_PACKAGES = frozenset({"integration", "stream"})
_EPOCH = datetime(1970, 1, 1)
_FLOAT32_MAX = 3.4028234663852886e38
_SIXTY_FOUR_BIT = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)

Converter = Callable[[Any], Any]


def message_to_json(message: Any) -> str:
    """The message as ChirpStack prints it (see the module docstring)."""
    try:
        return json.dumps(
            message_to_dict(message), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except ValueError as error:
        raise EventBuildError(f"{message.DESCRIPTOR.full_name}: {error}") from None


def message_to_dict(message: Any) -> dict[str, Any]:
    """The JSON object of ``message`` as plain Python values, before ``json.dumps``."""
    result = _convert_message(message)
    if not isinstance(result, dict):
        raise TypeError(f"{message.DESCRIPTOR.full_name} does not print as a JSON object")
    return result


def message_to_bytes(message: Any) -> bytes:
    """The protobuf wire form (what the MQTT integration sends with ``json = false``)."""
    return bytes(message.SerializeToString())


def message_from_json(text: str | bytes, message_type: Any) -> Any:
    """Parse proto3-JSON strictly (unknown fields refused); ``EventBuildError`` if invalid."""
    try:
        return json_format.Parse(text, message_type(), ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        name = message_type.DESCRIPTOR.full_name
        raise EventBuildError(f"{name}: cannot parse: {error}") from None


def message_from_bytes(data: bytes, message_type: Any) -> Any:
    try:
        return message_type.FromString(bytes(data))
    except DecodeError as error:
        name = message_type.DESCRIPTOR.full_name
        raise EventBuildError(f"{name}: cannot decode: {error}") from None


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    json_name: str
    presence: bool  # printed only when set, whatever the package
    convert: Converter


@dataclass(frozen=True, slots=True)
class _Plan:
    emit_defaults: bool
    fields: tuple[_Field, ...]


_PLANS: dict[str, _Plan] = {}


def _convert_message(message: Any) -> Any:
    descriptor = message.DESCRIPTOR
    special = _WELL_KNOWN.get(descriptor.full_name)
    if special is not None:
        return special(message)
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        plan = _PLANS[descriptor.full_name] = _make_plan(descriptor)
    result: dict[str, Any] = {}
    for field in plan.fields:
        if field.presence:
            if not message.HasField(field.name):
                continue
            value = getattr(message, field.name)
        else:
            value = getattr(message, field.name)
            # Zero, 0.0, -0.0, "", b"", False and empty containers are all falsy: the defaults.
            if not plan.emit_defaults and not value:
                continue
        result[field.json_name] = field.convert(value)
    return result


def _make_plan(descriptor: Any) -> _Plan:
    fields = tuple(
        _Field(field.name, field.json_name, field.has_presence, _converter(field))
        for field in descriptor.fields
    )
    return _Plan(descriptor.file.package in _EMIT_ALL_PACKAGES, fields)


def _converter(field: Any) -> Converter:
    if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        key_field, value_field = field.message_type.fields
        key = _map_key(key_field)
        value = _single(value_field)
        return lambda entries: {key(k): value(entries[k]) for k in entries}
    single = _single(field)
    if field.is_repeated:
        return lambda items: [single(item) for item in items]
    return single


def _map_key(field: Any) -> Converter:
    if field.type == FieldDescriptor.TYPE_BOOL:
        return lambda key: "true" if key else "false"
    return str


def _single(field: Any) -> Converter:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        return _convert_message
    if kind == FieldDescriptor.TYPE_ENUM:
        names = {value.number: value.name for value in field.enum_type.values}
        return lambda number: names.get(number, number)
    if kind == FieldDescriptor.TYPE_BYTES:
        return _base64
    if kind == FieldDescriptor.TYPE_FLOAT:
        return _float32
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return _double
    if kind in _SIXTY_FOUR_BIT:
        return str
    return _same


def _same(value: Any) -> Any:
    return value


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _special_float(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return None


def _double(value: float) -> float | str:
    special = _special_float(value)
    return value if special is None else special


def _float32(value: float) -> float | str:
    """The shortest decimal that is the same float32 (``13.2``, not ``13.199999809265137``)."""
    special = _special_float(value)
    if special is not None:
        return special
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if abs(candidate) > _FLOAT32_MAX:
            continue  # rounded past the largest float32: no parser takes it back
        if struct.unpack("<f", struct.pack("<f", candidate))[0] == value:
            return candidate
    return value  # only near the largest float32, whose exact value parses back


# Radios report SNR in steps of 0.25 dB or 0.1 dB: a few hundred values, each searched once.
_FLOAT32_TEXTS: dict[float, str] = {}
_FLOAT32_TEXTS_MAX = 4_096


def float32_json(value: float) -> str:
    """The JSON text of a float32 field's value, as ``message_to_json`` prints it."""
    text = _FLOAT32_TEXTS.get(value) if value else None  # 0.0 and -0.0 are one key: not kept
    if text is None:
        text = json.dumps(_float32(value))
        if value and math.isfinite(value):
            if len(_FLOAT32_TEXTS) >= _FLOAT32_TEXTS_MAX:
                _FLOAT32_TEXTS.clear()
            _FLOAT32_TEXTS[value] = text
    return text


# --- well-known types ------------------------------------------------------------------------


# The date and time of day of recent seconds: the times of one uplink's event, its receptions
# and the next uplinks mostly fall in the same few seconds.
_DATE_TIMES: dict[int, str] = {}
_DATE_TIMES_MAX = 256


def timestamp_text(seconds: int, nanos: int) -> str:
    """chrono's ``to_rfc3339()`` of a UTC instant, as ChirpStack prints every timestamp."""
    base = _DATE_TIMES.get(seconds)
    if base is None:
        base = (_EPOCH + timedelta(seconds=seconds)).isoformat()
        if len(_DATE_TIMES) >= _DATE_TIMES_MAX:
            _DATE_TIMES.clear()
        _DATE_TIMES[seconds] = base
    if nanos == 0:
        fraction = ""
    elif nanos % 1_000_000 == 0:
        fraction = f".{nanos // 1_000_000:03d}"
    elif nanos % 1_000 == 0:
        fraction = f".{nanos // 1_000:06d}"
    else:
        fraction = f".{nanos:09d}"
    return f"{base}{fraction}+00:00"


def duration_text(seconds: int, nanos: int) -> str:
    negative = seconds < 0 or nanos < 0
    seconds, nanos = abs(seconds), abs(nanos)
    text = f"{'-' if negative else ''}{seconds}"
    if nanos:
        if nanos % 1_000_000 == 0:
            text += f".{nanos // 1_000_000:03d}"
        elif nanos % 1_000 == 0:
            text += f".{nanos // 1_000:06d}"
        else:
            text += f".{nanos:09d}"
    return text + "s"


def _timestamp(message: Any) -> str:
    return timestamp_text(int(message.seconds), int(message.nanos))


def _duration(message: Any) -> str:
    return duration_text(int(message.seconds), int(message.nanos))


def _struct(message: Any) -> dict[str, Any]:
    fields = message.fields
    return {key: _value(fields[key]) for key in sorted(fields)}


def _list(message: Any) -> list[Any]:
    return [_value(item) for item in message.values]


def _value(message: Any) -> Any:
    kind = message.WhichOneof("kind")
    if kind == "number_value":
        number = float(message.number_value)
        if not math.isfinite(number):
            raise EventBuildError(
                f"a decoded object cannot hold {number} (JSON has no such number)"
            )
        return number
    if kind == "string_value":
        return str(message.string_value)
    if kind == "bool_value":
        return bool(message.bool_value)
    if kind == "struct_value":
        return _struct(message.struct_value)
    if kind == "list_value":
        return _list(message.list_value)
    return None  # null_value, or no kind at all


def _other_well_known(message: Any) -> Any:
    return json_format.MessageToDict(message)


_WELL_KNOWN: dict[str, Converter] = {
    "google.protobuf.Timestamp": _timestamp,
    "google.protobuf.Duration": _duration,
    "google.protobuf.Struct": _struct,
    "google.protobuf.Value": _value,
    "google.protobuf.ListValue": _list,
    "google.protobuf.Any": _other_well_known,
    "google.protobuf.FieldMask": _other_well_known,
}
