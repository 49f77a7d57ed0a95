"""A Semtech UDP packet forwarder in front of a virtual concentrator (sans-IO).

The gateway side of GWMP (``PROTOCOL.TXT`` of Lora-net/packet_forwarder, protocol version 2):
what the concentrator receives goes up as PUSH_DATA with one ``rxpk`` per frame, PULL_DATA
keeps the downlink path open every ``keepalive_ns``, a PULL_RESP's ``txpk`` is handed to the
concentrator (whose just-in-time queue decides: OK, TOO_LATE, COLLISION_PACKET...) and
answered with TX_ACK, and ``stat`` goes up every ``stats_interval_ns``. Times are arguments
(monotonic ns on the caller's clock); the caller moves the datagrams and the transmissions.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.identifiers import EUI64
from hal.model import (
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    FSKModulation,
    GPSEpoch,
    Immediately,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
)
from hal.semtech_udp.packets import (
    PacketError,
    PullAck,
    PullData,
    PullResp,
    PushAck,
    PushData,
    TxAck,
    parse_packet,
)
from hal.semtech_udp.rxpk import modulation_of
from hal.semtech_udp.timestamps import format_compact, format_expanded
from hal.virtual_radio import Transmission, VirtualConcentrator

PROTOCOL_VERSION: Final = 2
SECOND_NS: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ForwarderOutput:
    datagrams: tuple[bytes, ...]  # to send to the network server, in order
    transmissions: tuple[Transmission, ...]  # what the gateway put on the air


class TxpkError(Exception):
    """A PULL_RESP whose ``txpk`` cannot be transmitted; the TX_ACK carries ``status``."""

    def __init__(self, status: TxAckStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def rxpk_of(frame: UplinkFrame) -> dict[str, Any]:
    """The ``rxpk`` object a forwarder writes for one received frame."""
    rx, tx = frame.rx_info, frame.tx_info
    entry: dict[str, Any] = {
        "tmst": int.from_bytes(rx.context[:4], "big"),
        "chan": rx.channel,
        "rfch": 0,
        "freq": round(tx.frequency / 1e6, 6),
        "stat": 1,
        "rssi": rx.rssi,
        "lsnr": rx.snr,
        "size": len(frame.phy_payload),
        "data": base64.b64encode(frame.phy_payload).decode("ascii"),
    }
    if rx.gw_time_ns is not None:
        entry["time"] = format_compact(rx.gw_time_ns)
    if rx.time_since_gps_epoch_ns is not None:
        entry["tmms"] = rx.time_since_gps_epoch_ns // 1_000_000
    modulation = tx.modulation
    if isinstance(modulation, LoRaModulation):
        entry.update(modu="LORA", datr=modulation.datr, codr=modulation.code_rate.text)
    elif isinstance(modulation, FSKModulation):
        entry.update(modu="FSK", datr=modulation.datarate)
    return entry


def _number(txpk: dict[str, Any], key: str) -> float:
    value = txpk.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TxpkError(TxAckStatus.INTERNAL_ERROR, f"txpk.{key} is missing or not a number")
    return value


def item_of(txpk: dict[str, Any]) -> DownlinkItem:
    """The downlink item a ``txpk`` describes; raises ``TxpkError``."""
    try:
        phy_payload = base64.b64decode(str(txpk.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        raise TxpkError(TxAckStatus.INTERNAL_ERROR, "txpk.data is not base64") from None
    try:
        modulation = modulation_of(txpk.get("datr"), txpk.get("codr"))
    except PacketError as error:
        raise TxpkError(TxAckStatus.INTERNAL_ERROR, str(error)) from None
    if isinstance(modulation, LoRaModulation):
        modulation = LoRaModulation(
            modulation.bandwidth,
            modulation.spreading_factor,
            modulation.code_rate,
            polarization_inversion=bool(txpk.get("ipol", False)),
        )
    elif not isinstance(modulation, FSKModulation):
        raise TxpkError(TxAckStatus.TX_FREQ, "this radio cannot transmit that modulation")
    context = b""
    timing: Delay | GPSEpoch | Immediately
    if txpk.get("imme") is True:
        timing = Immediately()
    elif "tmst" in txpk:
        timing = Delay(0)
        context = (int(_number(txpk, "tmst")) % 2**32).to_bytes(4, "big")
    elif "tmms" in txpk:
        timing = GPSEpoch(int(_number(txpk, "tmms")) * 1_000_000)
    else:
        raise TxpkError(TxAckStatus.INTERNAL_ERROR, "txpk has neither imme, tmst nor tmms")
    info = DownlinkTxInfo(
        frequency=round(_number(txpk, "freq") * 1e6),
        power=int(_number(txpk, "powe")),
        modulation=modulation,
        timing=timing,
        context=context,
    )
    return DownlinkItem(phy_payload, info)


class Forwarder:
    def __init__(
        self,
        concentrator: VirtualConcentrator,
        *,
        now_ns: int,
        keepalive_ns: int = 10 * SECOND_NS,
        stats_interval_ns: int = 30 * SECOND_NS,
    ) -> None:
        self.concentrator = concentrator
        self.keepalive_ns = keepalive_ns
        self.stats_interval_ns = stats_interval_ns
        self._token = 0
        self._next_pull_ns = now_ns
        self._next_stats_ns = now_ns + stats_interval_ns
        self._downlink_id = 0
        self.counters: Counter[str] = Counter()

    @property
    def gateway_id(self) -> EUI64:
        return self.concentrator.config.gateway_id

    def _next_token(self) -> int:
        self._token = (self._token + 1) & 0xFFFF
        return self._token

    def poll(self, now_ns: int) -> ForwarderOutput:
        """What happened up to ``now_ns``: datagrams to send, transmissions that started."""
        result = self.concentrator.poll(now_ns)
        datagrams: list[bytes] = []
        if result.uplinks:
            body = {"rxpk": [rxpk_of(frame) for frame in result.uplinks]}
            datagrams.append(self._push_data(body))
            self.counters["rxpk"] += len(result.uplinks)
        if now_ns >= self._next_stats_ns:
            datagrams.append(self._push_data({"stat": self._stat(now_ns)}))
            self._next_stats_ns = now_ns + self.stats_interval_ns
        if now_ns >= self._next_pull_ns:
            datagrams.append(
                PullData(PROTOCOL_VERSION, self._next_token(), self.gateway_id).encode()
            )
            self.counters["pull_data"] += 1
            self._next_pull_ns = now_ns + self.keepalive_ns
        return ForwarderOutput(tuple(datagrams), result.transmissions)

    def _push_data(self, body: dict[str, Any]) -> bytes:
        self.counters["push_data"] += 1
        payload = json.dumps(body, separators=(",", ":")).encode()
        return PushData(PROTOCOL_VERSION, self._next_token(), self.gateway_id, payload).encode()

    def _stat(self, now_ns: int) -> dict[str, Any]:
        stats = self.concentrator.stats(now_ns)
        return {
            "time": format_expanded(stats.time_ns or 0),
            "rxnb": stats.rx_packets_received,
            "rxok": stats.rx_packets_received_ok,
            "rxfw": stats.rx_packets_received_ok,
            "ackr": 100.0,
            "dwnb": stats.tx_packets_received,
            "txnb": stats.tx_packets_emitted,
        }

    def datagram_received(self, data: bytes, now_ns: int) -> tuple[bytes, ...]:
        """A datagram from the network server; returns the datagrams to answer with."""
        try:
            packet = parse_packet(data)
        except PacketError as refused:
            self.counters[f"dropped_{refused.reason}"] += 1
            return ()
        if isinstance(packet, PushAck):
            self.counters["push_ack"] += 1
        elif isinstance(packet, PullAck):
            self.counters["pull_ack"] += 1
        elif isinstance(packet, PullResp):
            self.counters["pull_resp"] += 1
            status = self._transmit(packet.payload, now_ns)
            self.counters[f"tx_{status.name.lower()}"] += 1
            outcome = "NONE" if status is TxAckStatus.OK else status.name
            body = json.dumps({"txpk_ack": {"error": outcome}}).encode()
            return (TxAck(PROTOCOL_VERSION, packet.token, self.gateway_id, body).encode(),)
        else:
            self.counters["dropped_unexpected_type"] += 1
        return ()

    def _transmit(self, payload: bytes, now_ns: int) -> TxAckStatus:
        try:
            document = json.loads(payload)
            txpk = document["txpk"]
            if not isinstance(txpk, dict):
                raise TxpkError(TxAckStatus.INTERNAL_ERROR, "txpk is not an object")
            item = item_of(txpk)
        except (ValueError, KeyError, TypeError, TxpkError) as error:
            self.counters["bad_txpk"] += 1
            return error.status if isinstance(error, TxpkError) else TxAckStatus.INTERNAL_ERROR
        self._downlink_id = (self._downlink_id + 1) & 0xFFFFFFFF
        frame = DownlinkFrame(self._downlink_id, self.gateway_id, (item,))
        return self.concentrator.send_downlink(frame, now_ns).items[0]

    def next_wakeup_ns(self, now_ns: int) -> int:
        candidates = [self._next_pull_ns, self._next_stats_ns]
        radio = self.concentrator.next_wakeup_ns(now_ns)
        if radio is not None:
            candidates.append(radio)
        return min(candidates)
