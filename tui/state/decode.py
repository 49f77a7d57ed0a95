"""What the live log shows of each item: one summary row, and for the detail pane every field
of the body plus the PHYPayload decoded by the protocol core (headers only: payloads stay
encrypted, the console has no keys)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import FrameError
from appliance.lorawan.frames import DataFrame, JoinRequest, RejoinRequest02, RejoinRequest1
from tui import format as fmt
from tui.client.stream_items import EventItem, FrameItem
from tui.state.directory import Directory
from tui.state.frame_log import LogItem

_SHORT_MTYPE = {
    "JOIN_REQUEST": "JoinReq",
    "JOIN_ACCEPT": "JoinAcc",
    "UNCONFIRMED_DATA_UP": "UnconfUp",
    "UNCONFIRMED_DATA_DOWN": "UnconfDn",
    "CONFIRMED_DATA_UP": "ConfUp",
    "CONFIRMED_DATA_DOWN": "ConfDn",
    "REJOIN_REQUEST": "Rejoin",
    "PROPRIETARY": "Propr",
}


@dataclass(frozen=True, slots=True)
class Row:
    time: str
    kind: str
    device: str
    dev_addr: str
    f_cnt: str
    f_port: str
    radio: str  # frequency / SF
    signal: str  # RSSI / SNR, or TX power
    gateway: str
    info: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.time,
            self.kind,
            self.device,
            self.dev_addr,
            self.f_cnt,
            self.f_port,
            self.radio,
            self.signal,
            self.gateway,
            self.info,
        )


# (title, width): the live log's columns, wide enough for their values at 80 columns and up.
COLUMNS = (
    ("time", 12),
    ("type", 7),
    ("device", 16),
    ("DevAddr", 8),
    ("FCnt", 6),
    ("port", 4),
    ("MHz/SF", 9),
    ("signal", 9),
    ("gateway", 16),
    ("info", 40),
)


def decoded_header(phy: bytes) -> dict[str, Any]:
    """MHDR and frame-header fields; ``{"error": ...}`` if the bytes do not decode."""
    if not phy:
        return {}
    try:
        frame = decode_phy_payload(phy)
    except FrameError as error:
        return {"error": str(error)}
    fields: dict[str, Any] = {"frame": type(frame).__name__}
    if isinstance(frame, DataFrame):
        fields.update(
            mType=frame.mtype.name,
            devAddr=str(frame.dev_addr),
            fCnt=frame.f_cnt,
            fPort=frame.f_port,
            adr=frame.f_ctrl.adr,
            ack=frame.f_ctrl.ack,
            fPending=frame.f_ctrl.f_pending,
            fOpts=frame.f_opts.hex(),
            frmPayloadBytes=len(frame.frm_payload),
        )
    elif isinstance(frame, JoinRequest):
        fields.update(
            joinEui=str(frame.join_eui), devEui=str(frame.dev_eui), devNonce=frame.dev_nonce
        )
    elif isinstance(frame, RejoinRequest02 | RejoinRequest1):
        fields.update(devEui=str(frame.dev_eui), rejoinType=getattr(frame, "rejoin_type", 1))
    mic = getattr(frame, "mic", b"")
    if mic:
        fields["mic"] = mic.hex()
    return fields


def row_of(item: LogItem, names: Directory) -> Row:
    if isinstance(item, FrameItem):
        return _frame_row(item, names)
    return _event_row(item, names)


def _frame_row(item: FrameItem, names: Directory) -> Row:
    header = decoded_header(item.phy_payload)
    sf = item.spreading_factor
    radio = fmt.megahertz(item.frequency) + (f"/{sf}" if sf is not None else "")
    if item.direction == "up":
        signal = f"{fmt.value(item.rssi)}/{fmt.value(item.snr)}"
    else:
        signal = fmt.value(item.power, "dBm")
    return Row(
        time=fmt.clock_time(item.time),
        kind="▲ up" if item.direction == "up" else "▼ down",
        device=names.name_of(item) or fmt.DASH,
        dev_addr=item.dev_addr or fmt.DASH,
        f_cnt=fmt.value(header.get("fCnt")),
        f_port=fmt.value(header.get("fPort")),
        radio=radio,
        signal=signal,
        gateway=item.gateway_id or fmt.DASH,
        info=f"{_SHORT_MTYPE.get(item.m_type, item.m_type)} {len(item.phy_payload)}B"
        + (f" {item.tx_status}" if item.tx_status else ""),
    )


def _event_info(item: EventItem, body: dict[str, Any]) -> str:
    if item.kind == "up":
        data = body.get("object")
        if data is not None:
            return json.dumps(data, separators=(",", ":"), sort_keys=True)[:80]
        return f"data={_hex_of_base64(body.get('data'))}"
    if item.kind == "log":
        return f"{body.get('level', '')} {body.get('code', '')}: {body.get('description', '')}"
    if item.kind == "status":
        return (
            f"battery {fmt.value(body.get('batteryLevel'))} margin {fmt.value(body.get('margin'))}"
        )
    if item.kind == "ack":
        return "acknowledged" if body.get("acknowledged") else "not acknowledged"
    if item.kind == "txack":
        return f"fCntDown {fmt.value(body.get('fCntDown'))}"
    if item.kind == "join":
        return f"joined as {fmt.value(body.get('devAddr'))}"
    return ""


def _hex_of_base64(text: Any) -> str:
    if not isinstance(text, str):
        return fmt.DASH
    try:
        return base64.b64decode(text, validate=True).hex() or "(empty)"
    except (binascii.Error, ValueError):
        return "?"


def _event_row(item: EventItem, names: Directory) -> Row:
    body = item.body
    tx = body.get("txInfo", {}) if isinstance(body.get("txInfo"), dict) else {}
    rx = body.get("rxInfo") or [{}]
    first_rx = rx[0] if isinstance(rx[0], dict) else {}
    signal = fmt.DASH
    if "rssi" in first_rx:
        signal = f"{fmt.value(first_rx.get('rssi'))}/{fmt.value(first_rx.get('snr'))}"
    frequency = tx.get("frequency")
    kind = "! MIC" if item.is_mic_failure else f"• {item.kind}"
    return Row(
        time=fmt.clock_time(item.time),
        kind=kind,
        device=names.name_of(item) or fmt.DASH,
        dev_addr=item.dev_addr or fmt.DASH,
        f_cnt=fmt.value(body.get("fCnt") if item.kind == "up" else body.get("fCntDown")),
        f_port=fmt.value(body.get("fPort")),
        radio=fmt.megahertz(frequency if isinstance(frequency, int) else None)
        + (f" DR{body['dr']}" if isinstance(body.get("dr"), int) else ""),
        signal=signal,
        gateway=item.gateway_id or fmt.DASH,
        info=_event_info(item, body),
    )


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Every leaf of a JSON value as (dotted path, text), in document order."""
    if isinstance(value, dict):
        if not value:
            return [(prefix, "{}")] if prefix else []
        return [pair for key, item in value.items() for pair in flatten(item, _join(prefix, key))]
    if isinstance(value, list):
        if not value:
            return [(prefix, "[]")]
        return [pair for i, item in enumerate(value) for pair in flatten(item, f"{prefix}[{i}]")]
    return [(prefix, json.dumps(value) if isinstance(value, str) else fmt.value(value))]


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def hex_dump(data: bytes, width: int = 16) -> list[str]:
    return [
        f"{offset:04x}  {data[offset : offset + width].hex(' ')}"
        for offset in range(0, len(data), width)
    ]


def detail_lines(item: LogItem) -> list[tuple[str, str]]:
    """(label, value) lines for the detail pane: the envelope, every body field, the
    decoded header and the raw bytes."""
    lines: list[tuple[str, str]] = []
    if isinstance(item, FrameItem):
        lines += [
            ("type", f"{item.direction}link frame {item.m_type}"),
            ("txStatus", item.tx_status or fmt.DASH),
            ("gateway", item.gateway_id or fmt.DASH),
            ("devEui", item.dev_eui or fmt.DASH),
            ("devAddr", item.dev_addr or fmt.DASH),
            ("time", item.time or fmt.DASH),
        ]
        phy = item.phy_payload
        lines += [(f"phy.{key}", fmt.value(value)) for key, value in decoded_header(phy).items()]
        lines += flatten({k: v for k, v in item.body.items() if k != "phyPayload"})
        lines.append(("phyPayload", f"{len(phy)} bytes"))
        lines += [("", line) for line in hex_dump(phy)]
    else:
        lines += [
            ("type", f"{item.kind} event"),
            ("devEui", item.dev_eui or fmt.DASH),
            ("application", item.application_id or fmt.DASH),
            ("time", item.time or fmt.DASH),
        ]
        body = item.body
        lines += flatten(body)
        data = body.get("data")
        if isinstance(data, str):
            raw = _hex_of_base64(data)
            lines.append(("data (hex)", raw))
    return lines
