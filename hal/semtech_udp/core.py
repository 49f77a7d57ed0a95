"""The Semtech UDP server side as a sans-IO state machine.

Datagrams and ``now`` go in (``datagram_received``, ``send_downlink``, ``handle_timers``);
datagrams to send and events come out (``datagrams_to_send``, ``events_to_deliver``). No
sockets, no clock: the caller owns both, so tests drive time by hand.

Downlinks: the first item that can be encoded goes out as PULL_RESP to the address of the
gateway's last PULL_DATA, in that PULL_DATA's protocol version. Version 2 gateways answer with
TX_ACK; a refusal moves on to the next item. See ``docs/semtech-udp.md`` for the statuses.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.identifiers import EUI64
from hal.model import (
    BackendEvent,
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConnected,
    GatewayDisconnected,
    Location,
    TxAckStatus,
)
from hal.semtech_udp.packets import (
    MAX_DATAGRAM,
    DropReason,
    PacketError,
    PacketType,
    PullAck,
    PullResp,
    parse_header,
)
from hal.semtech_udp.rxpk import location_of, stats_from_stat, uplinks_from_rxpk
from hal.semtech_udp.timestamps import TmstWidener
from hal.semtech_udp.txpk import DownlinkEncodeError, tx_ack_status, txpk_json

logger = logging.getLogger(__name__)

Address = tuple[Any, ...]  # what the socket layer gives: (host, port) or the IPv6 4-tuple
_NS_PER_S: Final = 1_000_000_000
# json.loads is this scanner (C, from the standard decoder) behind wrappers that skip
# whitespace; calling it directly saves a quarter of the JSON time of a PUSH_DATA. _json_object
# skips the whitespace itself, as json defines it. (scan_once is set by JSONDecoder.__init__
# and missing from the type stubs.)
_decoder = json.JSONDecoder()
_scan_json: Final[Callable[[str, int], tuple[Any, int]]] = _decoder.scan_once  # type: ignore[attr-defined]
_JSON_SPACE: Final = " \t\n\r"
_PUSH_DATA: Final = int(PacketType.PUSH_DATA)


@dataclass(frozen=True, slots=True)
class CoreConfig:
    allowed_gateways: frozenset[EUI64] = frozenset()  # empty: any gateway registers itself
    tx_ack_timeout_ns: int = 1 * _NS_PER_S
    disconnect_after_ns: int = 60 * _NS_PER_S
    max_gateways: int = 1_000  # bounds memory when auto-registering (EUIs are trivial to forge)
    max_pending_per_gateway: int = 64  # downlinks awaiting TX_ACK; beyond it: QUEUE_FULL
    forward_crc_errors: bool = False  # as the ChirpStack bridge: only CRC-OK frames by default
    lorawan_downlink_flags: bool = True  # ipol/ncrc true on LoRa downlinks (see txpk.py)
    backend_name: str = "semtech-udp"


@dataclass(frozen=True, slots=True)
class DownlinkResult:
    """The outcome of ``send_downlink(frame)``, matched by the handle it returned."""

    handle: int
    ack: DownlinkTxAck


CoreEvent = BackendEvent | DownlinkResult


class _Gateway:
    __slots__ = ("gateway_id", "in_flight", "last_seen_ns", "pull_address", "version", "widener")

    def __init__(self, gateway_id: EUI64, version: int, now_ns: int) -> None:
        self.gateway_id = gateway_id
        self.version = version
        self.pull_address: Address | None = None
        self.last_seen_ns = now_ns
        self.widener = TmstWidener()
        self.in_flight = 0


class _Downlink:
    __slots__ = ("deadline_ns", "frame", "gateway", "handle", "index", "statuses", "token")

    def __init__(self, handle: int, frame: DownlinkFrame, gateway: _Gateway) -> None:
        self.handle = handle
        self.frame = frame
        self.gateway = gateway
        self.statuses = [TxAckStatus.IGNORED] * len(frame.items)
        self.index = 0
        self.token = 0
        self.deadline_ns = 0


def _remote(address: Address) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _json_object(data: bytes) -> dict[str, Any]:
    """The JSON object after a PUSH_DATA header, read exactly as ``json.loads`` reads it."""
    try:
        # The protocol's JSON is UTF-8; decoding first skips json's encoding sniffing.
        text = data[12:].decode()
        try:
            document, end = _scan_json(text, 0)
        except StopIteration:  # no value at 0; json.loads skips leading whitespace first
            start = len(text) - len(text.lstrip(_JSON_SPACE))
            if start == 0:
                raise ValueError("no JSON value") from None
            document, end = _scan_json(text, start)
        if end != len(text) and text[end:].lstrip(_JSON_SPACE):
            raise ValueError("data after the JSON value")
    except (ValueError, StopIteration, RecursionError):
        raise PacketError(DropReason.BAD_JSON, "PUSH_DATA JSON cannot be read") from None
    if not isinstance(document, dict):
        raise PacketError(DropReason.BAD_JSON, "PUSH_DATA JSON is not an object")
    return document


class SemtechUDPCore:
    def __init__(self, config: CoreConfig | None = None) -> None:
        self.config = config or CoreConfig()
        self._allowed = frozenset(bytes(eui) for eui in self.config.allowed_gateways)
        self._gateways: dict[bytes, _Gateway] = {}
        self._pending: dict[int, _Downlink] = {}  # by PULL_RESP token
        self._deadlines: list[tuple[int, int, int]] = []  # (deadline, token, handle), lazy
        self._sweep_at: int | None = None
        self._drops: dict[str, int] = {}
        self._outgoing: list[tuple[bytes, Address]] = []
        self._events: list[CoreEvent] = []
        self._uplink_id = 0
        self._token = 0
        self._handle = 0

    # -- outputs -----------------------------------------------------------------------------

    def datagrams_to_send(self) -> list[tuple[bytes, Address]]:
        out, self._outgoing = self._outgoing, []
        return out

    def events_to_deliver(self) -> list[CoreEvent]:
        out, self._events = self._events, []
        return out

    @property
    def drop_counts(self) -> Mapping[str, int]:
        return dict(self._drops)

    def count_drop(self, reason: DropReason, detail: object = "") -> None:
        self._drops[reason.value] = self._drops.get(reason.value, 0) + 1
        logger.debug("semtech-udp: dropped (%s) %s", reason.value, detail)

    def gateway_ids(self) -> tuple[EUI64, ...]:
        return tuple(gateway.gateway_id for gateway in self._gateways.values())

    def pull_address(self, gateway_id: EUI64) -> Address | None:
        gateway = self._gateways.get(bytes(gateway_id))
        return None if gateway is None else gateway.pull_address

    def next_timer(self) -> int | None:
        """When ``handle_timers`` next has work (monotonic ns), or None."""
        times = [self._deadlines[0][0]] if self._deadlines else []
        if self._sweep_at is not None:
            times.append(self._sweep_at)
        return min(times, default=None)

    # -- inputs ------------------------------------------------------------------------------

    def datagram_received(self, data: bytes, address: Address, now_ns: int, wall_ns: int) -> None:
        """Handle one datagram; every problem becomes a drop count, never an exception."""
        try:
            # Uplinks are nearly all the traffic: a well-formed PUSH_DATA header skips
            # parse_header (12 bytes here is what its length checks would accept).
            if 12 <= len(data) <= MAX_DATAGRAM and data[3] == _PUSH_DATA and 1 <= data[0] <= 2:
                self._push_data(
                    data, address, data[0], data[1] | (data[2] << 8), now_ns=now_ns, wall_ns=wall_ns
                )
                return
            version, token, packet_type = parse_header(data)
            if packet_type is PacketType.PUSH_DATA:
                self._push_data(data, address, version, token, now_ns=now_ns, wall_ns=wall_ns)
            elif packet_type is PacketType.PULL_DATA:
                self._pull_data(data, address, version, token, now_ns)
            elif packet_type is PacketType.TX_ACK:
                self._tx_ack(data, now_ns)
            else:
                self.count_drop(DropReason.UNEXPECTED_TYPE, f"{packet_type.name} from a gateway")
        except PacketError as error:
            self.count_drop(error.reason, f"from {address}: {error}")

    def _gateway(self, raw_id: bytes, address: Address, version: int, now_ns: int) -> _Gateway:
        gateway = self._gateways.get(raw_id)
        if gateway is not None:
            gateway.last_seen_ns = now_ns
            return gateway
        if self._allowed and raw_id not in self._allowed:
            raise PacketError(DropReason.UNKNOWN_GATEWAY, f"gateway {raw_id.hex()} not allowed")
        if len(self._gateways) >= self.config.max_gateways:
            raise PacketError(DropReason.TOO_MANY_GATEWAYS, f"gateway {raw_id.hex()} refused")
        gateway = _Gateway(EUI64(raw_id), version, now_ns)
        self._gateways[raw_id] = gateway
        if self._sweep_at is None:
            self._sweep_at = now_ns + self.config.disconnect_after_ns
        self._events.append(
            GatewayConnected(gateway.gateway_id, self.config.backend_name, _remote(address))
        )
        return gateway

    def _push_data(
        self, data: bytes, address: Address, version: int, token: int, *, now_ns: int, wall_ns: int
    ) -> None:
        if len(data) < 12:
            raise PacketError(DropReason.TRUNCATED, f"PUSH_DATA of {len(data)} bytes")
        gateway = self._gateway(data[4:12], address, version, now_ns)
        document = _json_object(data)
        # Acknowledge first, as the protocol asks: the forwarder's ackr measures the link.
        # (PUSH_ACK is the header with the type changed: PushAck(version, token).encode().)
        self._outgoing.append((bytes((version, data[1], data[2], PacketType.PUSH_ACK)), address))
        stat = document.get("stat")
        location = self._location(stat) if stat is not None else None
        rxpk = document.get("rxpk")
        if rxpk is not None:
            if isinstance(rxpk, list):
                self._uplinks(rxpk, gateway, location, wall_ns)
            else:
                self.count_drop(DropReason.BAD_RXPK, "rxpk is not a list")
        if stat is not None:
            try:
                self._events.append(stats_from_stat(stat, gateway.gateway_id))
            except PacketError as error:
                self.count_drop(error.reason, error)

    def _location(self, stat: object) -> Location | None:
        try:
            return location_of(stat)
        except PacketError:
            return None  # counted once, as bad_stat, when the stats are converted

    def _uplinks(
        self, entries: list[Any], gateway: _Gateway, location: Location | None, wall_ns: int
    ) -> None:
        forward_all = self.config.forward_crc_errors
        for entry in entries:
            # rxpk.crc_status_of, inline: only "stat": 1 (an int, not 1.0 or true) is CRC_OK.
            if not forward_all and not (
                isinstance(entry, dict) and type(stat := entry.get("stat")) is int and stat == 1
            ):
                self.count_drop(DropReason.CRC_NOT_OK, "rxpk without a good CRC")
                continue
            self._uplink_id = (self._uplink_id + 1) & 0xFFFF_FFFF
            try:
                frames = uplinks_from_rxpk(
                    entry,
                    gateway.gateway_id,
                    uplink_id=self._uplink_id,
                    ns_time_ns=wall_ns,
                    widener=gateway.widener,
                    location=location,
                )
            except PacketError as error:
                self.count_drop(error.reason, error)
                continue
            self._events.extend(frames)

    def _pull_data(
        self, data: bytes, address: Address, version: int, token: int, now_ns: int
    ) -> None:
        if len(data) != 12:
            reason = DropReason.TRUNCATED if len(data) < 12 else DropReason.BAD_LENGTH
            raise PacketError(reason, f"PULL_DATA of {len(data)} bytes")
        gateway = self._gateway(data[4:12], address, version, now_ns)
        # Downlinks follow the latest PULL_DATA: NAT mappings and forwarder restarts move it.
        gateway.pull_address = address
        gateway.version = version
        self._outgoing.append((PullAck(version, token).encode(), address))

    def _tx_ack(self, data: bytes, now_ns: int) -> None:
        if len(data) < 12:
            raise PacketError(DropReason.TRUNCATED, f"TX_ACK of {len(data)} bytes")
        token = data[1] | (data[2] << 8)
        job = self._pending.get(token)
        if job is None or bytes(job.gateway.gateway_id) != data[4:12]:
            raise PacketError(DropReason.UNEXPECTED_TX_ACK, f"no downlink has token {token}")
        status = tx_ack_status(data[12:])  # unreadable JSON: dropped, the downlink times out
        del self._pending[token]
        job.gateway.in_flight -= 1
        known = self._gateways.get(data[4:12])
        if known is not None:
            known.last_seen_ns = now_ns
        job.statuses[job.index] = status
        if status is TxAckStatus.OK:
            self._complete(job)
        else:
            self._transmit(job, job.index + 1, now_ns)

    # -- downlinks ---------------------------------------------------------------------------

    def send_downlink(self, frame: DownlinkFrame, now_ns: int) -> int:
        """Start transmitting ``frame``; its ``DownlinkResult`` (same handle) comes out later,
        or at once when nothing awaits a TX_ACK."""
        self._handle += 1
        handle = self._handle
        gateway = self._gateways.get(bytes(frame.gateway_id))
        if gateway is None or gateway.pull_address is None:
            # No PULL_DATA, no route to the gateway: none of the items could be tried.
            self._finish(handle, frame, [TxAckStatus.INTERNAL_ERROR] * len(frame.items))
        elif gateway.in_flight >= self.config.max_pending_per_gateway:
            self._finish(handle, frame, [TxAckStatus.QUEUE_FULL] * len(frame.items))
        else:
            self._transmit(_Downlink(handle, frame, gateway), 0, now_ns)
        return handle

    def _transmit(self, job: _Downlink, start: int, now_ns: int) -> None:
        gateway = job.gateway
        for index in range(start, len(job.frame.items)):
            if (
                gateway.pull_address is None
                or self._gateways.get(bytes(gateway.gateway_id)) is not gateway
            ):
                job.statuses[index] = TxAckStatus.INTERNAL_ERROR  # disconnected meanwhile
                continue
            if len(self._pending) >= 0x10000:
                job.statuses[index] = TxAckStatus.QUEUE_FULL  # every token awaits a TX_ACK
                continue
            try:
                payload = txpk_json(
                    job.frame.items[index], lorawan_flags=self.config.lorawan_downlink_flags
                )
            except DownlinkEncodeError as error:
                logger.debug(
                    "semtech-udp: downlink %d item %d: %s", job.frame.downlink_id, index, error
                )
                job.statuses[index] = error.status
                continue
            token = self._next_token()
            packet = PullResp(gateway.version, token, payload).encode()
            self._outgoing.append((packet, gateway.pull_address))
            if gateway.version < 2:
                # Version 1 forwarders never acknowledge: sent is as good as it gets.
                job.statuses[index] = TxAckStatus.OK
                break
            job.index, job.token = index, token
            job.deadline_ns = now_ns + self.config.tx_ack_timeout_ns
            self._pending[token] = job
            gateway.in_flight += 1
            heapq.heappush(self._deadlines, (job.deadline_ns, token, job.handle))
            return
        self._complete(job)

    def _next_token(self) -> int:
        # A free token exists: _transmit checks that fewer than 65,536 are pending.
        self._token = (self._token + 1) & 0xFFFF
        while self._token in self._pending:
            self._token = (self._token + 1) & 0xFFFF
        return self._token

    def _complete(self, job: _Downlink) -> None:
        self._finish(job.handle, job.frame, job.statuses)

    def _finish(self, handle: int, frame: DownlinkFrame, statuses: list[TxAckStatus]) -> None:
        ack = DownlinkTxAck(frame.gateway_id, frame.downlink_id, tuple(statuses))
        self._events.append(DownlinkResult(handle, ack))

    # -- time --------------------------------------------------------------------------------

    def handle_timers(self, now_ns: int) -> None:
        """Expire TX_ACK waits and disconnect silent gateways."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now_ns:
            deadline, token, handle = heapq.heappop(deadlines)
            job = self._pending.get(token)
            if job is None or job.handle != handle or job.deadline_ns != deadline:
                continue  # answered already
            del self._pending[token]
            job.gateway.in_flight -= 1
            # No TX_ACK: the PULL_RESP or its ack was lost, or the gateway is gone. The item
            # may still have been sent, so the next one is not tried (it could go out twice).
            job.statuses[job.index] = TxAckStatus.INTERNAL_ERROR
            logger.debug("semtech-udp: no TX_ACK for downlink %d", job.frame.downlink_id)
            self._complete(job)
        if self._sweep_at is not None and now_ns >= self._sweep_at:
            self._sweep(now_ns)

    def _sweep(self, now_ns: int) -> None:
        silence = self.config.disconnect_after_ns
        for raw_id, gateway in list(self._gateways.items()):
            if now_ns - gateway.last_seen_ns >= silence:
                del self._gateways[raw_id]
                self._events.append(
                    GatewayDisconnected(
                        gateway.gateway_id,
                        self.config.backend_name,
                        f"no datagram for {silence / _NS_PER_S:g} s",
                    )
                )
        oldest = min((g.last_seen_ns for g in self._gateways.values()), default=None)
        self._sweep_at = None if oldest is None else oldest + silence

    def abort_downlinks(self) -> None:
        """Finish every downlink awaiting a TX_ACK as INTERNAL_ERROR (when shutting down)."""
        jobs = list(self._pending.values())
        self._pending.clear()
        self._deadlines.clear()
        for job in jobs:
            job.gateway.in_flight -= 1
            job.statuses[job.index] = TxAckStatus.INTERNAL_ERROR
            self._complete(job)
