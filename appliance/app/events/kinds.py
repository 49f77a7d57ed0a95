"""The names of what the application server emits: ChirpStack's seven event types (the last
part of the MQTT topic, the HTTP integration's ``?event=``) and the two frame-log directions."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chirpstack_api import integration, stream


class EventKind(StrEnum):
    UP = "up"
    JOIN = "join"
    ACK = "ack"
    TXACK = "txack"
    LOG = "log"
    STATUS = "status"
    LOCATION = "location"


class FrameKind(StrEnum):
    """Frame-log entries; named apart from the events so one filter can mix both."""

    UPLINK = "uplink_frame"
    DOWNLINK = "downlink_frame"


EVENT_MESSAGES: dict[EventKind, Any] = {
    EventKind.UP: integration.UplinkEvent,
    EventKind.JOIN: integration.JoinEvent,
    EventKind.ACK: integration.AckEvent,
    EventKind.TXACK: integration.TxAckEvent,
    EventKind.LOG: integration.LogEvent,
    EventKind.STATUS: integration.StatusEvent,
    EventKind.LOCATION: integration.LocationEvent,
}

FRAME_MESSAGES: dict[FrameKind, Any] = {
    FrameKind.UPLINK: stream.UplinkFrameLog,
    FrameKind.DOWNLINK: stream.DownlinkFrameLog,
}

_KIND_OF_MESSAGE: dict[str, EventKind] = {
    message_type.DESCRIPTOR.full_name: kind for kind, message_type in EVENT_MESSAGES.items()
}


def event_kind_of(message: Any) -> EventKind:
    """The kind of an ``integration.*Event`` message; ``TypeError`` for anything else."""
    kind = _KIND_OF_MESSAGE.get(message.DESCRIPTOR.full_name)
    if kind is None:
        raise TypeError(f"{message.DESCRIPTOR.full_name} is not a ChirpStack integration event")
    return kind
