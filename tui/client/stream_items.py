"""The live stream's messages as the console uses them.

A message is ``{"type": "event"|"frame"|"missed", ...}`` (docs/console.md quotes the whole
format); anything else, or a message missing a field the console needs, is refused with one
line (``ValueError``) and counted, never shown as a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

EVENT_KINDS = ("up", "join", "ack", "txack", "log", "status", "location")
MIC_LOG_CODE = "UPLINK_MIC"


def _text(message: dict[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string, got {type(value).__name__}")
    return value


def _body(message: dict[str, Any]) -> dict[str, Any]:
    body = message.get("body", {})
    if not isinstance(body, dict):
        raise ValueError("body: expected an object")
    return body


@dataclass(frozen=True, slots=True)
class Missed:
    """``count`` items were dropped by the appliance because the console fell behind."""

    count: int


def _dig(value: Any, *path: str | int) -> Any:
    for step in path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and len(value) > step else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    return value


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _compact(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


# Items stay in the console's log for a while, thousands of them: each keeps the few fields
# the log shows and filters on, and its body as one JSON string (parsed again only for the
# detail pane), so an item is a handful of objects rather than a tree of dicts the garbage
# collector has to walk.


@dataclass(frozen=True, slots=True)
class FrameItem:
    """One gateway reception (``up``) or one downlink (``down``) with ChirpStack's frame log."""

    direction: str
    gateway_id: str
    dev_eui: str | None
    dev_addr: str | None
    m_type: str
    time: str
    body_json: str = field(repr=False)
    tx_status: str | None = None  # downlinks: the gateway's verdict (OK, TOO_LATE...)
    frequency: int | None = None
    spreading_factor: int | None = None
    rssi: int | None = None
    snr: float | None = None
    power: int | None = None
    phy_payload_b64: str = field(default="", repr=False)

    @property
    def kind(self) -> str:
        return "uplink" if self.direction == "up" else "downlink"

    @property
    def body(self) -> dict[str, Any]:
        value = json.loads(self.body_json)
        return value if isinstance(value, dict) else {}

    @property
    def phy_payload(self) -> bytes:
        try:
            return base64.b64decode(self.phy_payload_b64, validate=True)
        except (binascii.Error, ValueError):
            return b""

    @property
    def is_mic_failure(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class EventItem:
    """An integration event (``up``, ``join``, ``log``...) with ChirpStack's event JSON."""

    kind: str
    dev_eui: str | None
    application_id: str | None
    time: str
    body_json: str = field(repr=False)
    gateway_id: str | None = None
    dev_addr: str | None = None
    device_name: str | None = None
    log_code: str | None = None

    @property
    def body(self) -> dict[str, Any]:
        value = json.loads(self.body_json)
        return value if isinstance(value, dict) else {}

    @property
    def is_mic_failure(self) -> bool:
        return self.kind == "log" and self.log_code == MIC_LOG_CODE


StreamItem = FrameItem | EventItem | Missed


def parse_stream_message(message: Any) -> StreamItem:
    """One decoded JSON message of ``/api/stream``; ``ValueError`` (one line) if malformed."""
    if not isinstance(message, dict):
        raise ValueError("stream message: expected a JSON object")
    kind = message.get("type")
    if kind == "missed":
        count = message.get("count")
        if not isinstance(count, int) or count < 0:
            raise ValueError("missed: count must be a non-negative integer")
        return Missed(count)
    if kind == "frame":
        direction = message.get("direction")
        if direction not in ("up", "down"):
            raise ValueError(f"frame: direction must be up or down, got {direction!r}")
        body = _body(message)
        lora = _dig(body, "txInfo", "modulation", "lora")
        return FrameItem(
            direction=direction,
            gateway_id=_text(message, "gatewayId") or "",
            dev_eui=_text(message, "devEui"),
            dev_addr=_text(message, "devAddr"),
            # The frame's MType ("fType" as ChirpStack's frame log names it).
            m_type=_text(message, "fType") or _text(message, "mType") or "",
            time=_text(message, "time") or "",
            body_json=_compact(body),
            tx_status=_text(message, "txStatus"),
            frequency=_int(_dig(body, "txInfo", "frequency")),
            spreading_factor=_int(_dig(lora, "spreadingFactor")),
            rssi=_int(_dig(body, "rxInfo", 0, "rssi")),
            snr=_float(_dig(body, "rxInfo", 0, "snr")),
            power=_int(_dig(body, "txInfo", "power")),
            phy_payload_b64=_str(body.get("phyPayload")) or "",
        )
    if kind == "event":
        event_kind = message.get("kind")
        if event_kind not in EVENT_KINDS:
            raise ValueError(f"event: unknown kind {event_kind!r}")
        body = _body(message)
        return EventItem(
            kind=event_kind,
            dev_eui=_text(message, "devEui"),
            application_id=_text(message, "applicationId"),
            time=_text(message, "time") or "",
            body_json=_compact(body),
            gateway_id=_str(body.get("gatewayId")) or _str(_dig(body, "rxInfo", 0, "gatewayId")),
            dev_addr=_str(body.get("devAddr")),
            device_name=_str(_dig(body, "deviceInfo", "deviceName")),
            log_code=_str(body.get("code")),
        )
    raise ValueError(f"stream message: unknown type {kind!r}")
