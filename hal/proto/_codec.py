"""Bytes and proto3-JSON in and out, with every decoding failure as ``ProtoConversionError``.

The JSON settings are the ChirpStack Gateway Bridge's and MQTT Forwarder's: every field printed
(``always_print_fields_with_no_presence``) and unknown fields ignored on parse, so a newer
gateway's extra fields do not break an older appliance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chirpstack_api import gw

# protobuf ships no type information and pyproject.toml has no mypy override for it (yet).
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from hal.proto._fields import ProtoConversionError
from hal.proto._frames import (
    downlink_from_proto,
    downlink_to_proto,
    tx_ack_from_proto,
    tx_ack_to_proto,
    uplink_from_proto,
    uplink_to_proto,
)
from hal.proto._gateway import (
    configuration_from_proto,
    configuration_to_proto,
    stats_from_proto,
    stats_to_proto,
)

_Model = TypeVar("_Model")


def _type_name(message_type: Any) -> str:
    return str(message_type.DESCRIPTOR.full_name)


def parse_message(data: bytes, message_type: Any) -> Any:
    """Decode protobuf bytes into a new ``message_type`` (e.g. ``gw.Event``)."""
    try:
        return message_type.FromString(bytes(data))
    except DecodeError as error:
        raise ProtoConversionError(_type_name(message_type), f"cannot decode: {error}") from None


def message_to_json(message: Any) -> str:
    """proto3-JSON as the Gateway Bridge writes it: camelCase keys, enum names, base64 bytes."""
    try:
        return str(json_format.MessageToJson(message, always_print_fields_with_no_presence=True))
    except (json_format.Error, ValueError, TypeError) as error:
        raise ProtoConversionError(_type_name(message), f"cannot print: {error}") from None


def message_from_json(text: str | bytes, message_type: Any) -> Any:
    """Parse proto3-JSON into a new ``message_type``, ignoring unknown fields."""
    try:
        return json_format.Parse(text, message_type(), ignore_unknown_fields=True)
    except (json_format.Error, ValueError, TypeError, RecursionError) as error:
        raise ProtoConversionError(_type_name(message_type), f"cannot parse: {error}") from None


@dataclass(frozen=True, slots=True)
class _Codec(Generic[_Model]):
    message_type: Any
    to_proto: Callable[[_Model], Any]
    from_proto: Callable[[Any], _Model]

    def parse(self, data: bytes) -> _Model:
        return self.from_proto(parse_message(data, self.message_type))

    def serialize(self, value: _Model) -> bytes:
        return bytes(self.to_proto(value).SerializeToString())

    def to_json(self, value: _Model) -> str:
        return message_to_json(self.to_proto(value))

    def from_json(self, text: str | bytes) -> _Model:
        return self.from_proto(message_from_json(text, self.message_type))


UPLINK = _Codec(gw.UplinkFrame, uplink_to_proto, uplink_from_proto)
DOWNLINK = _Codec(gw.DownlinkFrame, downlink_to_proto, downlink_from_proto)
TX_ACK = _Codec(gw.DownlinkTxAck, tx_ack_to_proto, tx_ack_from_proto)
STATS = _Codec(gw.GatewayStats, stats_to_proto, stats_from_proto)
CONFIGURATION = _Codec(gw.GatewayConfiguration, configuration_to_proto, configuration_from_proto)
