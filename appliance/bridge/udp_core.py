"""The packet-forwarder side of Semtech UDP (GWMP v2) as a sans-IO state machine.

Datagrams and ``now`` in, datagrams (per gateway: each gateway has its own socket, because a
PULL_RESP does not name its gateway) and events out. The link is *up* for a gateway once a
PULL_ACK arrived, and *down* when no acknowledgement at all (PUSH_ACK or PULL_ACK) arrived for
``down_after_ns``, or when a PUSH_DATA stays unacknowledged after its retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from appliance.lorawan.identifiers import EUI64
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

logger = logging.getLogger("appliance.bridge")

VERSION: Final = 2  # TX_ACK exists from version 2 on


@dataclass(frozen=True, slots=True)
class PushDone:
    handle: int
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class PullResponse:
    gateway_id: EUI64
    version: int
    token: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class LinkUp:
    gateway_id: EUI64


@dataclass(frozen=True, slots=True)
class LinkDown:
    gateway_id: EUI64
    reason: str


ClientEvent = PushDone | PullResponse | LinkUp | LinkDown


@dataclass(frozen=True, slots=True)
class ClientTimings:
    keepalive_ns: int = 10_000_000_000
    ack_timeout_ns: int = 2_000_000_000
    push_retries: int = 2
    down_after_ns: int = 30_000_000_000


class _Push:
    __slots__ = ("attempts", "deadline_ns", "handle", "payload")

    def __init__(self, handle: int, payload: bytes, deadline_ns: int) -> None:
        self.handle = handle
        self.payload = payload
        self.attempts = 1
        self.deadline_ns = deadline_ns


class _Gateway:
    __slots__ = (
        "acked",
        "failed",
        "gateway_id",
        "last_ack_ns",
        "next_pull_ns",
        "pushed",
        "pushes",
        "up",
    )

    def __init__(self, gateway_id: EUI64, now_ns: int) -> None:
        self.gateway_id = gateway_id
        self.up = False
        self.failed = False
        self.last_ack_ns = now_ns
        self.next_pull_ns = now_ns
        self.pushes: dict[int, _Push] = {}  # by token
        self.pushed = 0  # PUSH_DATA sent, retries included (for the ackr statistic)
        self.acked = 0


class UDPClientCore:
    def __init__(self, gateway_ids: Sequence[EUI64], timings: ClientTimings, now_ns: int) -> None:
        self.timings = timings
        self._gateways = {gateway_id: _Gateway(gateway_id, now_ns) for gateway_id in gateway_ids}
        self._outgoing: list[tuple[EUI64, bytes]] = []
        self._events: list[ClientEvent] = []
        self._drops: dict[str, int] = {}
        self._token = 0
        self._handle = 0
        # How long a new session waits for its first PULL_ACK: every retry of one PULL_DATA.
        self._connect_window_ns = timings.ack_timeout_ns * (timings.push_retries + 1)
        self.handle_timers(now_ns)  # the first PULL_DATA of every gateway

    # -- outputs -----------------------------------------------------------------------------

    def datagrams_to_send(self) -> list[tuple[EUI64, bytes]]:
        out, self._outgoing = self._outgoing, []
        return out

    def events_to_deliver(self) -> list[ClientEvent]:
        out, self._events = self._events, []
        return out

    @property
    def drop_counts(self) -> Mapping[str, int]:
        return dict(self._drops)

    def is_up(self, gateway_id: EUI64) -> bool:
        gateway = self._gateways.get(gateway_id)
        return gateway is not None and gateway.up

    def all_up(self) -> bool:
        return all(gateway.up for gateway in self._gateways.values())

    def ack_ratio(self, gateway_id: EUI64) -> float:
        gateway = self._gateways[gateway_id]
        return 1.0 if not gateway.pushed else min(1.0, gateway.acked / gateway.pushed)

    def next_timer(self) -> int:
        times = []
        for gateway in self._gateways.values():
            times.append(gateway.next_pull_ns)
            times.extend(push.deadline_ns for push in gateway.pushes.values())
            window = self.timings.down_after_ns if gateway.up else self._connect_window_ns
            if not gateway.failed:
                times.append(gateway.last_ack_ns + window)
        return min(times)

    # -- inputs ------------------------------------------------------------------------------

    def push(self, gateway_id: EUI64, payload: bytes, now_ns: int) -> int:
        """Send a PUSH_DATA; its ``PushDone`` (same handle) comes when acknowledged or given up."""
        gateway = self._gateways[gateway_id]
        self._handle += 1
        push = _Push(self._handle, payload, now_ns + self.timings.ack_timeout_ns)
        self._send_push(gateway, push)
        return push.handle

    def _send_push(self, gateway: _Gateway, push: _Push) -> None:
        token = self._next_token()
        gateway.pushes[token] = push
        gateway.pushed += 1
        packet = PushData(VERSION, token, gateway.gateway_id, push.payload).encode()
        self._outgoing.append((gateway.gateway_id, packet))

    def tx_ack(self, gateway_id: EUI64, token: int, payload: bytes) -> None:
        packet = TxAck(VERSION, token, gateway_id, payload).encode()
        self._outgoing.append((gateway_id, packet))

    def _next_token(self) -> int:
        self._token = (self._token + 1) & 0xFFFF
        return self._token

    def _drop(self, reason: str, detail: object) -> None:
        self._drops[reason] = self._drops.get(reason, 0) + 1
        logger.debug("bridge semtech-udp: dropped (%s) %s", reason, detail)

    def datagram_received(self, gateway_id: EUI64, data: bytes, now_ns: int) -> None:
        """One datagram from the server on ``gateway_id``'s socket; problems are counted."""
        gateway = self._gateways.get(gateway_id)
        if gateway is None:
            return
        try:
            packet = parse_packet(data)
        except PacketError as error:
            self._drop(error.reason.value, error)
            return
        if isinstance(packet, PushAck):
            push = gateway.pushes.pop(packet.token, None)
            if push is None:
                self._drop("unexpected_ack", f"PUSH_ACK token {packet.token}")
                return
            gateway.acked += 1
            self._acknowledged(gateway, now_ns)
            self._events.append(PushDone(push.handle, acknowledged=True))
        elif isinstance(packet, PullAck):
            self._acknowledged(gateway, now_ns)
        elif isinstance(packet, PullResp):
            self._events.append(
                PullResponse(gateway_id, packet.version, packet.token, packet.payload)
            )
        else:
            self._drop("unexpected_type", type(packet).__name__)

    def _acknowledged(self, gateway: _Gateway, now_ns: int) -> None:
        gateway.last_ack_ns = now_ns
        if not gateway.up:
            gateway.up = True
            gateway.next_pull_ns = now_ns + self.timings.keepalive_ns
            self._events.append(LinkUp(gateway.gateway_id))

    # -- time --------------------------------------------------------------------------------

    def handle_timers(self, now_ns: int) -> None:
        timings = self.timings
        for gateway in self._gateways.values():
            for token, push in list(gateway.pushes.items()):
                if push.deadline_ns > now_ns:
                    continue
                del gateway.pushes[token]
                if push.attempts <= timings.push_retries:
                    push.attempts += 1
                    push.deadline_ns = now_ns + timings.ack_timeout_ns
                    self._send_push(gateway, push)  # a new token: a late ack of the old one is
                    continue  # no proof this copy arrived
                self._events.append(PushDone(push.handle, acknowledged=False))
                self._down(gateway, f"no PUSH_ACK after {push.attempts} attempts")
            silence = now_ns - gateway.last_ack_ns
            if gateway.up and silence >= timings.down_after_ns:
                self._down(gateway, f"no acknowledgement for {timings.down_after_ns / 1e9:g} s")
            elif not gateway.up and silence >= self._connect_window_ns:
                self._down(gateway, f"no PULL_ACK within {self._connect_window_ns / 1e9:g} s")
            if now_ns >= gateway.next_pull_ns:
                packet = PullData(VERSION, self._next_token(), gateway.gateway_id).encode()
                self._outgoing.append((gateway.gateway_id, packet))
                # Until the server answers, ask again at the acknowledgement timeout.
                interval = timings.keepalive_ns if gateway.up else timings.ack_timeout_ns
                gateway.next_pull_ns = now_ns + interval

    def _down(self, gateway: _Gateway, reason: str) -> None:
        """Report the link down once; the owner then ends the session (and this core)."""
        gateway.up = False
        if not gateway.failed:
            gateway.failed = True
            self._events.append(LinkDown(gateway.gateway_id, reason))
