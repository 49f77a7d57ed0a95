"""The ChirpStack MQTT Forwarder's topics and payloads.

Topics: ``{prefix}/gateway/{gateway_id}/event/{up|stats|ack}``, retained
``{prefix}/gateway/{gateway_id}/state/conn``, and ``.../command/{down|config}`` from the server.
Payloads are the ``chirpstack-api`` ``gw`` messages, protobuf or proto3-JSON (the encoding is the
same both ways, as the forwarder's ``json`` option sets it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chirpstack_api import gw

from appliance.bridge.config import Encoding
from appliance.bridge.outbox import UpstreamUplink
from appliance.lorawan.identifiers import EUI64
from hal.model import DownlinkFrame, DownlinkTxAck, GatewayConfiguration, GatewayStats
from hal.proto import (
    ProtoConversionError,
    configuration_from_proto,
    downlink_from_proto,
    message_from_json,
    message_to_json,
    parse_message,
    serialize_stats,
    serialize_tx_ack,
    stats_to_json,
    tx_ack_to_json,
    uplink_to_json,
)


class CommandError(ValueError):
    """A command from the server cannot be used; ``reason`` is the metrics label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    def base(self, gateway_id: EUI64) -> str:
        return f"{self.prefix}/gateway/{gateway_id}" if self.prefix else f"gateway/{gateway_id}"

    def event(self, gateway_id: EUI64, kind: str) -> str:
        return f"{self.base(gateway_id)}/event/{kind}"

    def state(self, gateway_id: EUI64) -> str:
        return f"{self.base(gateway_id)}/state/conn"

    def commands(self, gateway_id: EUI64) -> str:
        return f"{self.base(gateway_id)}/command/+"

    def command_kind(self, topic: str, gateway_id: EUI64) -> str | None:
        """``down``/``config``/... for a command topic of ``gateway_id``, else None."""
        head = f"{self.base(gateway_id)}/command/"
        if not topic.lower().startswith(head.lower()):
            return None
        return topic[len(head) :]


@dataclass(frozen=True, slots=True)
class PayloadCodec:
    encoding: Encoding

    @property
    def json(self) -> bool:
        return self.encoding is Encoding.JSON

    def uplink(self, uplink: UpstreamUplink) -> bytes:
        return uplink_to_json(uplink.frame).encode() if self.json else uplink.data

    def stats(self, stats: GatewayStats) -> bytes:
        return stats_to_json(stats).encode() if self.json else serialize_stats(stats)

    def tx_ack(self, ack: DownlinkTxAck) -> bytes:
        return tx_ack_to_json(ack).encode() if self.json else serialize_tx_ack(ack)

    def conn_state(self, gateway_id: EUI64, *, online: bool) -> bytes:
        message = gw.ConnState()
        message.gateway_id = str(gateway_id)
        message.state = gw.ConnState.ONLINE if online else gw.ConnState.OFFLINE
        if self.json:
            return message_to_json(message).encode()
        return bytes(message.SerializeToString())

    def _message(self, payload: bytes, message_type: Any, gateway_id: EUI64) -> Any:
        try:
            if self.json:
                message = message_from_json(payload, message_type)
            else:
                message = parse_message(payload, message_type)
        except ProtoConversionError as error:
            raise CommandError("malformed", str(error)) from None
        if not message.gateway_id:
            message.gateway_id = str(gateway_id)  # the topic names it
        elif str(message.gateway_id).lower() != str(gateway_id):
            raise CommandError(
                "wrong_gateway",
                f"gateway_id {str(message.gateway_id)[:40]!r} on the topic of {gateway_id}",
            )
        return message

    def downlink(self, payload: bytes, gateway_id: EUI64) -> DownlinkFrame:
        message = self._message(payload, gw.DownlinkFrame, gateway_id)
        try:
            return downlink_from_proto(message)
        except ProtoConversionError as error:
            raise CommandError("malformed", f"downlink {error}") from None

    def configuration(self, payload: bytes, gateway_id: EUI64) -> GatewayConfiguration:
        message = self._message(payload, gw.GatewayConfiguration, gateway_id)
        try:
            return configuration_from_proto(message)
        except ProtoConversionError as error:
            raise CommandError("malformed", f"configuration {error}") from None
