"""From the network server's events to ChirpStack application events.

``application_events(event, device, context)`` is the one entry point: it picks the builder,
maps the network server's log codes onto ChirpStack's ``LogCode``, and returns the records to
log and stream (none, or one). What ChirpStack does, and so what this does:

- an uplink with an FPort > 0 is ``up``; a join-accept sent is ``join``;
- ``ack`` reports whether the device acknowledged a confirmed downlink;
- ``txack`` when a gateway accepted a downlink carrying an application payload (the caller
  names its ``queue_item_id``); join-accepts and MAC-only downlinks produce none. A refusal
  of every item is a ``log`` event (ERROR, ``DOWNLINK_GATEWAY``, the status as description)
  whatever the downlink carried (ChirpStack leaves out join-accepts, which the network
  server's event does not distinguish);
- a DevStatusAns is ``status``; MAC-command problems and a device class change are ``log``;
  requests the device merely acknowledged produce nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appliance.app.events import build
from appliance.app.events.build import LogCode, LogLevel
from appliance.app.events.device_info import DeviceInfo
from appliance.app.events.records import EventRecord
from appliance.ns.events import DeviceMACEvent, JoinEvent, LogEvent, NSEvent, TxAckEvent
from appliance.ns.mac.events import DeviceClassChanged, DeviceStatus, MACLog
from appliance.ns.mac.events import LogLevel as MACLogLevel
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from hal.model import DownlinkTxInfo, TxAckStatus


@dataclass(frozen=True, slots=True)
class EventContext:
    """What the network server's event does not carry. ``deduplication_id``: one per
    de-duplicated uplink, reused for the ``up``, ``ack``, ``status`` and ``log`` it causes."""

    time: datetime
    deduplication_id: uuid.UUID
    region_config_id: str
    decoded: Mapping[str, Any] | None = None  # the codec's object for ``up``
    # The queue item an ``ack``/``txack`` is about; a ``txack`` is only sent with one.
    queue_item_id: uuid.UUID | None = None
    downlink_tx_info: DownlinkTxInfo | None = None  # the item a gateway sent, for ``txack``
    log_context: Mapping[str, str] = field(default_factory=dict)  # added to ``log`` events


# The network server's reasons (validation.Rejection, join.JoinRejection, rejoin.
# RejoinRejection, the pipeline's own) as ChirpStack's codes; the reason itself goes into
# the event's context, so nothing is lost when the code is UNKNOWN.
_NS_LOG_CODES: dict[str, LogCode] = {
    "mic_failed": LogCode.UPLINK_MIC,
    "f_cnt_replay": LogCode.UPLINK_F_CNT_RETRANSMISSION,
    "payload_too_large": LogCode.DOWNLINK_PAYLOAD_SIZE,
    "device_disabled": LogCode.OTAA,
    "otaa_not_supported": LogCode.OTAA,
    "no_root_keys": LogCode.OTAA,
    "join_mic_failed": LogCode.OTAA,
    "dev_nonce_reused": LogCode.OTAA,
    "dev_nonce_not_increasing": LogCode.OTAA,
    "rejoin_without_session": LogCode.OTAA,
    "rejoin_not_lorawan_1_1": LogCode.OTAA,
    "rejoin_mic_failed": LogCode.OTAA,
    "rejoin_wrong_net_id": LogCode.OTAA,
    "rejoin_count_not_increasing": LogCode.OTAA,
    "rejoin_wrong_join_eui": LogCode.OTAA,
}

_LEVELS = {"info": LogLevel.INFO, "warning": LogLevel.WARNING, "error": LogLevel.ERROR}
_MAC_LEVELS = {
    MACLogLevel.INFO: LogLevel.INFO,
    MACLogLevel.WARNING: LogLevel.WARNING,
    MACLogLevel.ERROR: LogLevel.ERROR,
}


def log_code_of(ns_code: str) -> LogCode:
    return _NS_LOG_CODES.get(ns_code, LogCode.UNKNOWN)


def application_events(
    event: NSEvent, device: DeviceInfo, context: EventContext
) -> list[EventRecord]:
    """The application events for one network-server event (see the module docstring)."""
    if isinstance(event, UplinkEvent):
        if not event.f_port:
            return []
        message = build.uplink_event(
            event,
            device,
            time=context.time,
            deduplication_id=context.deduplication_id,
            region_config_id=context.region_config_id,
            decoded=context.decoded,
        )
        return [EventRecord(message)]
    if isinstance(event, JoinEvent):
        message = build.join_event(
            event,
            device,
            time=context.time,
            deduplication_id=context.deduplication_id,
            region_config_id=context.region_config_id,
        )
        gateways = (rx.gateway_id for rx in event.uplink.rx_info)
        return [EventRecord(message, gateway_ids=dict.fromkeys(gateways))]
    if isinstance(event, AckEvent):
        message = build.ack_event(
            event,
            device,
            time=context.time,
            deduplication_id=context.deduplication_id,
            queue_item_id=context.queue_item_id,
        )
        return [EventRecord(message)]
    if isinstance(event, TxAckEvent):
        return _tx_ack(event, device, context)
    if isinstance(event, LogEvent):
        message = _log(
            device,
            context,
            level=_LEVELS.get(event.level, LogLevel.WARNING),
            code=log_code_of(event.code),
            description=event.message,
            extra={"reason": event.code},
        )
        return [EventRecord(message)]
    return _mac(event, device, context)


def _tx_ack(event: TxAckEvent, device: DeviceInfo, context: EventContext) -> list[EventRecord]:
    if event.status is TxAckStatus.OK:
        if context.queue_item_id is None:
            return []
        message = build.tx_ack_event(
            event,
            device,
            time=context.time,
            tx_info=context.downlink_tx_info,
            queue_item_id=context.queue_item_id,
        )
        return [EventRecord(message)]
    message = _log(
        device,
        context,
        level=LogLevel.ERROR,
        code=LogCode.DOWNLINK_GATEWAY,
        description=event.status.name,
        extra={"downlink_id": str(event.downlink_id), "gateway_id": str(event.gateway_id)},
    )
    return [EventRecord(message, gateway_ids=(event.gateway_id,))]


def _mac(event: DeviceMACEvent, device: DeviceInfo, context: EventContext) -> list[EventRecord]:
    mac_event = event.event
    if isinstance(mac_event, DeviceStatus):
        message = build.status_event(
            mac_event, device, time=context.time, deduplication_id=context.deduplication_id
        )
        return [EventRecord(message)]
    if isinstance(mac_event, MACLog):
        extra = {"reason": mac_event.code.value}
        if mac_event.cid is not None:
            extra["cid"] = f"0x{mac_event.cid:02x}"
        message = _log(
            device,
            context,
            level=_MAC_LEVELS[mac_event.level],
            code=LogCode.UNKNOWN,
            description=mac_event.message,
            extra=extra,
        )
        return [EventRecord(message)]
    if isinstance(mac_event, DeviceClassChanged):
        message = _log(
            device,
            context,
            level=LogLevel.INFO,
            code=LogCode.UNKNOWN,
            description=f"the device switched to Class {mac_event.device_class}",
            extra={"reason": "device_class_changed", "device_class": mac_event.device_class},
        )
        return [EventRecord(message)]
    # RequestAcknowledged: the session holds the outcome; ChirpStack reports nothing either.
    return []


def _log(
    device: DeviceInfo,
    context: EventContext,
    *,
    level: LogLevel,
    code: LogCode,
    description: str,
    extra: Mapping[str, str],
) -> Any:
    return build.log_event(
        device,
        time=context.time,
        level=level,
        code=code,
        description=description,
        context={"deduplication_id": str(context.deduplication_id), **extra, **context.log_context},
    )
