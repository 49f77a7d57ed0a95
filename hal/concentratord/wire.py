"""Concentratord's ZeroMQ messages of both generations, without sockets (sans-IO).

Commands are built as lists of frames, replies and events are read from lists of frames:

=================  ===================================  =====================================
                   single-frame (>= 4.5.0)              multi-frame (< 4.5.0)
=================  ===================================  =====================================
event              [gw.Event]                           [b"up" | b"stats", message]
get gateway ID     [gw.Command{get_gateway_id}]         [b"gateway_id", b""]
  reply            [gw.GetGatewayIdResponse]            [8 raw bytes]
downlink           [gw.Command{send_downlink_frame}]    [b"down", gw.DownlinkFrame]
  reply            [gw.DownlinkTxAck]                   [gw.DownlinkTxAck]
configuration      [gw.Command{set_gateway_config..}]   [b"config", gw.GatewayConfiguration]
  reply            [b""]                                [b""]
=================  ===================================  =====================================

Concentratord answers a command it cannot read with one empty frame, in both generations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from chirpstack_api import gw

from appliance.lorawan.identifiers import EUI64
from hal.concentratord.options import WireProtocol
from hal.model import (
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConfiguration,
    GatewayStats,
    TxAckStatus,
    UplinkFrame,
)
from hal.proto import (
    ProtoConversionError,
    configuration_to_proto,
    downlink_to_proto,
    gateway_id_from_proto,
    parse_message,
    stats_from_proto,
    tx_ack_from_proto,
    uplink_from_proto,
)

Frames = list[bytes]
_T = TypeVar("_T")


class DropReason(StrEnum):
    """Why an event was not delivered (the keys of ``ConcentratordBackend.drop_counts``)."""

    UNDECODABLE = "undecodable"  # not a protobuf message of the expected type
    INVALID_UPLINK = "invalid_uplink"  # decodes, but does not fit the model (no modulation...)
    INVALID_STATS = "invalid_stats"
    UNSUPPORTED_EVENT = "unsupported_event"  # a known kind the appliance does not use (mesh)
    UNKNOWN_EVENT = "unknown_event"  # empty, or a kind newer than this code
    FRAME_COUNT = "frame_count"  # neither 1 nor 2 frames
    WRONG_PROTOCOL = "wrong_protocol"  # the other generation's framing, protocol not "auto"
    QUEUE_FULL = "queue_full"  # the consumer is behind by max_queue events
    INTERNAL_ERROR = "internal_error"  # a bug; logged with its traceback


@dataclass(frozen=True, slots=True)
class DroppedEvent:
    reason: DropReason
    detail: str = ""


EventResult = UplinkFrame | GatewayStats | DroppedEvent


def decode_event(frames: Sequence[bytes]) -> tuple[WireProtocol | None, EventResult]:
    """The event in a message and the generation its framing shows (None: neither)."""
    if len(frames) == 1:
        return WireProtocol.SINGLE_FRAME, _single_frame_event(frames[0])
    if len(frames) == 2:
        return WireProtocol.MULTI_FRAME, _multi_frame_event(frames[0], frames[1])
    return None, DroppedEvent(DropReason.FRAME_COUNT, f"{len(frames)} frames")


def _single_frame_event(payload: bytes) -> EventResult:
    try:
        event = parse_message(payload, gw.Event)
    except ProtoConversionError as error:
        return DroppedEvent(DropReason.UNDECODABLE, str(error))
    kind = event.WhichOneof("event")
    if kind == "uplink_frame":
        return _convert(uplink_from_proto, event.uplink_frame, DropReason.INVALID_UPLINK)
    if kind == "gateway_stats":
        return _convert(stats_from_proto, event.gateway_stats, DropReason.INVALID_STATS)
    if kind is None:
        return DroppedEvent(DropReason.UNKNOWN_EVENT, "no event set")
    return DroppedEvent(DropReason.UNSUPPORTED_EVENT, str(kind))


_Converter = Callable[[Any], UplinkFrame | GatewayStats]
# Event type frame -> (protobuf message, conversion, drop reason when it does not convert).
_MULTI_FRAME_EVENTS: dict[bytes, tuple[Any, _Converter, DropReason]] = {
    b"up": (gw.UplinkFrame, uplink_from_proto, DropReason.INVALID_UPLINK),
    b"stats": (gw.GatewayStats, stats_from_proto, DropReason.INVALID_STATS),
}


def _multi_frame_event(kind: bytes, payload: bytes) -> EventResult:
    if kind not in _MULTI_FRAME_EVENTS:
        return DroppedEvent(DropReason.UNKNOWN_EVENT, repr(kind[:32]))
    message_type, convert, invalid = _MULTI_FRAME_EVENTS[kind]
    try:
        message = parse_message(payload, message_type)
    except ProtoConversionError as error:
        return DroppedEvent(DropReason.UNDECODABLE, str(error))
    return _convert(convert, message, invalid)


def _convert(convert: Callable[[Any], _T], message: Any, invalid: DropReason) -> _T | DroppedEvent:
    try:
        return convert(message)
    except ProtoConversionError as error:
        return DroppedEvent(invalid, str(error))


def _command(protocol: WireProtocol, multi_frame_type: bytes, **command: Any) -> Frames:
    """``command`` is the one ``gw.Command`` field to set; the multi-frame generation sends
    its message after a type frame instead."""
    if protocol is WireProtocol.SINGLE_FRAME:
        return [gw.Command(**command).SerializeToString()]
    (message,) = command.values()
    return [multi_frame_type, message.SerializeToString()]


def gateway_id_command(protocol: WireProtocol) -> Frames:
    return _command(protocol, b"gateway_id", get_gateway_id=gw.GetGatewayIdRequest())


def gateway_id_from_reply(protocol: WireProtocol, reply: Sequence[bytes]) -> EUI64 | None:
    """The gateway ID, or None for an empty reply: Concentratord did not understand the
    command, so it speaks the other generation. Raises ``ProtoConversionError``."""
    payload = _one_frame(reply)
    if not payload:
        return None
    if protocol is WireProtocol.SINGLE_FRAME:
        response = parse_message(payload, gw.GetGatewayIdResponse)
        return gateway_id_from_proto(response.gateway_id)
    if len(payload) != 8:
        raise ProtoConversionError("gateway_id", f"expected 8 bytes, got {len(payload)}")
    return EUI64(payload)


def downlink_command(protocol: WireProtocol, frame: DownlinkFrame) -> Frames:
    """Raises ``ProtoConversionError`` when the frame does not fit the protobuf message."""
    return _command(protocol, b"down", send_downlink_frame=downlink_to_proto(frame))


def refused(frame: DownlinkFrame, status: TxAckStatus) -> DownlinkTxAck:
    """The acknowledgement of a downlink none of whose items was tried."""
    return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (status,) * len(frame.items))


def tx_ack_from_reply(reply: Sequence[bytes], frame: DownlinkFrame) -> DownlinkTxAck:
    """The acknowledgement Concentratord sent for ``frame``; raises ``ProtoConversionError``
    when it cannot be that (undecodable, or about another downlink)."""
    payload = _one_frame(reply)
    if not payload:  # Concentratord could not turn the downlink into a radio packet
        return refused(frame, TxAckStatus.INTERNAL_ERROR)
    ack = tx_ack_from_proto(parse_message(payload, gw.DownlinkTxAck))
    if ack.downlink_id != frame.downlink_id:
        raise ProtoConversionError(
            "downlink_id", f"acknowledges {ack.downlink_id}, not {frame.downlink_id}"
        )
    if len(ack.items) != len(frame.items):
        raise ProtoConversionError(
            "items", f"{len(ack.items)} statuses for {len(frame.items)} downlink items"
        )
    return ack


def configuration_command(protocol: WireProtocol, configuration: GatewayConfiguration) -> Frames:
    """Raises ``ProtoConversionError`` when the configuration does not fit the message."""
    message = configuration_to_proto(configuration)
    return _command(protocol, b"config", set_gateway_configuration=message)


def _one_frame(reply: Sequence[bytes]) -> bytes:
    if len(reply) != 1:
        raise ProtoConversionError("reply", f"expected one frame, got {len(reply)}")
    return reply[0]
