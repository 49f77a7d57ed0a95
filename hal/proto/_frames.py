"""UplinkFrame, DownlinkFrame and DownlinkTxAck <-> ``gw`` messages.

Only the current (ChirpStack v4) fields are read and written; the deprecated ``*_legacy`` fields
are ignored, as Concentratord 4, the MQTT Forwarder and the Gateway Bridge 4 no longer use them.
"""

from __future__ import annotations

from typing import Any

from chirpstack_api import gw

from appliance.lorawan.errors import InvalidValueError
from hal.model import (
    CRCStatus,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    DownlinkTxInfo,
    GPSEpoch,
    Immediately,
    Timing,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.proto._fields import (
    ProtoConversionError,
    duration_from_proto,
    enum_from_proto,
    float32_from_proto,
    float32_to_proto,
    gateway_id_from_proto,
    gateway_id_to_proto,
    location_from_proto,
    location_to_proto,
    modulation_from_proto,
    modulation_to_proto,
    required_duration,
    set_duration,
    set_timestamp,
    signed32,
    text_map_from_proto,
    text_map_to_proto,
    timestamp_from_proto,
    unsigned32,
)


def uplink_to_proto(frame: UplinkFrame) -> Any:
    """The ``gw.UplinkFrame`` for ``frame``."""
    message = gw.UplinkFrame()
    message.phy_payload = frame.phy_payload
    tx_info = message.tx_info
    tx_info.frequency = unsigned32(frame.tx_info.frequency, "tx_info.frequency")
    modulation_to_proto(frame.tx_info.modulation, tx_info.modulation, "tx_info.modulation")
    _rx_info_to_proto(frame.rx_info, message.rx_info)
    return message


def _rx_info_to_proto(info: UplinkRxInfo, rx: Any) -> None:
    rx.gateway_id = gateway_id_to_proto(info.gateway_id)
    rx.uplink_id = unsigned32(info.uplink_id, "rx_info.uplink_id")
    rx.rssi = signed32(info.rssi, "rx_info.rssi")
    rx.snr = float32_to_proto(info.snr, "rx_info.snr")
    rx.channel = unsigned32(info.channel, "rx_info.channel")
    rx.rf_chain = unsigned32(info.rf_chain, "rx_info.rf_chain")
    rx.board = unsigned32(info.board, "rx_info.board")
    rx.antenna = unsigned32(info.antenna, "rx_info.antenna")
    rx.context = info.context
    rx.crc_status = int(info.crc_status)
    if info.gw_time_ns is not None:
        set_timestamp(rx.gw_time, info.gw_time_ns, "rx_info.gw_time")
    if info.ns_time_ns is not None:
        set_timestamp(rx.ns_time, info.ns_time_ns, "rx_info.ns_time")
    if info.time_since_gps_epoch_ns is not None:
        set_duration(
            rx.time_since_gps_epoch, info.time_since_gps_epoch_ns, "rx_info.time_since_gps_epoch"
        )
    if info.fine_time_since_gps_epoch_ns is not None:
        set_duration(
            rx.fine_time_since_gps_epoch,
            info.fine_time_since_gps_epoch_ns,
            "rx_info.fine_time_since_gps_epoch",
        )
    if info.location is not None:
        location_to_proto(info.location, rx.location, "rx_info.location")
    text_map_to_proto(info.metadata, rx.metadata, "rx_info.metadata")
    rx.SetInParent()


def uplink_from_proto(message: Any) -> UplinkFrame:
    """The model of a ``gw.UplinkFrame``; raises ``ProtoConversionError`` naming the field."""
    for part in ("tx_info", "rx_info"):
        if not message.HasField(part):
            raise ProtoConversionError(part, "is missing")
    tx, rx = message.tx_info, message.rx_info
    tx_info = UplinkTxInfo(
        frequency=int(tx.frequency),
        modulation=modulation_from_proto(tx, "modulation", "tx_info.modulation"),
    )
    rx_info = UplinkRxInfo(
        gateway_id=gateway_id_from_proto(rx.gateway_id, "rx_info.gateway_id"),
        uplink_id=int(rx.uplink_id),
        rssi=int(rx.rssi),
        snr=float32_from_proto(rx.snr, "rx_info.snr"),
        channel=int(rx.channel),
        rf_chain=int(rx.rf_chain),
        board=int(rx.board),
        antenna=int(rx.antenna),
        context=bytes(rx.context),
        crc_status=enum_from_proto(CRCStatus, rx.crc_status, "rx_info.crc_status"),
        gw_time_ns=timestamp_from_proto(rx, "gw_time", "rx_info.gw_time"),
        ns_time_ns=timestamp_from_proto(rx, "ns_time", "rx_info.ns_time"),
        time_since_gps_epoch_ns=duration_from_proto(
            rx, "time_since_gps_epoch", "rx_info.time_since_gps_epoch"
        ),
        fine_time_since_gps_epoch_ns=duration_from_proto(
            rx, "fine_time_since_gps_epoch", "rx_info.fine_time_since_gps_epoch"
        ),
        location=location_from_proto(rx, "location", "rx_info.location"),
        metadata=text_map_from_proto(rx.metadata),
    )
    return UplinkFrame(phy_payload=bytes(message.phy_payload), tx_info=tx_info, rx_info=rx_info)


def downlink_to_proto(frame: DownlinkFrame) -> Any:
    """The ``gw.DownlinkFrame`` for ``frame``."""
    message = gw.DownlinkFrame()
    message.downlink_id = frame.downlink_id
    message.gateway_id = gateway_id_to_proto(frame.gateway_id)
    for index, item in enumerate(frame.items):
        target = message.items.add()
        target.phy_payload = item.phy_payload
        _tx_info_to_proto(item.tx_info, target.tx_info, f"items[{index}].tx_info")
    return message


def _tx_info_to_proto(info: DownlinkTxInfo, target: Any, field: str) -> None:
    target.frequency = unsigned32(info.frequency, f"{field}.frequency")
    target.power = signed32(info.power, f"{field}.power")
    modulation_to_proto(info.modulation, target.modulation, f"{field}.modulation")
    target.board = unsigned32(info.board, f"{field}.board")
    target.antenna = unsigned32(info.antenna, f"{field}.antenna")
    target.context = info.context
    timing = info.timing
    if isinstance(timing, Immediately):
        target.timing.immediately.SetInParent()
    elif isinstance(timing, Delay):
        set_duration(target.timing.delay.delay, timing.delay_ns, f"{field}.timing.delay.delay")
    else:
        set_duration(
            target.timing.gps_epoch.time_since_gps_epoch,
            timing.time_since_gps_epoch_ns,
            f"{field}.timing.gps_epoch.time_since_gps_epoch",
        )


def downlink_from_proto(message: Any) -> DownlinkFrame:
    """The model of a ``gw.DownlinkFrame``; raises ``ProtoConversionError`` naming the field."""
    gateway_id = gateway_id_from_proto(message.gateway_id)
    items = tuple(
        _item_from_proto(item, f"items[{index}]") for index, item in enumerate(message.items)
    )
    if not items:
        raise ProtoConversionError("items", "a downlink needs at least one item")
    return DownlinkFrame(downlink_id=int(message.downlink_id), gateway_id=gateway_id, items=items)


def _item_from_proto(item: Any, field: str) -> DownlinkItem:
    if not item.HasField("tx_info"):
        raise ProtoConversionError(f"{field}.tx_info", "is missing")
    info = item.tx_info
    tx_info = DownlinkTxInfo(
        frequency=int(info.frequency),
        power=int(info.power),
        modulation=modulation_from_proto(info, "modulation", f"{field}.tx_info.modulation"),
        timing=_timing_from_proto(info, f"{field}.tx_info.timing"),
        board=int(info.board),
        antenna=int(info.antenna),
        context=bytes(info.context),
    )
    return DownlinkItem(phy_payload=bytes(item.phy_payload), tx_info=tx_info)


def _timing_from_proto(info: Any, field: str) -> Timing:
    if not info.HasField("timing"):
        raise ProtoConversionError(field, "is missing")
    timing = info.timing
    kind = timing.WhichOneof("parameters")
    if kind == "immediately":
        return Immediately()
    if kind == "delay":
        delay_ns = required_duration(timing.delay, "delay", f"{field}.delay.delay")
        try:
            return Delay(delay_ns)
        except InvalidValueError as error:
            raise ProtoConversionError(f"{field}.delay.delay", str(error)) from None
    if kind == "gps_epoch":
        path = f"{field}.gps_epoch.time_since_gps_epoch"
        return GPSEpoch(required_duration(timing.gps_epoch, "time_since_gps_epoch", path))
    raise ProtoConversionError(field, "none of immediately, delay, gps_epoch is set")


def tx_ack_to_proto(ack: DownlinkTxAck) -> Any:
    """The ``gw.DownlinkTxAck`` for ``ack``."""
    message = gw.DownlinkTxAck()
    message.gateway_id = gateway_id_to_proto(ack.gateway_id)
    message.downlink_id = unsigned32(ack.downlink_id, "downlink_id")
    for status in ack.items:
        message.items.add().status = int(status)
    return message


def tx_ack_from_proto(message: Any) -> DownlinkTxAck:
    """The model of a ``gw.DownlinkTxAck``; raises ``ProtoConversionError`` naming the field."""
    return DownlinkTxAck(
        gateway_id=gateway_id_from_proto(message.gateway_id),
        downlink_id=int(message.downlink_id),
        items=tuple(
            enum_from_proto(TxAckStatus, item.status, f"items[{index}].status")
            for index, item in enumerate(message.items)
        ),
    )
