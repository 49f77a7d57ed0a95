"""Pure builders of ChirpStack v4 integration events (``chirpstack_api.integration``).

Each takes what the network server reported plus the context it cannot know: the device's
``DeviceInfo``, the wall-clock ``time``, the ``deduplication_id`` the caller chose for the
uplink (the same for every event that uplink causes), the decoded object, the region. Nothing
here reads a clock, a database or a random source.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import IntEnum
from typing import Any

from chirpstack_api import integration

from appliance.app.events.device_info import DeviceInfo, device_info_to_proto
from appliance.app.events.proto_fields import (
    positive_zeros,
    set_downlink_tx_info,
    set_object,
    set_receptions,
    set_time,
)
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import FrameError
from appliance.lorawan.frames import DataFrame
from appliance.lorawan.identifiers import DevAddr
from appliance.ns.events import JoinEvent, TxAckEvent
from appliance.ns.mac.events import DeviceStatus
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from hal.model import DownlinkTxInfo, Location

BATTERY_UNAVAILABLE = 255  # DevStatusAns: the device cannot measure its battery


class LogLevel(IntEnum):
    """Values match ``integration.LogLevel``."""

    INFO = 0
    WARNING = 1
    ERROR = 2


class LogCode(IntEnum):
    """Values match ``integration.LogCode``."""

    UNKNOWN = 0
    DOWNLINK_PAYLOAD_SIZE = 1
    UPLINK_CODEC = 2
    DOWNLINK_CODEC = 3
    OTAA = 4
    UPLINK_F_CNT_RESET = 5
    UPLINK_MIC = 6
    UPLINK_F_CNT_RETRANSMISSION = 7
    DOWNLINK_GATEWAY = 8
    RELAY_NEW_END_DEVICE = 9
    F_CNT_DOWN = 10
    EXPIRED = 11


def _common(message: Any, device: DeviceInfo, time: datetime) -> Any:
    set_time(message.time, time)
    device_info_to_proto(device, message.device_info)
    return message


def dev_addr_of(phy_payload: bytes) -> DevAddr | None:
    """The DevAddr of a data frame, None for anything else or bytes that do not decode."""
    try:
        frame = decode_phy_payload(phy_payload)
    except FrameError:
        return None
    return frame.dev_addr if isinstance(frame, DataFrame) else None


def uplink_event(
    event: UplinkEvent,
    device: DeviceInfo,
    *,
    time: datetime,
    deduplication_id: uuid.UUID,
    region_config_id: str,
    decoded: Mapping[str, Any] | None = None,
) -> Any:
    """The ``up`` event; ``decoded`` is the codec's object (None: no codec or it failed)."""
    message = _common(integration.UplinkEvent(), device, time)
    message.deduplication_id = str(deduplication_id)
    dev_addr = dev_addr_of(event.uplink.phy_payload)
    message.dev_addr = "" if dev_addr is None else str(dev_addr)
    message.adr = event.adr
    message.dr = event.dr
    message.f_cnt = event.f_cnt
    message.f_port = event.f_port or 0
    message.confirmed = event.confirmed
    message.data = event.data
    if decoded is not None:
        set_object(message.object, decoded)
    uplink = event.uplink
    set_receptions(message, uplink.phy_payload, uplink.tx_info, uplink.rx_info)
    message.region_config_id = region_config_id
    return message


def join_event(
    event: JoinEvent,
    device: DeviceInfo,
    *,
    time: datetime,
    deduplication_id: uuid.UUID,
    region_config_id: str,
) -> Any:
    message = _common(integration.JoinEvent(), device, time)
    message.deduplication_id = str(deduplication_id)
    message.dev_addr = str(event.dev_addr)
    message.region_config_id = region_config_id
    return message


def ack_event(
    event: AckEvent,
    device: DeviceInfo,
    *,
    time: datetime,
    deduplication_id: uuid.UUID,
    queue_item_id: uuid.UUID | None = None,
) -> Any:
    """The ``ack`` event: the uplink after a confirmed downlink did (not) acknowledge it."""
    message = _common(integration.AckEvent(), device, time)
    message.deduplication_id = str(deduplication_id)
    message.queue_item_id = "" if queue_item_id is None else str(queue_item_id)
    message.acknowledged = event.acknowledged
    message.f_cnt_down = event.f_cnt_down
    return message


def tx_ack_event(
    event: TxAckEvent,
    device: DeviceInfo,
    *,
    time: datetime,
    tx_info: DownlinkTxInfo | None,
    queue_item_id: uuid.UUID | None = None,
) -> Any:
    """The ``txack`` event: a gateway accepted the downlink; ``tx_info`` is the item it sent."""
    message = _common(integration.TxAckEvent(), device, time)
    message.downlink_id = event.downlink_id
    message.queue_item_id = "" if queue_item_id is None else str(queue_item_id)
    message.f_cnt_down = event.f_cnt_down
    message.gateway_id = str(event.gateway_id)
    if tx_info is not None:
        set_downlink_tx_info(message.tx_info, tx_info, event.gateway_id)
    return message


def log_event(
    device: DeviceInfo,
    *,
    time: datetime,
    level: LogLevel,
    code: LogCode,
    description: str,
    context: Mapping[str, str] | None = None,
) -> Any:
    message = _common(integration.LogEvent(), device, time)
    message.level = int(level)
    message.code = int(code)
    message.description = description
    if context:
        message.context.update(context)
    return message


def status_event(
    status: DeviceStatus, device: DeviceInfo, *, time: datetime, deduplication_id: uuid.UUID
) -> Any:
    """The ``status`` event from a DevStatusAns: margin (dB) and battery level (percent)."""
    message = _common(integration.StatusEvent(), device, time)
    message.deduplication_id = str(deduplication_id)
    message.margin = status.margin
    message.external_power_source = status.external_power
    message.battery_level_unavailable = status.battery == BATTERY_UNAVAILABLE
    if status.battery_level_percent is not None:
        message.battery_level = status.battery_level_percent
    return message


def location_event(
    location: Location, device: DeviceInfo, *, time: datetime, deduplication_id: uuid.UUID
) -> Any:
    """The ``location`` event (a geolocation or a position the device's codec reported)."""
    message = _common(integration.LocationEvent(), device, time)
    message.deduplication_id = str(deduplication_id)
    target = message.location
    target.latitude = location.latitude
    target.longitude = location.longitude
    target.altitude = location.altitude
    target.source = int(location.source)
    target.accuracy = location.accuracy
    positive_zeros(target, "latitude", "longitude", "altitude", "accuracy")
    target.SetInParent()
    return message
