"""Cayenne LPP: wire bytes and ChirpStack-shaped objects, both ways, plus malformed input."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.codecs import CodecError
from appliance.codecs.cayenne_lpp import TYPES, decode, encode

# ChirpStack v4's own test vector (chirpstack/src/codec/cayenne_lpp.rs): two channels per type.
CHIRPSTACK_BYTES = b"".join(
    bytes(record)
    for record in (
        [3, 0, 100, 5, 0, 210],
        [3, 1, 100, 5, 1, 210],
        [3, 2, 0, 10, 5, 2, 3, 232],
        [3, 3, 0, 10, 5, 3, 3, 232],
        [3, 101, 0, 10, 5, 101, 3, 232],
        [3, 102, 5, 5, 102, 3],
        [3, 103, 1, 16, 5, 103, 0, 255],
        [3, 104, 41, 5, 104, 150],
        [3, 113, 0, 1, 0, 2, 0, 3, 5, 113, 3, 234, 7, 211, 11, 187],
        [3, 115, 4, 31, 5, 115, 9, 196],
        [3, 134, 0, 1, 0, 2, 0, 3, 5, 134, 3, 233, 7, 210, 11, 187],
        [1, 136, 6, 118, 95, 242, 150, 10, 0, 3, 232],
    )
)
CHIRPSTACK_OBJECT: dict[str, Any] = {
    "digitalInput": {"3": 100, "5": 210},
    "digitalOutput": {"3": 100, "5": 210},
    "analogInput": {"3": 0.1, "5": 10.0},
    "analogOutput": {"3": 0.1, "5": 10.0},
    "illuminanceSensor": {"3": 10, "5": 1000},
    "presenceSensor": {"3": 5, "5": 3},
    "temperatureSensor": {"3": 27.2, "5": 25.5},
    "humiditySensor": {"3": 20.5, "5": 75.0},
    "accelerometer": {
        "3": {"x": 0.001, "y": 0.002, "z": 0.003},
        "5": {"x": 1.002, "y": 2.003, "z": 3.003},
    },
    "barometer": {"3": 105.5, "5": 250.0},
    "gyrometer": {
        "3": {"x": 0.01, "y": 0.02, "z": 0.03},
        "5": {"x": 10.01, "y": 20.02, "z": 30.03},
    },
    "gpsLocation": {"1": {"latitude": 42.3519, "longitude": -87.9094, "altitude": 10.0}},
}

# The extended types, one channel each, in table order.
EXTENDED_BYTES = b"".join(
    bytes(record)
    for record in (
        [1, 100, 0, 0, 1, 0],
        [2, 116, 0x01, 0x2C],
        [3, 117, 0x03, 0xE8],
        [4, 118, 0, 0, 0x03, 0xE8],
        [5, 120, 0x32],
        [6, 121, 0xFF, 0x9C],
        [7, 125, 0x01, 0x90],
        [8, 128, 0x00, 0x64],
        [9, 130, 0, 0, 0x30, 0x39],
        [10, 131, 0, 0, 0x27, 0x10],
        [11, 132, 0x01, 0x0E],
        [12, 133, 0x6B, 0x00, 0xDF, 0x00],
        [13, 135, 0xFF, 0x80, 0x00],
        [14, 142, 0x01],
    )
)
EXTENDED_OBJECT: dict[str, Any] = {
    "genericSensor": {"1": 256},
    "voltage": {"2": 3.0},
    "current": {"3": 1.0},
    "frequency": {"4": 1000},
    "percentage": {"5": 50},
    "altitude": {"6": -100},
    "concentration": {"7": 400},
    "power": {"8": 100},
    "distance": {"9": 12.345},
    "energy": {"10": 10.0},
    "direction": {"11": 270},
    "unixTime": {"12": 1795219200},
    "colour": {"13": {"r": 255, "g": 128, "b": 0}},
    "switch": {"14": 1},
}


@pytest.mark.parametrize(
    ("wire", "obj"),
    [
        (CHIRPSTACK_BYTES, CHIRPSTACK_OBJECT),
        (EXTENDED_BYTES, EXTENDED_OBJECT),
        (b"", {}),
        (bytes([0, 103, 0xFF, 0xD7]), {"temperatureSensor": {"0": -4.1}}),
        (bytes([255, 104, 255]), {"humiditySensor": {"255": 127.5}}),
        (
            bytes([2, 136, 0x80, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            {
                "gpsLocation": {
                    "2": {"latitude": -838.8608, "longitude": 838.8607, "altitude": -0.01}
                }
            },
        ),
    ],
    ids=["chirpstack-vector", "extended-types", "empty", "negative", "channel-255", "gps-limits"],
)
def test_decode_and_encode_both_ways(wire: bytes, obj: dict[str, Any]) -> None:
    assert decode(wire) == obj
    assert encode(obj) == wire


def test_every_type_of_the_table_is_in_the_vectors() -> None:
    covered = set(CHIRPSTACK_OBJECT) | set(EXTENDED_OBJECT)
    assert {t.name for t in TYPES} == covered
    assert len({t.code for t in TYPES}) == len(TYPES)


def test_a_later_record_of_the_same_channel_and_type_wins() -> None:
    assert decode(bytes([1, 103, 0, 10, 1, 103, 0, 20])) == {"temperatureSensor": {"1": 2.0}}


def test_encoding_rounds_to_the_nearest_step_and_accepts_integer_channels() -> None:
    assert encode({"analogInput": {1: 0.29}}) == bytes([1, 2, 0, 29])  # 28.999... is 29
    assert encode({"humiditySensor": {"1": 20.3}}) == bytes([1, 104, 41])  # 40.6 steps -> 41
    assert encode({"temperatureSensor": {"1": -0.05}}) == bytes([1, 103, 0xFF, 0xFF])


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (bytes([3]), "a lone byte at offset 0"),
        (bytes([3, 103, 1, 16, 7]), "a lone byte at offset 4"),
        (bytes([3, 200, 1]), "unknown type 200 at offset 1 (channel 3)"),
        (bytes([3, 103, 1]), "temperatureSensor on channel 3 needs 2 bytes at offset 2, 1 left"),
        (bytes([1, 136, 0, 0, 0, 0, 0]), "gpsLocation on channel 1 needs 9 bytes"),
    ],
)
def test_malformed_payloads_are_codec_errors(wire: bytes, message: str) -> None:
    with pytest.raises(CodecError, match="Cayenne LPP") as caught:
        decode(wire)
    assert message in str(caught.value)
    assert caught.value.kind == "payload"


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"temperature": {"1": 20}}, "unknown type name 'temperature'"),
        ({"temperatureSensor": {"1": 4000}}, "temperatureSensor.1 = 4000 is out of range"),
        ({"humiditySensor": {"1": -1}}, "humiditySensor.1 = -1 is out of range (0..127.5)"),
        ({"temperatureSensor": {"x": 20}}, "channel 'x' is not a number 0..255"),
        ({"temperatureSensor": {"256": 20}}, "channel '256' is not a number 0..255"),
        ({"temperatureSensor": {"1": "20"}}, "temperatureSensor.1 is str '20', not a number"),
        ({"digitalInput": {"1": True}}, "digitalInput.1 is bool True, not a number"),
        ({"temperatureSensor": {"1": math.nan}}, "temperatureSensor.1 is nan"),
        ({"temperatureSensor": [20]}, "temperatureSensor must map channels to values"),
        ({"accelerometer": {"1": {"x": 1, "y": 2}}}, "accelerometer.1.z is missing"),
        ({"gpsLocation": {"1": 5}}, "must be an object with latitude, longitude, altitude"),
    ],
)
def test_objects_that_do_not_fit_are_codec_errors(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(CodecError) as caught:
        encode(obj)
    assert message in str(caught.value)


_RECORDS = st.lists(
    st.tuples(
        st.integers(0, 255),
        st.sampled_from(TYPES),
        st.randoms(use_true_random=False),
    ),
    max_size=12,
)


@given(_RECORDS)
def test_any_valid_payload_survives_decode_encode_decode(records: list[Any]) -> None:
    wire = bytearray()
    for channel, lpp_type, rng in records:
        wire += bytes((channel, lpp_type.code)) + rng.randbytes(lpp_type.size)
    decoded = decode(bytes(wire))
    assert decode(encode(decoded)) == decoded


@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_fail_cleanly(wire: bytes) -> None:
    try:
        decode(wire)
    except CodecError as error:
        assert "\n" not in str(error)
