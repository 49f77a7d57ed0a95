"""Field-level conversions shared by every message: ids, times, numbers, enums, modulation.

Every reader takes the dotted path of the field it reads so a ``ProtoConversionError`` names
exactly what was wrong (``items[1].tx_info.timing.delay``). Protobuf values are untyped here
(``chirpstack_api`` ships no type information), so each is converted to a Python type before it
reaches the model: nothing typed ``Any`` leaves this package.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping
from enum import IntEnum
from typing import Any, TypeVar

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    FSKModulation,
    Location,
    LocationSource,
    LoRaModulation,
    LRFHSSModulation,
    Modulation,
)


class ProtoConversionError(ValueError):
    """A protobuf message cannot become a model value, or a model value does not fit the
    protobuf field. ``field`` is the dotted path of the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


_E = TypeVar("_E", bound=IntEnum)
_K = TypeVar("_K", int, str)

_U32_MAX = 0xFFFF_FFFF
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1
_NS_PER_S = 1_000_000_000
# google.protobuf.Timestamp is defined for 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z and
# Duration for +-10,000 years; proto3-JSON refuses anything outside, so both directions do too.
_TIMESTAMP_MIN_S, _TIMESTAMP_MAX_S = -62_135_596_800, 253_402_300_799
_DURATION_MAX_S = 315_576_000_000
_GATEWAY_ID = re.compile(r"[0-9a-fA-F]{16}")


def unsigned32(value: int, field: str) -> int:
    if not 0 <= value <= _U32_MAX:
        raise ProtoConversionError(field, f"must fit in uint32, got {value}")
    return value


def signed32(value: int, field: str) -> int:
    if not _I32_MIN <= value <= _I32_MAX:
        raise ProtoConversionError(field, f"must fit in int32, got {value}")
    return value


def enum_from_proto(enum: type[_E], value: Any, field: str) -> _E:
    # proto3 enums are open: an unknown number survives decoding and must be refused here.
    number = int(value)
    try:
        return enum(number)
    except ValueError:
        raise ProtoConversionError(field, f"unknown {enum.__name__} value {number}") from None


def gateway_id_from_proto(value: Any, field: str = "gateway_id") -> EUI64:
    """The 16-hex-digit text ChirpStack uses; separators or prefixes are refused."""
    text = str(value)
    if not _GATEWAY_ID.fullmatch(text):
        raise ProtoConversionError(field, f"must be 16 hex digits, got {text[:40]!r}")
    return EUI64(text)


def gateway_id_to_proto(gateway_id: EUI64) -> str:
    return str(gateway_id)


def set_timestamp(target: Any, time_ns: int, field: str) -> None:
    seconds, nanos = divmod(time_ns, _NS_PER_S)
    if not _TIMESTAMP_MIN_S <= seconds <= _TIMESTAMP_MAX_S:
        raise ProtoConversionError(field, f"time {time_ns} ns is outside years 1..9999")
    target.seconds = seconds
    target.nanos = nanos
    target.SetInParent()  # a zero time is still a time: keep the field present


def timestamp_from_proto(parent: Any, name: str, field: str) -> int | None:
    if not parent.HasField(name):
        return None
    stamp = getattr(parent, name)
    seconds, nanos = int(stamp.seconds), int(stamp.nanos)
    if not _TIMESTAMP_MIN_S <= seconds <= _TIMESTAMP_MAX_S:
        raise ProtoConversionError(field, f"seconds {seconds} is outside years 1..9999")
    if not 0 <= nanos < _NS_PER_S:
        raise ProtoConversionError(field, f"nanos must be 0..999999999, got {nanos}")
    return seconds * _NS_PER_S + nanos


def set_duration(target: Any, duration_ns: int, field: str) -> None:
    # Duration keeps seconds and nanos with the same sign, so truncate towards zero.
    seconds = abs(duration_ns) // _NS_PER_S * (1 if duration_ns >= 0 else -1)
    nanos = duration_ns - seconds * _NS_PER_S
    if abs(seconds) > _DURATION_MAX_S:
        raise ProtoConversionError(field, f"duration {duration_ns} ns exceeds 10,000 years")
    target.seconds = seconds
    target.nanos = nanos
    target.SetInParent()


def duration_from_proto(parent: Any, name: str, field: str) -> int | None:
    if not parent.HasField(name):
        return None
    duration = getattr(parent, name)
    seconds, nanos = int(duration.seconds), int(duration.nanos)
    if abs(seconds) > _DURATION_MAX_S:
        raise ProtoConversionError(field, f"seconds {seconds} exceeds 10,000 years")
    if abs(nanos) >= _NS_PER_S or (seconds > 0 > nanos) or (seconds < 0 < nanos):
        raise ProtoConversionError(field, f"invalid nanos {nanos} for seconds {seconds}")
    return seconds * _NS_PER_S + nanos


def required_duration(parent: Any, name: str, field: str) -> int:
    value = duration_from_proto(parent, name, field)
    if value is None:
        raise ProtoConversionError(field, "is missing")
    return value


_FLOAT32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]


def _round_to_float32(value: float) -> float:
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


def float32_to_proto(value: float, field: str) -> float:
    try:
        rounded = _round_to_float32(value)
    except OverflowError:
        raise ProtoConversionError(field, f"{value} does not fit a 32-bit float") from None
    if not math.isfinite(rounded):
        raise ProtoConversionError(field, f"must be a finite number, got {value}")
    return rounded


def float32_from_proto(value: Any, field: str) -> float:
    """The shortest decimal that is the same 32-bit float, as proto3-JSON prints it.

    A 9.8 dB SNR is stored as 9.80000019...; giving back 9.8 keeps model -> proto -> model
    exact for every value a radio reports, and keeps binary and JSON decoding in agreement.
    """
    number = float(value)
    if not math.isfinite(number):
        raise ProtoConversionError(field, f"must be a finite number, got {number}")
    for digits in range(1, 10):
        candidate = float(f"{number:.{digits}g}")
        if abs(candidate) > _FLOAT32_MAX:
            continue  # rounded past the largest float32 (struct cannot pack it back)
        if _round_to_float32(candidate) == number:
            return candidate
    return number  # only near the largest float32, whose exact value is returned


def finite_double(value: Any, field: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ProtoConversionError(field, f"must be a finite number, got {number}")
    return number


def modulation_to_proto(modulation: Modulation, target: Any, field: str) -> None:
    if isinstance(modulation, LoRaModulation):
        lora = target.lora
        lora.bandwidth = unsigned32(modulation.bandwidth, f"{field}.lora.bandwidth")
        lora.spreading_factor = modulation.spreading_factor
        lora.code_rate = int(modulation.code_rate)
        lora.polarization_inversion = modulation.polarization_inversion
        lora.preamble = modulation.preamble
        lora.no_crc = modulation.no_crc
        lora.SetInParent()
    elif isinstance(modulation, FSKModulation):
        target.fsk.datarate = modulation.datarate
        target.fsk.frequency_deviation = modulation.frequency_deviation
        target.fsk.SetInParent()
    else:
        lr_fhss = target.lr_fhss
        lr_fhss.operating_channel_width = unsigned32(
            modulation.operating_channel_width, f"{field}.lr_fhss.operating_channel_width"
        )
        lr_fhss.code_rate = int(modulation.code_rate)
        lr_fhss.grid_steps = unsigned32(modulation.grid_steps, f"{field}.lr_fhss.grid_steps")
        lr_fhss.SetInParent()


def modulation_from_proto(parent: Any, name: str, field: str) -> Modulation:
    if not parent.HasField(name):
        raise ProtoConversionError(field, "modulation is missing")
    message = getattr(parent, name)
    kind = message.WhichOneof("parameters")
    try:
        if kind == "lora":
            lora = message.lora
            return LoRaModulation(
                bandwidth=int(lora.bandwidth),
                spreading_factor=int(lora.spreading_factor),
                code_rate=enum_from_proto(CodeRate, lora.code_rate, f"{field}.lora.code_rate"),
                polarization_inversion=bool(lora.polarization_inversion),
                preamble=int(lora.preamble),
                no_crc=bool(lora.no_crc),
            )
        if kind == "fsk":
            return FSKModulation(
                datarate=int(message.fsk.datarate),
                frequency_deviation=int(message.fsk.frequency_deviation),
            )
        if kind == "lr_fhss":
            lr_fhss = message.lr_fhss
            return LRFHSSModulation(
                operating_channel_width=int(lr_fhss.operating_channel_width),
                code_rate=enum_from_proto(
                    CodeRate, lr_fhss.code_rate, f"{field}.lr_fhss.code_rate"
                ),
                grid_steps=int(lr_fhss.grid_steps),
            )
    except InvalidValueError as error:
        raise ProtoConversionError(f"{field}.{kind}", str(error)) from None
    raise ProtoConversionError(field, "none of lora, fsk, lr_fhss is set")


def location_to_proto(location: Location, target: Any, field: str) -> None:
    target.latitude = finite_double(location.latitude, f"{field}.latitude")
    target.longitude = finite_double(location.longitude, f"{field}.longitude")
    target.altitude = finite_double(location.altitude, f"{field}.altitude")
    target.source = int(location.source)
    target.accuracy = float32_to_proto(location.accuracy, f"{field}.accuracy")
    target.SetInParent()


def location_from_proto(parent: Any, name: str, field: str) -> Location | None:
    if not parent.HasField(name):
        return None
    location = getattr(parent, name)
    return Location(
        latitude=finite_double(location.latitude, f"{field}.latitude"),
        longitude=finite_double(location.longitude, f"{field}.longitude"),
        altitude=finite_double(location.altitude, f"{field}.altitude"),
        source=enum_from_proto(LocationSource, location.source, f"{field}.source"),
        accuracy=float32_from_proto(location.accuracy, f"{field}.accuracy"),
    )


def text_map_to_proto(values: Mapping[str, str], target: Any, field: str) -> None:
    try:
        target.update(values)
    except (TypeError, ValueError) as error:
        raise ProtoConversionError(field, f"not a map of text to text: {error}") from None


def text_map_from_proto(values: Any) -> dict[str, str]:
    return {str(key): str(value) for key, value in values.items()}


def counter_map_to_proto(values: Mapping[_K, int], target: Any, field: str) -> None:
    for key, count in values.items():
        if isinstance(key, int):
            unsigned32(key, f"{field} key")
        unsigned32(count, f"{field}[{key!r}]")
        try:
            target[key] = count
        except (TypeError, ValueError) as error:
            raise ProtoConversionError(field, f"key {key!r} refused: {error}") from None


def int_counter_map_from_proto(values: Any) -> dict[int, int]:
    return {int(key): int(count) for key, count in values.items()}


def text_counter_map_from_proto(values: Any) -> dict[str, int]:
    return {str(key): int(count) for key, count in values.items()}
