"""The packet-forwarder side of the Semtech UDP JSON: ``rxpk`` and ``stat`` out, ``txpk`` in.

Field meanings are from ``PROTOCOL.TXT`` (Lora-net/packet_forwarder) and the sx1302 forwarder's
``PROTOCOL.md``. The model's metadata (and the delayed marker) travel in ``meta``, the map the
ChirpStack Gateway Bridge copies into ``rx_info.metadata``.
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode, b64encode
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from appliance.lorawan.errors import InvalidValueError
from hal.model import (
    CRCStatus,
    Delay,
    DownlinkItem,
    DownlinkTxInfo,
    FSKModulation,
    GatewayStats,
    GPSEpoch,
    Immediately,
    LoRaModulation,
    Timing,
    TxAckStatus,
    UplinkFrame,
)
from hal.semtech_udp.packets import PacketError
from hal.semtech_udp.rxpk import modulation_of
from hal.semtech_udp.timestamps import format_compact, format_expanded

_STAT: Final = {CRCStatus.CRC_OK: 1, CRCStatus.BAD_CRC: -1, CRCStatus.NO_CRC: 0}
_NS_PER_MS: Final = 1_000_000
_NS_PER_S: Final = 1_000_000_000


class TxpkError(ValueError):
    """A ``txpk`` cannot become a downlink; ``status`` goes back in the TX_ACK."""

    def __init__(self, message: str, status: TxAckStatus = TxAckStatus.INTERNAL_ERROR) -> None:
        super().__init__(message)
        self.status = status


def rxpk(frame: UplinkFrame, tmst: int) -> dict[str, Any]:
    """The ``rxpk`` entry of one reception."""
    tx, rx = frame.tx_info, frame.rx_info
    entry: dict[str, Any] = {}
    time_ns = rx.gw_time_ns if rx.gw_time_ns is not None else rx.ns_time_ns
    if time_ns is not None:
        entry["time"] = format_compact(time_ns)
    if rx.time_since_gps_epoch_ns is not None:
        entry["tmms"] = rx.time_since_gps_epoch_ns // _NS_PER_MS
    if rx.fine_time_since_gps_epoch_ns is not None:
        entry["ftime"] = rx.fine_time_since_gps_epoch_ns % _NS_PER_S
    entry["tmst"] = tmst
    entry["chan"] = rx.channel
    entry["rfch"] = rx.rf_chain
    if rx.board:
        entry["brd"] = rx.board
    if rx.antenna:
        entry["ant"] = rx.antenna
    entry["freq"] = tx.frequency / 1_000_000
    entry["stat"] = _STAT[rx.crc_status]
    modulation = tx.modulation
    if isinstance(modulation, LoRaModulation):
        entry["modu"] = "LORA"
        entry["datr"] = modulation.datr
        entry["codr"] = modulation.code_rate.text or "OFF"
    elif isinstance(modulation, FSKModulation):
        entry["modu"] = "FSK"
        entry["datr"] = modulation.datarate
    else:
        entry["modu"] = "LR-FHSS"
        entry["datr"] = f"M0CW{modulation.operating_channel_width // 1000}"
        entry["codr"] = modulation.code_rate.text
        entry["hpw"] = modulation.grid_steps
    entry["rssi"] = rx.rssi
    entry["lsnr"] = rx.snr
    entry["size"] = len(frame.phy_payload)
    entry["data"] = b64encode(frame.phy_payload).decode("ascii")
    if rx.metadata:
        entry["meta"] = dict(rx.metadata)
    return entry


def push_payload(entries: list[dict[str, Any]], stat: dict[str, Any] | None = None) -> bytes:
    document: dict[str, Any] = {}
    if entries:
        document["rxpk"] = entries
    if stat is not None:
        document["stat"] = stat
    return json.dumps(document, separators=(",", ":")).encode()


def stat(stats: GatewayStats, *, now_ns: int, ack_ratio: float) -> dict[str, Any]:
    """The ``stat`` object of a statistics report; ``ackr`` is the PUSH_ACK ratio we measured."""
    entry: dict[str, Any] = {
        "time": format_expanded(stats.time_ns if stats.time_ns is not None else now_ns)
    }
    if stats.location is not None:
        entry["lati"] = stats.location.latitude
        entry["long"] = stats.location.longitude
        entry["alti"] = round(stats.location.altitude)
    entry["rxnb"] = stats.rx_packets_received
    entry["rxok"] = stats.rx_packets_received_ok
    entry["rxfw"] = stats.rx_packets_received_ok
    entry["ackr"] = round(ack_ratio * 100, 1)
    entry["dwnb"] = stats.tx_packets_received
    entry["txnb"] = stats.tx_packets_emitted
    if stats.metadata:
        entry["meta"] = dict(stats.metadata)
    return entry


def tx_ack_payload(status: TxAckStatus) -> bytes:
    """``{"txpk_ack":{"error":...}}``: NONE when sent, else the status name."""
    error = "NONE" if status is TxAckStatus.OK else status.name
    return b'{"txpk_ack":{"error":"' + error.encode() + b'"}}'


def _get(txpk: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = txpk.get(key, default)
    if value is default:
        return value
    if isinstance(value, bool) and kind is not bool:
        raise TxpkError(f"txpk.{key}={value!r} is not a number")
    if not isinstance(value, kind):
        raise TxpkError(f"txpk.{key}={value!r} has the wrong type")
    return value


def _timing(
    txpk: Mapping[str, Any], counter: Callable[[int], tuple[Delay, bytes]]
) -> tuple[Timing, bytes]:
    if _get(txpk, "imme", bool, False):
        return Immediately(), b""
    tmst = _get(txpk, "tmst", int, None)
    if tmst is not None:
        if not 0 <= tmst < 1 << 32:
            raise TxpkError(f"txpk.tmst={tmst} is not a 32-bit counter value")
        return counter(tmst)
    tmms = _get(txpk, "tmms", int, None)
    if tmms is not None:
        if tmms < 0:
            raise TxpkError(f"txpk.tmms={tmms} is before the GPS epoch")
        return GPSEpoch(tmms * _NS_PER_MS), b""
    raise TxpkError("txpk has none of imme, tmst, tmms")


def _modulation(txpk: Mapping[str, Any]) -> LoRaModulation | FSKModulation:
    modu = _get(txpk, "modu", str, "LORA").upper()
    datr = txpk.get("datr")
    try:
        if modu == "LORA":
            lora = modulation_of(datr, _get(txpk, "codr", str, "4/5"))
            if not isinstance(lora, LoRaModulation):
                raise TxpkError(f"txpk.datr={datr!r} is not a LoRa data rate")
            return replace(
                lora,
                polarization_inversion=_get(txpk, "ipol", bool, False),
                preamble=_get(txpk, "prea", int, 0),
                no_crc=_get(txpk, "ncrc", bool, False),
            )
        if modu == "FSK":
            if isinstance(datr, bool) or not isinstance(datr, int):
                raise TxpkError(f"txpk.datr={datr!r} is not an FSK bit rate")
            return FSKModulation(datr, _get(txpk, "fdev", int, 0))
    except InvalidValueError as error:
        raise TxpkError(f"txpk: {error}") from None
    except PacketError as error:  # the rxpk parser's verdict on datr/codr
        raise TxpkError(f"txpk: {error}") from None
    raise TxpkError(f"txpk.modu={modu!r} cannot be transmitted")


def downlink_item(document: object, counter: Callable[[int], tuple[Delay, bytes]]) -> DownlinkItem:
    """The ``DownlinkItem`` of a PULL_RESP's JSON; ``counter`` turns a ``tmst`` into timing."""
    txpk = document.get("txpk") if isinstance(document, dict) else None
    if not isinstance(txpk, dict):
        raise TxpkError("PULL_RESP JSON has no txpk object")
    data = _get(txpk, "data", str, None)
    if data is None:
        raise TxpkError("txpk has no data")
    try:
        payload = b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise TxpkError("txpk.data is not base64") from None
    size = _get(txpk, "size", int, None)
    if size is not None and size != len(payload):
        raise TxpkError(f"txpk.size={size} but {len(payload)} bytes of data")
    freq = _get(txpk, "freq", (int, float), None)
    if freq is None or not 30 <= freq <= 3_000:
        raise TxpkError(f"txpk.freq={freq!r} is not a frequency in MHz", TxAckStatus.TX_FREQ)
    power = _get(txpk, "powe", int, 14)
    if not -30 <= power <= 40:
        raise TxpkError(f"txpk.powe={power} dBm", TxAckStatus.TX_POWER)
    timing, context = _timing(txpk, counter)
    board = _get(txpk, "brd", int, 0)
    antenna = _get(txpk, "ant", int, 0)
    if not (0 <= board <= 0xFFFF and 0 <= antenna <= 0xFF):
        raise TxpkError(f"txpk.brd={board} or txpk.ant={antenna} is out of range")
    tx_info = DownlinkTxInfo(
        frequency=round(freq * 1_000_000),
        power=power,
        modulation=_modulation(txpk),
        timing=timing,
        board=board,
        antenna=antenna,
        context=context,
    )
    return DownlinkItem(payload, tx_info)
