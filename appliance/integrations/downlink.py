"""Downlink commands from a broker (ChirpStack's ``DownlinkCommand``), checked before they
reach a device queue.

A command names its device (``devEui``, which must equal the topic's), an FPort (1..223),
whether it is confirmed, and either ``data`` (base64) or ``object`` (for the profile's codec);
optionally an ``id`` (UUID) and ``expiresAt`` (RFC 3339). JSON keys may be lowerCamelCase or
snake_case, as ChirpStack's parser accepts; unknown keys are ignored, as there. Every refusal
is a ``DownlinkCommandError`` with one line that says what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from chirpstack_api import integration

# protobuf ships no type information.
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from appliance.integrations.errors import DownlinkCommandError
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64

MAX_PAYLOAD: Final = 242  # the largest FRMPayload of any region and data rate
MAX_COMMAND_BYTES: Final = 16 * 1024
_FIELDS: Final = {
    "id": "id",
    "devEui": "dev_eui",
    "dev_eui": "dev_eui",
    "confirmed": "confirmed",
    "fPort": "f_port",
    "f_port": "f_port",
    "data": "data",
    "object": "object",
    "expiresAt": "expires_at",
    "expires_at": "expires_at",
}


@dataclass(frozen=True, slots=True)
class DownlinkCommand:
    dev_eui: EUI64
    f_port: int
    data: bytes | None = None  # None: ``object`` goes through the codec
    object: dict[str, Any] | None = None
    confirmed: bool = False
    id: uuid.UUID | None = None
    expires_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """ChirpStack's JSON form (what ``enqueue`` receives)."""
        values: dict[str, Any] = {
            "devEui": str(self.dev_eui),
            "confirmed": self.confirmed,
            "fPort": self.f_port,
        }
        if self.id is not None:
            values["id"] = str(self.id)
        if self.data is not None:
            values["data"] = base64.b64encode(self.data).decode()
        if self.object is not None:
            values["object"] = self.object
        if self.expires_at is not None:
            values["expiresAt"] = self.expires_at.isoformat()
        return values


def _bad(message: str, reason: str = "malformed") -> DownlinkCommandError:
    return DownlinkCommandError(reason, message)


def _dev_eui(value: Any, topic_dev_eui: EUI64 | None) -> EUI64:
    if not isinstance(value, str) or not value:
        raise _bad("devEui: missing (the device's EUI as 16 hex digits)")
    try:
        dev_eui = EUI64(value)
    except InvalidValueError as error:
        raise _bad(f"devEui: {error}") from None
    if topic_dev_eui is not None and dev_eui != topic_dev_eui:
        raise _bad(f"devEui {dev_eui} does not match the topic's {topic_dev_eui}", "wrong_device")
    return dev_eui


def _f_port(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():  # proto3 JSON allows numbers as strings
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"fPort: must be a number 1..223, got {value!r}")
    if not 1 <= value <= 223:
        raise _bad(f"fPort: must be 1..223, got {value}", "bad_f_port")
    return value


def _data(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _bad(f"data: must be base64 text, got {type(value).__name__}")
    try:
        if "-" in value or "_" in value:
            data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        else:
            data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("data: not valid base64") from None
    return _sized(data)


def _sized(data: bytes) -> bytes:
    if len(data) > MAX_PAYLOAD:
        raise _bad(f"data: {len(data)} bytes is more than any data rate carries", "too_large")
    return data


def _expires_at(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad(f"expiresAt: must be an RFC 3339 time, got {value!r}")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _bad(f"expiresAt: not an RFC 3339 time: {value[:40]!r}") from None
    if when.tzinfo is None:
        raise _bad("expiresAt: needs a time zone (e.g. Z)")
    return when


def _id(value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad(f"id: must be a UUID, got {value!r}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _bad(f"id: not a UUID: {value[:40]!r}") from None


def downlink_command_from_dict(
    values: Mapping[str, Any], topic_dev_eui: EUI64 | None = None
) -> DownlinkCommand:
    """A command from its JSON object (ChirpStack's field names; snake_case too)."""
    fields: dict[str, Any] = {}
    for key, value in values.items():
        name = _FIELDS.get(key)
        if name is not None:
            fields[name] = value
    confirmed = fields.get("confirmed", False)
    if not isinstance(confirmed, bool):
        raise _bad(f"confirmed: must be true or false, got {confirmed!r}")
    has_data = fields.get("data") is not None
    has_object = fields.get("object") is not None
    if has_data == has_object:
        raise _bad("give either data (base64) or object (encoded by the codec)")
    obj = fields.get("object")
    if has_object and not isinstance(obj, dict):
        raise _bad(f"object: must be a JSON object, got {type(obj).__name__}")
    return DownlinkCommand(
        dev_eui=_dev_eui(fields.get("dev_eui"), topic_dev_eui),
        f_port=_f_port(fields.get("f_port")),
        data=_data(fields["data"]) if has_data else None,
        object=obj if has_object else None,
        confirmed=confirmed,
        id=_id(fields.get("id")),
        expires_at=_expires_at(fields.get("expires_at")),
    )


def _from_protobuf(payload: bytes, topic_dev_eui: EUI64 | None) -> DownlinkCommand:
    try:
        message: Any = integration.DownlinkCommand.FromString(payload)
    except DecodeError as error:
        raise _bad(f"not a protobuf DownlinkCommand: {error}") from None
    has_object = message.HasField("object")
    expires_at = None
    if message.HasField("expires_at"):
        expires_at = message.expires_at.ToDatetime(tzinfo=UTC)
    return DownlinkCommand(
        dev_eui=_dev_eui(message.dev_eui, topic_dev_eui),
        f_port=_f_port(message.f_port),
        data=None if has_object else _sized(bytes(message.data)),
        object=json_format.MessageToDict(message.object) if has_object else None,
        confirmed=bool(message.confirmed),
        id=_id(message.id),
        expires_at=expires_at,
    )


def parse_downlink_command(
    topic_app_id: uuid.UUID | None,
    topic_dev_eui: EUI64 | None,
    payload: bytes,
    *,
    encoding: str = "json",
    max_bytes: int = MAX_COMMAND_BYTES,
) -> DownlinkCommand:
    """The command in an MQTT message's ``payload`` (JSON, or protobuf with
    ``encoding="protobuf"``) for the device its topic names. ``topic_app_id`` is checked by
    whoever enqueues (the device must belong to it)."""
    if len(payload) > max_bytes:
        raise _bad(f"{len(payload)} bytes exceed the limit of {max_bytes}", "oversized")
    if encoding == "protobuf":
        return _from_protobuf(payload, topic_dev_eui)
    try:
        values = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _bad(f"not JSON: {error}", "bad_json") from None
    if not isinstance(values, dict):
        raise _bad(f"must be a JSON object, got {type(values).__name__}", "bad_json")
    return downlink_command_from_dict(values, topic_dev_eui)
