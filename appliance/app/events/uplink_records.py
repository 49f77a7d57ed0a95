"""The records every uplink costs, made cheaply: its ``up`` event (``up_record``) and the
frame log of each reception (``uplink_frame_record``).

They give what the generic path gives (``build.uplink_event`` then ``EventRecord`` and
``message_to_json``; ``frames.uplink_frame_log``): the same message, the same keys, the same
JSON text, which the tests check over generated inputs. What makes them cheaper:

- each message is constructed in one call with keyword arguments rather than field by field,
  and nothing goes through an intermediate ``gw.UplinkFrame``;
- what many uplinks share is made once: a device's ``deviceInfo`` (``DeviceBlock``, kept by
  the caller), a channel's ``txInfo`` (cached here by its value), message and JSON text both;
- the ``up`` event's JSON is written straight from the message (``json_printers``), not
  through the generic printer's field plan;
- the record's keys come from the model instead of being parsed back out of the message, and
  the DevAddr from the PHYPayload's header by the decoder's own rules (no full decode);
- deduplication IDs are random UUIDs (version 4, as ``uuid.uuid4``) formatted from a pool of
  ``os.urandom`` bytes, one system call per 256 of them.

Anything unusual (a time without a time zone, a value a field cannot hold, a join or rejoin
request, which names its DevEUI) goes the generic way, which then builds the same result or
raises the same error.
"""

from __future__ import annotations

import json
import math
import os
import struct
import uuid
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chirpstack_api import common, gw, integration, stream

from appliance.app.events import build
from appliance.app.events.device_info import DeviceBlock
from appliance.app.events.frames import uplink_frame_log
from appliance.app.events.json_mapping import message_to_dict, message_to_json, timestamp_text
from appliance.app.events.json_printers import base64_text, quote, reception_json
from appliance.app.events.kinds import EventKind, FrameKind
from appliance.app.events.proto_fields import set_object, set_receptions
from appliance.app.events.records import EventRecord, FrameRecord
from appliance.lorawan.identifiers import EUI64, DevAddr
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import UplinkFrame, UplinkRxInfo, UplinkTxInfo

_NS = 1_000_000_000
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# The ranges hal.proto's conversion accepts (google.protobuf.Timestamp and Duration).
_TIMESTAMP_MIN_S, _TIMESTAMP_MAX_S = -62_135_596_800, 253_402_300_799
_DURATION_MAX_S = 315_576_000_000
_FLOAT32 = struct.Struct("<f")
_NAMES_DEV_EUI = frozenset({0, 6})  # join and rejoin requests: their frame log names a DevEUI

_UplinkEvent: Any = integration.UplinkEvent
_UplinkFrameLog: Any = stream.UplinkFrameLog
_RxInfo: Any = gw.UplinkRxInfo
_Location: Any = common.Location


class _UnusualError(Exception):
    """Not for the fast path: the generic builders take it (and say what is wrong, if so)."""


# --- deduplication IDs -----------------------------------------------------------------------

_VARIANT = "89ab" * 4  # RFC 4122 variant: the top two bits of byte 8 are 10


class DeduplicationIds:
    """Random version-4 UUIDs as text, as ``str(uuid.uuid4())`` gives them."""

    _POOL = 4_096

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0
        _ID_SOURCES.add(self)

    def forget(self) -> None:
        """Draw new random bytes for the next ID (a forked child must not repeat ours)."""
        self._pool, self._at = b"", 0

    def __call__(self) -> str:
        at = self._at
        if at >= len(self._pool):
            self._pool, at = os.urandom(self._POOL), 0
        self._at = at + 16
        raw = self._pool[at : at + 16]
        digits = raw.hex()
        return (
            f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-"
            f"{_VARIANT[raw[8] >> 4]}{digits[17:20]}-{digits[20:]}"
        )


_ID_SOURCES: weakref.WeakSet[DeduplicationIds] = weakref.WeakSet()


def _forget_ids_after_fork() -> None:
    for source in list(_ID_SOURCES):
        source.forget()


os.register_at_fork(after_in_child=_forget_ids_after_fork)


# --- shared parts ----------------------------------------------------------------------------


def data_frame_dev_addr(phy_payload: bytes) -> DevAddr | None:
    """The DevAddr of a data frame, None for anything else: what ``build.dev_addr_of`` gives,
    from the header alone (``appliance.lorawan.codec``'s checks of a data frame)."""
    size = len(phy_payload)
    if size < 12:  # MHDR + FHDR without FOpts + MIC
        return None
    mhdr = phy_payload[0]
    if mhdr & 0x03 or not 2 <= mhdr >> 5 <= 5:  # LoRaWAN R1, one of the four data types
        return None
    f_opts_end = 8 + (phy_payload[5] & 0x0F)
    payload_end = size - 4
    if f_opts_end > payload_end:
        return None
    if f_opts_end < payload_end and f_opts_end > 8 and phy_payload[f_opts_end] == 0:
        return None  # FPort 0 with FOpts: refused by the decoder
    return DevAddr.from_wire(phy_payload[1:5])


_TX_PARTS: dict[UplinkTxInfo, tuple[Any, str]] = {}
_TX_PARTS_MAX = 1_024  # channels x data rates of any region, several times over
_NO_RECEPTION = UplinkRxInfo(EUI64(0))


def tx_parts(tx_info: UplinkTxInfo) -> tuple[Any, str]:
    """The ``gw.UplinkTxInfo`` of ``tx_info`` and its JSON text, made once per value."""
    parts = _TX_PARTS.get(tx_info)
    if parts is None:
        holder = _UplinkFrameLog()
        set_receptions(holder, b"", tx_info, (_NO_RECEPTION,))  # the generic conversion
        parts = (holder.tx_info, message_to_json(holder.tx_info))
        if len(_TX_PARTS) >= _TX_PARTS_MAX:
            _TX_PARTS.clear()
        _TX_PARTS[tx_info] = parts
    return parts


def _time_of(value: datetime) -> tuple[int, int]:
    """Seconds and nanoseconds of a UTC time, as ``proto_fields.set_time`` stores them."""
    offset = value.utcoffset()
    if offset is None or offset:  # other zones: the generic way (and its error for none)
        raise _UnusualError
    micros = (value - _UNIX_EPOCH) // _MICROSECOND
    seconds, micro = divmod(micros, 1_000_000)
    return seconds, micro * 1_000


def _set_stamp(target: Any, time_ns: int) -> None:
    seconds, nanos = divmod(time_ns, _NS)
    if not _TIMESTAMP_MIN_S <= seconds <= _TIMESTAMP_MAX_S:
        raise _UnusualError
    target.seconds = seconds
    target.nanos = nanos
    if not seconds and not nanos:
        target.SetInParent()  # a zero time is still a time


def _set_duration(target: Any, duration_ns: int) -> None:
    seconds = abs(duration_ns) // _NS * (1 if duration_ns >= 0 else -1)
    if abs(seconds) > _DURATION_MAX_S:
        raise _UnusualError
    target.seconds = seconds
    target.nanos = duration_ns - seconds * _NS
    target.SetInParent()


def _float32(value: float) -> float:
    rounded: float = _FLOAT32.unpack(_FLOAT32.pack(value))[0]  # OverflowError: too large
    if not math.isfinite(rounded):
        raise _UnusualError
    return rounded or 0.0  # -0.0 prints as 0.0 would: not at all (``positive_zeros``)


def _finite(value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise _UnusualError
    return number or 0.0


def rx_message(rx: UplinkRxInfo) -> Any:
    """The ``gw.UplinkRxInfo`` that ``proto_fields.set_receptions`` makes of a reception.
    Raises ``_UnusualError``, ``ValueError``, ``TypeError`` or ``OverflowError`` for what it
    leaves to the generic conversion."""
    message = _RxInfo(
        gateway_id=str(rx.gateway_id),
        uplink_id=rx.uplink_id,
        rssi=rx.rssi,
        snr=_float32(rx.snr),
        channel=rx.channel,
        rf_chain=rx.rf_chain,
        board=rx.board,
        antenna=rx.antenna,
        context=rx.context,
        crc_status=int(rx.crc_status),
    )
    if rx.metadata:
        message.metadata.update(rx.metadata)
    if rx.gw_time_ns is not None:
        _set_stamp(message.gw_time, rx.gw_time_ns)
    if rx.ns_time_ns is not None:
        _set_stamp(message.ns_time, rx.ns_time_ns)
    if rx.time_since_gps_epoch_ns is not None:
        _set_duration(message.time_since_gps_epoch, rx.time_since_gps_epoch_ns)
    if rx.fine_time_since_gps_epoch_ns is not None:
        _set_duration(message.fine_time_since_gps_epoch, rx.fine_time_since_gps_epoch_ns)
    location = rx.location
    if location is not None:
        message.location.CopyFrom(
            _Location(
                latitude=_finite(location.latitude),
                longitude=_finite(location.longitude),
                altitude=_finite(location.altitude),
                source=int(location.source),
                accuracy=_float32(location.accuracy),
            )
        )
    return message


_FAST_PATH_MISSES = (_UnusualError, ValueError, TypeError, OverflowError)


class Receptions:
    """The ``gw.UplinkRxInfo`` of each recent reception, made once for its frame log and its
    uplink's ``up`` event: the network server hands the very same (immutable) ``UplinkRxInfo``
    to both, a de-duplication window apart. Keyed by identity, holding the reception so its
    identity cannot be reused meanwhile; an entry goes when the event takes it, or when
    ``limit`` newer ones came (receptions of no uplink: CRC errors, frames of no device)."""

    def __init__(self, limit: int = 4_096) -> None:
        self.limit = limit
        self._recent: dict[int, tuple[UplinkRxInfo, Any]] = {}

    def __len__(self) -> int:
        return len(self._recent)

    def made(self, rx: UplinkRxInfo) -> Any:
        """The message of ``rx``, kept for its event."""
        message = rx_message(rx)
        recent = self._recent
        if len(recent) >= self.limit:
            del recent[next(iter(recent))]  # the oldest
        recent[id(rx)] = (rx, message)
        return message

    def take(self, rx: UplinkRxInfo) -> Any:
        """The message of ``rx``: the one its frame log made, else a new one."""
        kept = self._recent.pop(id(rx), None)
        if kept is not None and kept[0] is rx:
            return kept[1]
        return rx_message(rx)


# --- the up event ----------------------------------------------------------------------------


def up_record(
    event: UplinkEvent,
    device: DeviceBlock,
    *,
    time: datetime,
    deduplication_id: str,
    region_config_id: str,
    decoded: Mapping[str, Any] | None = None,
    receptions: Receptions | None = None,
) -> EventRecord:
    """The ``up`` record of an uplink with an FPort (``application_events`` gives none
    without), its JSON text written. ``receptions``: where the frame logs left the
    receptions' messages."""
    uplink = event.uplink
    rx_info = uplink.rx_info
    fields: dict[str, Any] = {}
    tx_json = ""
    try:
        seconds, nanos = _time_of(time)
        if receptions is None:
            rx_messages = [rx_message(rx) for rx in rx_info]
        else:
            rx_messages = [receptions.take(rx) for rx in rx_info]
        if rx_info:  # the first reception's txInfo (so none without one)
            fields["tx_info"], tx_json = tx_parts(uplink.tx_info)
        dev_addr = data_frame_dev_addr(uplink.phy_payload)
        message = _UplinkEvent(
            deduplication_id=deduplication_id,
            device_info=device.message,
            dev_addr="" if dev_addr is None else str(dev_addr),
            adr=event.adr,
            dr=event.dr,
            f_cnt=event.f_cnt,
            f_port=event.f_port or 0,
            confirmed=event.confirmed,
            data=event.data,
            rx_info=rx_messages,
            region_config_id=region_config_id,
            **fields,
        )
    except _FAST_PATH_MISSES:
        return _generic_up(
            event,
            device,
            time=time,
            deduplication_id=deduplication_id,
            region_config_id=region_config_id,
            decoded=decoded,
        )
    stamp = message.time
    stamp.seconds = seconds
    stamp.nanos = nanos
    stamp.SetInParent()
    object_json = None if decoded is None else _set_object(message, decoded)
    parts = [
        '{"deduplicationId":',
        quote(message.deduplication_id),
        ',"time":"',
        timestamp_text(seconds, nanos),
        '","deviceInfo":',
        device.json,
        ',"devAddr":',
        quote(message.dev_addr),
        ',"adr":true' if message.adr else ',"adr":false',
        f',"dr":{message.dr},"fCnt":{message.f_cnt},"fPort":{message.f_port}',
        ',"confirmed":true' if message.confirmed else ',"confirmed":false',
        ',"data":"',
        base64_text(message.data),
        '"',
    ]
    if object_json is not None:
        parts += (',"object":', object_json)
    rx_texts = [reception_json(rx, rx_messages[at]) for at, rx in enumerate(rx_info)]
    parts += (',"rxInfo":[', ",".join(rx_texts), "]")
    if rx_info:
        parts += (',"txInfo":', tx_json)
    parts += (',"regionConfigId":', quote(message.region_config_id), "}")
    info = device.info
    return EventRecord.of_parts(
        EventKind.UP,
        message,
        dev_eui=info.dev_eui,
        application_id=info.application_id,
        gateway_ids=(
            (rx_info[0].gateway_id,)  # the usual single reception: nothing to de-duplicate
            if len(rx_info) == 1
            else tuple(dict.fromkeys([rx.gateway_id for rx in rx_info]))
        ),
        time_ns=seconds * _NS + nanos,
        json_text="".join(parts),
    )


def _generic_up(
    event: UplinkEvent,
    device: DeviceBlock,
    *,
    time: datetime,
    deduplication_id: str,
    region_config_id: str,
    decoded: Mapping[str, Any] | None,
) -> EventRecord:
    message = build.uplink_event(
        event,
        device.info,
        time=time,
        deduplication_id=uuid.UUID(deduplication_id),
        region_config_id=region_config_id,
        decoded=decoded,
    )
    return EventRecord(message)


def _set_object(message: Any, decoded: Mapping[str, Any]) -> str | None:
    """``proto_fields.set_object`` of ``message.object`` (the same checks, the same errors),
    and the JSON text the generic printer gives it (None when the field stays unset, so is
    not printed): keys sorted, every number a double. Plain JSON types are printed directly,
    NaN and infinities refused on the way; anything else (a tuple, a subclass) is read back
    from the ``Struct``."""
    target = message.object
    try:
        plain = _plain(decoded)
        text = json.dumps(
            plain, separators=(",", ":"), ensure_ascii=False, allow_nan=False, sort_keys=True
        )
        target.update(decoded)
    except (_UnusualError, ValueError, TypeError, RecursionError):
        set_object(target, decoded)  # raises EventBuildError if the object is refused
        text = json.dumps(
            message_to_dict(target), separators=(",", ":"), ensure_ascii=False, sort_keys=True
        )
    return text if message.HasField("object") else None


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is float:
        return value
    if kind is int:
        return float(value)  # a Struct holds doubles only
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _UnusualError
        return {key: _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    raise _UnusualError


# --- frame logs ------------------------------------------------------------------------------


def uplink_frame_record(
    frame: UplinkFrame, time: datetime, receptions: Receptions | None = None
) -> FrameRecord:
    """What ``frames.uplink_frame_log(frame, time=time)`` gives, for a frame not yet matched
    to a device; its reception's message is left in ``receptions`` for the uplink's event."""
    phy_payload = frame.phy_payload
    f_type = phy_payload[0] >> 5 if phy_payload else 0
    if f_type in _NAMES_DEV_EUI:
        return uplink_frame_log(frame, time=time)
    try:
        seconds, nanos = _time_of(time)
        rx = rx_message(frame.rx_info) if receptions is None else receptions.made(frame.rx_info)
        tx_info, _ = tx_parts(frame.tx_info)
    except _FAST_PATH_MISSES:
        return uplink_frame_log(frame, time=time)
    dev_addr = data_frame_dev_addr(phy_payload) if 2 <= f_type <= 5 else None
    message = _UplinkFrameLog(
        phy_payload=phy_payload,
        tx_info=tx_info,
        rx_info=(rx,),
        f_type=f_type,
        dev_addr="" if dev_addr is None else str(dev_addr),
    )
    stamp = message.time
    stamp.seconds = seconds
    stamp.nanos = nanos
    stamp.SetInParent()
    return FrameRecord.of_parts(
        FrameKind.UPLINK,
        message,
        gateway_id=frame.rx_info.gateway_id,
        dev_eui=None,
        dev_addr=dev_addr,
        time_ns=seconds * _NS + nanos,
    )
