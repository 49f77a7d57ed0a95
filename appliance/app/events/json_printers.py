"""Printers written out for the messages every uplink carries (``gw.UplinkRxInfo``,
``common.Location``), giving exactly the text of ``json_mapping``'s generic printer.

The generic printer walks a field plan, one closure call and one ``getattr`` per field; for a
reception that is most of the cost of an ``up`` event's JSON. These read the same fields in
the same order and apply the same rules (``gw`` and ``common`` leave zero, empty and false out;
fields with presence print when set), straight to text. The tests compare both over generated
messages, so a change to the rules must be made in both.
"""

from __future__ import annotations

import binascii
import json
import math
from typing import Any

from chirpstack_api import common, gw

from appliance.app.events.json_mapping import duration_text, float32_json, timestamp_text

# What json.dumps(..., ensure_ascii=False) writes for a str, quotes included (C-accelerated).
quote = json.encoder.encode_basestring

_CRC_STATUS: dict[int, str] = {number: name for name, number in gw.CRCStatus.items()}
_LOCATION_SOURCE: dict[int, str] = {number: name for name, number in common.LocationSource.items()}


def base64_text(data: bytes) -> str:
    """Standard base64 with padding, as the generic printer writes bytes."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def double_json(value: float) -> str:
    """A ``double`` field's value as the generic printer writes it."""
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return '"NaN"'
    return '"Infinity"' if value > 0 else '"-Infinity"'


def _enum_json(names: dict[int, str], number: int) -> str:
    name = names.get(number)
    return str(number) if name is None else f'"{name}"'


def location_json(location: Any) -> str:
    """A ``common.Location`` message as JSON text."""
    parts = []
    if location.latitude:
        parts.append('"latitude":' + double_json(location.latitude))
    if location.longitude:
        parts.append('"longitude":' + double_json(location.longitude))
    if location.altitude:
        parts.append('"altitude":' + double_json(location.altitude))
    if location.source:
        parts.append('"source":' + _enum_json(_LOCATION_SOURCE, location.source))
    if location.accuracy:
        parts.append('"accuracy":' + float32_json(location.accuracy))
    return "{" + ",".join(parts) + "}"


def _stamp(message: Any) -> str:
    return '"' + timestamp_text(message.seconds, message.nanos) + '"'


def _duration(message: Any) -> str:
    return '"' + duration_text(message.seconds, message.nanos) + '"'


def rx_info_json(rx: Any) -> str:
    """A ``gw.UplinkRxInfo`` message as JSON text."""
    parts = []
    if rx.gateway_id:
        parts.append('"gatewayId":' + quote(rx.gateway_id))
    if rx.uplink_id:
        parts.append(f'"uplinkId":{rx.uplink_id}')
    has = rx.HasField
    if has("gw_time"):
        parts.append('"gwTime":' + _stamp(rx.gw_time))
    if has("ns_time"):
        parts.append('"nsTime":' + _stamp(rx.ns_time))
    if has("time_since_gps_epoch"):
        parts.append('"timeSinceGpsEpoch":' + _duration(rx.time_since_gps_epoch))
    if has("fine_time_since_gps_epoch"):
        parts.append('"fineTimeSinceGpsEpoch":' + _duration(rx.fine_time_since_gps_epoch))
    if rx.rssi:
        parts.append(f'"rssi":{rx.rssi}')
    if rx.snr:
        parts.append('"snr":' + float32_json(rx.snr))
    if rx.channel:
        parts.append(f'"channel":{rx.channel}')
    if rx.rf_chain:
        parts.append(f'"rfChain":{rx.rf_chain}')
    if rx.board:
        parts.append(f'"board":{rx.board}')
    if rx.antenna:
        parts.append(f'"antenna":{rx.antenna}')
    if has("location"):
        parts.append('"location":' + location_json(rx.location))
    if rx.context:
        parts.append('"context":"' + base64_text(rx.context) + '"')
    metadata = rx.metadata
    if metadata:
        entries = ",".join(quote(key) + ":" + quote(metadata[key]) for key in metadata)
        parts.append('"metadata":{' + entries + "}")
    if rx.crc_status:
        parts.append('"crcStatus":' + _enum_json(_CRC_STATUS, rx.crc_status))
    return "{" + ",".join(parts) + "}"


_NS = 1_000_000_000
_GATEWAY_PARTS: dict[str, str] = {}  # gateway id -> its '"gatewayId":...' text
_GATEWAY_PARTS_MAX = 4_096


def reception_json(rx: Any, message: Any) -> str:
    """``rx_info_json(message)`` for ``message``, the ``gw.UplinkRxInfo`` made of the hal
    reception ``rx`` (``uplink_records.rx_message``): the same text, with the times read from
    ``rx`` (no presence checks, no sub-message reads) and the gateway's part made once.
    Receptions with GPS times, a location or more than one metadata entry (whose order is the
    map's) take the message's printer."""
    if (
        rx.time_since_gps_epoch_ns is not None
        or rx.fine_time_since_gps_epoch_ns is not None
        or rx.location is not None
        or len(rx.metadata) > 1
    ):
        return rx_info_json(message)
    gateway_id = message.gateway_id
    head = _GATEWAY_PARTS.get(gateway_id)
    if head is None:
        head = '"gatewayId":' + quote(gateway_id) if gateway_id else ""
        if len(_GATEWAY_PARTS) >= _GATEWAY_PARTS_MAX:
            _GATEWAY_PARTS.clear()
        _GATEWAY_PARTS[gateway_id] = head
    parts = [head] if head else []
    if message.uplink_id:
        parts.append(f'"uplinkId":{message.uplink_id}')
    if rx.gw_time_ns is not None:
        parts.append('"gwTime":"' + timestamp_text(*divmod(rx.gw_time_ns, _NS)) + '"')
    if rx.ns_time_ns is not None:
        parts.append('"nsTime":"' + timestamp_text(*divmod(rx.ns_time_ns, _NS)) + '"')
    if message.rssi:
        parts.append(f'"rssi":{message.rssi}')
    snr = message.snr
    if snr:
        parts.append('"snr":' + float32_json(snr))
    if message.channel:
        parts.append(f'"channel":{message.channel}')
    if message.rf_chain:
        parts.append(f'"rfChain":{message.rf_chain}')
    if message.board:
        parts.append(f'"board":{message.board}')
    if message.antenna:
        parts.append(f'"antenna":{message.antenna}')
    context = message.context
    if context:
        parts.append('"context":"' + base64_text(context) + '"')
    for key, value in rx.metadata.items():  # one at most
        parts.append('"metadata":{' + quote(key) + ":" + quote(value) + "}")
    crc_status = message.crc_status
    if crc_status:
        parts.append('"crcStatus":' + _enum_json(_CRC_STATUS, crc_status))
    return "{" + ",".join(parts) + "}"
