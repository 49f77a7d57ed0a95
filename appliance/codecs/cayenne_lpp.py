"""Cayenne Low Power Payload, decoded to and encoded from ChirpStack's JSON shape.

A payload is a run of ``channel, type, value`` records. The object is keyed by type name, then
by channel (a decimal string), as ChirpStack v4 does: ``{"temperatureSensor": {"3": 27.2}}``;
accelerometer, gyrometer, GPS and colour values are objects (``{"x": .., "y": .., "z": ..}``,
``{"latitude": .., "longitude": .., "altitude": ..}``, ``{"r": .., "g": .., "b": ..}``).

The table is IPSO/Cayenne's original twelve types (ChirpStack's names) plus the extended types
of the ElectronicCats CayenneLPP library (names chosen in the same style). Sizes, resolutions
and signedness come from that library's ``CayenneLPP.h``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from appliance.codecs.errors import CodecError


@dataclass(frozen=True, slots=True)
class Field:
    """One number on the wire: ``size`` bytes big-endian, divided by ``scale`` when decoded."""

    size: int
    scale: int
    signed: bool
    name: str = ""  # "" for a type with a single value

    @property
    def raw_range(self) -> tuple[int, int]:
        bits = self.size * 8
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if self.signed else (0, (1 << bits) - 1)


@dataclass(frozen=True, slots=True)
class LPPType:
    code: int
    name: str
    fields: tuple[Field, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.fields)

    @property
    def is_composite(self) -> bool:
        return bool(self.fields[0].name)


def _one(code: int, name: str, size: int, scale: int = 1, *, signed: bool = False) -> LPPType:
    return LPPType(code, name, (Field(size, scale, signed),))


def _xyz(code: int, name: str, scale: int) -> LPPType:
    return LPPType(code, name, tuple(Field(2, scale, True, axis) for axis in "xyz"))


TYPES: tuple[LPPType, ...] = (
    # IPSO/Cayenne LPP v1, with ChirpStack's names.
    _one(0, "digitalInput", 1),
    _one(1, "digitalOutput", 1),
    _one(2, "analogInput", 2, 100, signed=True),
    _one(3, "analogOutput", 2, 100, signed=True),
    _one(101, "illuminanceSensor", 2),  # lux
    _one(102, "presenceSensor", 1),
    _one(103, "temperatureSensor", 2, 10, signed=True),  # °C
    _one(104, "humiditySensor", 1, 2),  # %RH in 0.5 steps
    _xyz(113, "accelerometer", 1000),  # G
    _one(115, "barometer", 2, 10),  # hPa
    _xyz(134, "gyrometer", 100),  # °/s
    LPPType(
        136,
        "gpsLocation",
        (
            Field(3, 10_000, True, "latitude"),
            Field(3, 10_000, True, "longitude"),
            Field(3, 100, True, "altitude"),  # metres
        ),
    ),
    # Extended types (ElectronicCats CayenneLPP).
    _one(100, "genericSensor", 4),
    _one(116, "voltage", 2, 100),  # V
    _one(117, "current", 2, 1000),  # A
    _one(118, "frequency", 4),  # Hz
    _one(120, "percentage", 1),  # %
    _one(121, "altitude", 2, signed=True),  # m
    _one(125, "concentration", 2),  # ppm
    _one(128, "power", 2),  # W
    _one(130, "distance", 4, 1000),  # m
    _one(131, "energy", 4, 1000),  # kWh
    _one(132, "direction", 2),  # degrees
    _one(133, "unixTime", 4),  # seconds since 1970
    LPPType(135, "colour", tuple(Field(1, 1, False, c) for c in "rgb")),
    _one(142, "switch", 1),  # 0 or 1
)
BY_CODE: dict[int, LPPType] = {t.code: t for t in TYPES}
BY_NAME: dict[str, LPPType] = {t.name: t for t in TYPES}


def _bad(message: str) -> CodecError:
    return CodecError(f"Cayenne LPP: {message}", kind="payload")


def _read(field: Field, data: bytes, offset: int) -> int | float:
    raw = int.from_bytes(data[offset : offset + field.size], "big", signed=field.signed)
    return raw if field.scale == 1 else raw / field.scale


def decode(data: bytes) -> dict[str, Any]:
    """``data`` as ChirpStack's LPP object; a later record of the same channel and type wins."""
    out: dict[str, dict[str, Any]] = {}
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise _bad(f"a lone byte at offset {offset} where a channel and type should be")
        channel, code = data[offset], data[offset + 1]
        lpp_type = BY_CODE.get(code)
        if lpp_type is None:
            raise _bad(f"unknown type {code} at offset {offset + 1} (channel {channel})")
        offset += 2
        if offset + lpp_type.size > len(data):
            raise _bad(
                f"{lpp_type.name} on channel {channel} needs {lpp_type.size} bytes at offset "
                f"{offset}, {len(data) - offset} left"
            )
        value: Any
        if lpp_type.is_composite:
            value = {}
            for field in lpp_type.fields:
                value[field.name] = _read(field, data, offset)
                offset += field.size
        else:
            value = _read(lpp_type.fields[0], data, offset)
            offset += lpp_type.size
        out.setdefault(lpp_type.name, {})[str(channel)] = value
    return out


def _channel(key: object, where: str) -> int:
    text = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
    if not isinstance(text, str) or not text.isdigit() or not 0 <= int(text) <= 255:
        raise _bad(f"{where}: channel {key!r} is not a number 0..255")
    return int(text)


def _raw(field: Field, value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{where} is {type(value).__name__} {value!r}, not a number")
    if not math.isfinite(value):
        raise _bad(f"{where} is {value}, not a finite number")
    scaled = value * field.scale
    raw = int(math.copysign(math.floor(abs(scaled) + 0.5), scaled))  # half away from zero
    low, high = field.raw_range
    if not low <= raw <= high:
        raise _bad(
            f"{where} = {value} is out of range ({low / field.scale:g}..{high / field.scale:g})"
        )
    return raw


def _encode_value(lpp_type: LPPType, value: object, where: str) -> bytes:
    if not lpp_type.is_composite:
        field = lpp_type.fields[0]
        return _raw(field, value, where).to_bytes(field.size, "big", signed=field.signed)
    if not isinstance(value, dict):
        names = ", ".join(f.name for f in lpp_type.fields)
        raise _bad(f"{where} must be an object with {names}")
    out = b""
    for field in lpp_type.fields:
        if field.name not in value:
            raise _bad(f"{where}.{field.name} is missing")
        raw = _raw(field, value[field.name], f"{where}.{field.name}")
        out += raw.to_bytes(field.size, "big", signed=field.signed)
    return out


def encode(obj: dict[str, Any]) -> bytes:
    """ChirpStack's LPP object as bytes: types in table order, channels in ascending order."""
    if not isinstance(obj, dict):
        raise _bad(f"the object must be a mapping of type names, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(BY_NAME))
    if unknown:
        raise _bad(f"unknown type name {unknown[0]!r} (known: {', '.join(BY_NAME)})")
    out = bytearray()
    for lpp_type in TYPES:
        channels = obj.get(lpp_type.name)
        if channels is None:
            continue
        if not isinstance(channels, dict):
            raise _bad(f"{lpp_type.name} must map channels to values")
        by_channel = {_channel(k, lpp_type.name): v for k, v in channels.items()}
        for channel in sorted(by_channel):
            where = f"{lpp_type.name}.{channel}"
            out += bytes((channel, lpp_type.code))
            out += _encode_value(lpp_type, by_channel[channel], where)
    return bytes(out)
