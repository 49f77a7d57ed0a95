"""What the event log stores and the live stream carries: one protobuf message plus the keys
it is found by (device, application, gateways, kind, time), read once from the message.

Records are shared by every subscriber and the log, so they are never changed after they are
made; the JSON text and the protobuf bytes are computed on first use and kept (the outbox and
the event log both store the bytes). The hot path (``uplink_records``) makes its records with
``of_parts``: it already knows the keys, so nothing is read back from the message, and it
hands the JSON text it wrote in along.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from appliance.app.events.errors import EventBuildError
from appliance.app.events.json_mapping import message_to_bytes, message_to_json
from appliance.app.events.kinds import EventKind, FrameKind, event_kind_of
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, DevAddr
from hal.model import TxAckStatus


def _time_ns(message: Any) -> int:
    return int(message.time.seconds) * 1_000_000_000 + int(message.time.nanos)


def _gateways_in(message: Any) -> tuple[EUI64, ...]:
    names: list[str] = []
    if hasattr(message, "rx_info"):
        names.extend(rx.gateway_id for rx in message.rx_info)
    gateway_id = getattr(message, "gateway_id", "")
    if gateway_id:
        names.append(gateway_id)
    try:
        return tuple(dict.fromkeys(EUI64(name) for name in names))
    except InvalidValueError as error:
        raise EventBuildError(f"gateway id: {error}") from None


class EventRecord:
    """An integration event. ``gateway_ids`` defaults to the gateways the message names
    (``rxInfo``, ``gatewayId``); a ``join`` names none, so its builder passes them."""

    __slots__ = (
        "_bytes",
        "_json",
        "application_id",
        "dev_eui",
        "gateway_ids",
        "id",
        "kind",
        "message",
        "time_ns",
    )

    def __init__(
        self,
        message: Any,
        *,
        gateway_ids: Iterable[EUI64] | None = None,
        record_id: int | None = None,
    ) -> None:
        self.kind: EventKind = event_kind_of(message)
        self.message: Any = message
        info = message.device_info
        try:
            self.dev_eui = EUI64(info.dev_eui)
            self.application_id = uuid.UUID(info.application_id)
        except (InvalidValueError, ValueError) as error:
            raise EventBuildError(f"{self.kind} event device_info: {error}") from None
        self.gateway_ids: tuple[EUI64, ...] = (
            _gateways_in(message) if gateway_ids is None else tuple(gateway_ids)
        )
        self.time_ns = _time_ns(message)
        self.id = record_id  # set once the log has stored it
        self._json: str | None = None
        self._bytes: bytes | None = None

    @classmethod
    def of_parts(
        cls,
        kind: EventKind,
        message: Any,
        *,
        dev_eui: EUI64,
        application_id: uuid.UUID,
        gateway_ids: tuple[EUI64, ...],
        time_ns: int,
        json_text: str | None = None,
    ) -> EventRecord:
        """A record whose keys the caller took from what it built ``message`` from (they must
        be what ``EventRecord(message)`` would read), with the JSON text if it has it."""
        record = cls.__new__(cls)
        record.kind = kind
        record.message = message
        record.dev_eui = dev_eui
        record.application_id = application_id
        record.gateway_ids = gateway_ids
        record.time_ns = time_ns
        record.id = None
        record._json = json_text
        record._bytes = None
        return record

    def json(self) -> str:
        """The event body as ChirpStack sends it (MQTT ``json = true``, HTTP)."""
        if self._json is None:
            self._json = message_to_json(self.message)
        return self._json

    def to_bytes(self) -> bytes:
        if self._bytes is None:
            self._bytes = message_to_bytes(self.message)
        return self._bytes

    def __repr__(self) -> str:
        return f"EventRecord({self.kind}, dev_eui={self.dev_eui}, id={self.id})"


class FrameRecord:
    """A frame-log entry: ``stream.UplinkFrameLog`` or ``stream.DownlinkFrameLog`` plus the
    gateway, what is known of the device (and its application), and for a downlink the
    gateway's TX verdict."""

    __slots__ = (
        "_bytes",
        "_json",
        "application_id",
        "dev_addr",
        "dev_eui",
        "gateway_id",
        "id",
        "kind",
        "message",
        "time_ns",
        "tx_status",
    )

    def __init__(
        self,
        kind: FrameKind,
        message: Any,
        *,
        gateway_id: EUI64,
        tx_status: TxAckStatus | None = None,
        application_id: uuid.UUID | None = None,
        record_id: int | None = None,
    ) -> None:
        self.kind = kind
        self.message: Any = message
        self.gateway_id = gateway_id
        try:
            self.dev_eui = EUI64(message.dev_eui) if message.dev_eui else None
            self.dev_addr = DevAddr(message.dev_addr) if message.dev_addr else None
        except InvalidValueError as error:
            raise EventBuildError(f"{kind}: {error}") from None
        self.tx_status = tx_status
        self.application_id = application_id  # known once the frame matched a device
        self.time_ns = _time_ns(message)
        self.id = record_id
        self._json: str | None = None
        self._bytes: bytes | None = None

    @classmethod
    def of_parts(
        cls,
        kind: FrameKind,
        message: Any,
        *,
        gateway_id: EUI64,
        dev_eui: EUI64 | None,
        dev_addr: DevAddr | None,
        time_ns: int,
    ) -> FrameRecord:
        """A record whose keys the caller took from what it built ``message`` from (they must
        be what ``FrameRecord(kind, message, ...)`` would read)."""
        record = cls.__new__(cls)
        record.kind = kind
        record.message = message
        record.gateway_id = gateway_id
        record.dev_eui = dev_eui
        record.dev_addr = dev_addr
        record.tx_status = None
        record.application_id = None
        record.time_ns = time_ns
        record.id = None
        record._json = None
        record._bytes = None
        return record

    @property
    def gateway_ids(self) -> tuple[EUI64, ...]:
        return (self.gateway_id,)

    def json(self) -> str:
        """The frame log as ChirpStack's stream JSON (defaults left out)."""
        if self._json is None:
            self._json = message_to_json(self.message)
        return self._json

    def to_bytes(self) -> bytes:
        if self._bytes is None:
            self._bytes = message_to_bytes(self.message)
        return self._bytes

    def __repr__(self) -> str:
        return f"FrameRecord({self.kind}, gateway_id={self.gateway_id}, id={self.id})"
