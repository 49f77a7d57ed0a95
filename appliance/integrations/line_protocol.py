"""InfluxDB line protocol for application events, with ChirpStack's measurements.

From ChirpStack v4's InfluxDB integration (``chirpstack/src/integration/influxdb.rs``):

- ``up``: ``device_uplink`` with the device's tags plus ``application_name``, ``device_name``,
  ``dev_eui``, ``frequency`` and ``dr``; fields ``value=1i``, ``f_cnt``, ``rssi`` (the best
  gateway's, integer) and ``snr`` (the best, float). Each decoded ``object`` field becomes
  ``device_frmpayload_data_<key>`` (nested objects and lists join their keys/indexes with
  ``_``) with one field ``value`` (numbers as floats, strings, booleans) and the tags plus
  ``f_port``; an object holding numeric ``latitude`` and ``longitude`` becomes one
  ``..._location`` measurement with ``latitude``, ``longitude`` and a 12-character
  ``geohash``.
- ``status``: ``device_status_margin`` (integer ``value``) and, unless the device is on
  external power or cannot measure its battery, ``device_status_battery_level`` (float).
- other events write nothing.

Where the appliance differs, on purpose: each point carries the event's own time (ChirpStack
leaves it to the server's clock), so an event delivered late lands at the right time and a
delivery repeated after an outage overwrites the same point instead of adding one; floats are
written in their shortest exact form rather than with six decimals; a tag with an empty value
is left out (line protocol has no empty tag values); newlines, which line protocol cannot
escape, become spaces. Lines of one event are sorted as ChirpStack sorts them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, Final

from appliance.app.events import EventKind, EventRecord

_GEOHASH_ALPHABET: Final = "0123456789bcdefghjkmnpqrstuvwxyz"
_FrameValue = bool | int | float | str


class IntegerValue(int):
    """An integer field (written with the ``i`` suffix); plain ``float`` is a float field."""


def _no_newlines(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def escape_measurement(name: str) -> str:
    return _no_newlines(name).replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ")


def escape_key(text: str) -> str:
    """A tag key, tag value or field key."""
    return (
        _no_newlines(text)
        .replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace("=", "\\=")
        .replace(" ", "\\ ")
    )


def field_value(value: _FrameValue) -> str | None:
    """A field value as line protocol writes it; ``None`` for a float it cannot carry."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, IntegerValue):
        return f"{int(value)}i"
    if isinstance(value, int | float):
        number = float(value)
        return repr(number) if math.isfinite(number) else None
    return '"' + _no_newlines(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def line(
    name: str, tags: Mapping[str, str], fields: Mapping[str, _FrameValue], time_ns: int
) -> str | None:
    tag_parts = sorted(f"{escape_key(k)}={escape_key(v)}" for k, v in tags.items() if v)
    field_parts = []
    for key, value in fields.items():
        text = field_value(value)
        if text is not None:
            field_parts.append(f"{escape_key(key)}={text}")
    if not field_parts:
        return None
    head = ",".join([escape_measurement(name), *tag_parts])
    stamp = f" {time_ns}" if time_ns else ""
    return f"{head} {','.join(sorted(field_parts))}{stamp}"


def geohash(latitude: float, longitude: float, precision: int = 12) -> str:
    """The geohash of a position ("" outside the valid ranges, as ChirpStack writes it)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return ""
    ranges = [[-180.0, 180.0], [-90.0, 90.0]]  # longitude first: bits alternate lon, lat
    coordinates = (longitude, latitude)
    out: list[str] = []
    bit_index = 0
    while len(out) < precision:
        character = 0
        for _ in range(5):
            axis = bit_index % 2
            low, high = ranges[axis]
            middle = (low + high) / 2
            character <<= 1
            if coordinates[axis] >= middle:
                character |= 1
                ranges[axis][0] = middle
            else:
                ranges[axis][1] = middle
            bit_index += 1
        out.append(_GEOHASH_ALPHABET[character])
    return "".join(out)


def _value(value: Any) -> Any:
    """A ``google.protobuf.Value`` as a plain Python value (``None`` for null)."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return float(value.number_value)
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind == "struct_value":
        return {key: _value(item) for key, item in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    return None


def _object_points(prefix: str, value: Any) -> Iterator[tuple[str, dict[str, _FrameValue]]]:
    if isinstance(value, dict):
        latitude, longitude = value.get("latitude"), value.get("longitude")
        if isinstance(latitude, float) and isinstance(longitude, float):
            yield (
                f"{prefix}_location",
                {
                    "latitude": latitude,
                    "longitude": longitude,
                    "geohash": geohash(latitude, longitude),
                },
            )
        for key, item in value.items():
            if key not in ("latitude", "longitude"):
                yield from _object_points(f"{prefix}_{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _object_points(f"{prefix}_{index}", item)
    elif value is not None:
        yield prefix, {"value": value}


def _device_tags(message: Any) -> dict[str, str]:
    info = message.device_info
    tags = dict(info.tags)
    tags["application_name"] = info.application_name
    tags["device_name"] = info.device_name
    tags["dev_eui"] = info.dev_eui
    return tags


def _uplink(message: Any, time_ns: int) -> list[str]:
    tags = _device_tags(message)
    uplink_tags = dict(tags)
    if message.HasField("tx_info"):
        uplink_tags["frequency"] = str(message.tx_info.frequency)
    uplink_tags["dr"] = str(message.dr)
    fields: dict[str, _FrameValue] = {
        "value": IntegerValue(1),
        "f_cnt": IntegerValue(message.f_cnt),
    }
    if message.rx_info:
        fields["rssi"] = IntegerValue(max(rx.rssi for rx in message.rx_info))
        fields["snr"] = max(float(rx.snr) for rx in message.rx_info)
    lines = [line("device_uplink", uplink_tags, fields, time_ns)]
    if message.HasField("object"):
        tags["f_port"] = str(message.f_port)
        decoded = {key: _value(item) for key, item in message.object.fields.items()}
        for name, values in _object_points("device_frmpayload_data", decoded):
            lines.append(line(name, tags, values, time_ns))
    return sorted(text for text in lines if text is not None)


def _status(message: Any, time_ns: int) -> list[str]:
    tags = _device_tags(message)
    lines = [line("device_status_margin", tags, {"value": IntegerValue(message.margin)}, time_ns)]
    if not message.external_power_source and not message.battery_level_unavailable:
        battery = {"value": float(message.battery_level)}
        lines.append(line("device_status_battery_level", tags, battery, time_ns))
    return sorted(text for text in lines if text is not None)


WRITTEN_KINDS: Final = frozenset({EventKind.UP, EventKind.STATUS})


def event_lines(record: EventRecord) -> list[str]:
    """The line-protocol lines of one event (none for kinds InfluxDB does not get)."""
    if record.kind is EventKind.UP:
        return _uplink(record.message, record.time_ns)
    if record.kind is EventKind.STATUS:
        return _status(record.message, record.time_ns)
    return []
