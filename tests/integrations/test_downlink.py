"""Downlink commands as brokers deliver them: ChirpStack's JSON (and protobuf), checked
against the topic, every refusal one line with a reason label."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from chirpstack_api import integration

from appliance.integrations import (
    DownlinkCommand,
    DownlinkCommandError,
    downlink_command_from_dict,
    parse_downlink_command,
)
from appliance.lorawan.identifiers import EUI64

APP = uuid.UUID("17c82e96-1b8a-4f34-9b2b-6b1f1c3d0a11")
DEV = EUI64("0101010101010101")


def _parse(body: object, **options: object) -> DownlinkCommand:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_downlink_command(APP, DEV, payload, **options)  # type: ignore[arg-type]


def test_a_chirpstack_command() -> None:
    command = _parse(
        {
            "id": "5b2c6a1e-9f3d-4c8b-a7e6-0d1f2e3c4b5a",
            "devEui": "0101010101010101",
            "confirmed": True,
            "fPort": 10,
            "data": base64.b64encode(b"\x01\x02\x03").decode(),
            "expiresAt": "2026-11-21T12:00:00Z",
        }
    )
    assert command == DownlinkCommand(
        dev_eui=DEV,
        f_port=10,
        data=b"\x01\x02\x03",
        confirmed=True,
        id=uuid.UUID("5b2c6a1e-9f3d-4c8b-a7e6-0d1f2e3c4b5a"),
        expires_at=datetime(2026, 11, 21, 12, tzinfo=UTC),
    )
    assert command.to_dict() == {
        "devEui": "0101010101010101",
        "confirmed": True,
        "fPort": 10,
        "id": "5b2c6a1e-9f3d-4c8b-a7e6-0d1f2e3c4b5a",
        "data": "AQID",
        "expiresAt": "2026-11-21T12:00:00+00:00",
    }
    assert downlink_command_from_dict(command.to_dict(), DEV) == command


def test_an_object_for_the_codec_snake_case_and_unknown_keys() -> None:
    command = _parse(
        {"dev_eui": "0101010101010101", "f_port": "2", "object": {"on": True}, "extra": 1}
    )
    assert (command.f_port, command.object, command.data) == (2, {"on": True}, None)
    assert command.to_dict()["object"] == {"on": True}


def test_protobuf_commands() -> None:
    message = integration.DownlinkCommand(dev_eui=str(DEV), f_port=3, data=b"\xaa", confirmed=True)
    message.expires_at.FromDatetime(datetime(2026, 11, 21, tzinfo=UTC))
    command = _parse(message.SerializeToString(), encoding="protobuf")
    assert (command.data, command.confirmed) == (b"\xaa", True)
    assert command.expires_at == datetime(2026, 11, 21, tzinfo=UTC)
    with_object = integration.DownlinkCommand(dev_eui=str(DEV), f_port=3)
    with_object.object.update({"level": 4})
    assert _parse(with_object.SerializeToString(), encoding="protobuf").object == {"level": 4.0}
    with pytest.raises(DownlinkCommandError, match="not a protobuf DownlinkCommand"):
        _parse(b"\xff\xff\xff", encoding="protobuf")


@pytest.mark.parametrize(
    ("body", "reason", "message"),
    [
        (b"{not json", "bad_json", "not JSON"),
        (b"\xff\xfe", "bad_json", "not JSON"),
        (b"[1, 2]", "bad_json", "must be a JSON object, got list"),
        pytest.param(b"[" * 5_000 + b"]" * 5_000, "bad_json", "not JSON", id="deeply-nested"),
        ({"fPort": 1, "data": "AA=="}, "malformed", "devEui: missing"),
        ({"devEui": "01", "fPort": 1, "data": "AA=="}, "malformed", "devEui:"),
        (
            {"devEui": "0202020202020202", "fPort": 1, "data": "AA=="},
            "wrong_device",
            "devEui 0202020202020202 does not match the topic's 0101010101010101",
        ),
        ({"devEui": str(DEV), "fPort": 0, "data": "AA=="}, "bad_f_port", "fPort: must be 1..223"),
        ({"devEui": str(DEV), "fPort": 224, "data": "AA=="}, "bad_f_port", "got 224"),
        ({"devEui": str(DEV), "fPort": True, "data": "AA=="}, "malformed", "fPort: must be a"),
        ({"devEui": str(DEV), "data": "AA=="}, "malformed", "fPort: must be a number"),
        ({"devEui": str(DEV), "fPort": 1}, "malformed", "give either data"),
        (
            {"devEui": str(DEV), "fPort": 1, "data": "AA==", "object": {}},
            "malformed",
            "give either data",
        ),
        ({"devEui": str(DEV), "fPort": 1, "data": "!!"}, "malformed", "data: not valid base64"),
        ({"devEui": str(DEV), "fPort": 1, "data": 5}, "malformed", "data: must be base64"),
        (
            {"devEui": str(DEV), "fPort": 1, "data": base64.b64encode(bytes(243)).decode()},
            "too_large",
            "243 bytes is more than any data rate carries",
        ),
        ({"devEui": str(DEV), "fPort": 1, "object": [1]}, "malformed", "object: must be a JSON"),
        (
            {"devEui": str(DEV), "fPort": 1, "data": "", "confirmed": "yes"},
            "malformed",
            "confirmed: must be true or false",
        ),
        ({"devEui": str(DEV), "fPort": 1, "data": "", "id": "x"}, "malformed", "id: not a UUID"),
        (
            {"devEui": str(DEV), "fPort": 1, "data": "", "expiresAt": "tomorrow"},
            "malformed",
            "expiresAt: not an RFC 3339 time",
        ),
        (
            {"devEui": str(DEV), "fPort": 1, "data": "", "expiresAt": "2026-11-21T12:00:00"},
            "malformed",
            "expiresAt: needs a time zone",
        ),
    ],
)
def test_refusals(body: object, reason: str, message: str) -> None:
    with pytest.raises(DownlinkCommandError) as error:
        _parse(body)
    assert error.value.reason == reason
    assert message in str(error.value)
    assert "\n" not in str(error.value) and len(str(error.value)) < 300


def test_a_huge_payload_is_refused_before_it_is_parsed() -> None:
    huge = json.dumps({"devEui": str(DEV), "fPort": 1, "object": {"x": "a" * 100_000}}).encode()
    with pytest.raises(DownlinkCommandError) as error:
        parse_downlink_command(APP, DEV, huge, max_bytes=16_384)
    assert error.value.reason == "oversized"
    assert str(error.value) == f"{len(huge)} bytes exceed the limit of 16384"


def test_an_empty_payload_is_allowed_and_the_topic_may_leave_the_device_to_the_body() -> None:
    command = parse_downlink_command(
        APP, None, json.dumps({"devEui": str(DEV), "fPort": 5, "data": ""}).encode()
    )
    assert (command.dev_eui, command.data) == (DEV, b"")
