"""The gateways of the load: one UDP socket each, PUSH_DATA at a steady rate, PULL_RESP answered.

Blocking work is kept out of the sending loop: frames are built beforehand (``fleet.Traffic``),
each datagram is sent when it is due on the monotonic clock (the clock every process on the
machine shares, so another process's timestamps compare), and what the appliance sends back is
only timestamped and kept; downlinks are decoded after the run (``downlinks.check``). A
PULL_RESP is answered with its TX_ACK at once, as a forwarder whose concentrator accepted it.

A datagram's arrival time is the kernel's (``SO_TIMESTAMPNS``), not the moment this loop got
round to reading it: the loop also samples the appliance (``/proc``, ``/metrics``), which
takes up to about 10 ms, and a PULL_RESP that waited for that would be charged to the
appliance's ACK latency.
"""

from __future__ import annotations

import json
import selectors
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from bench.system.fleet import PROTOCOL_VERSION, Frame, gateway_id
from hal.semtech_udp.packets import PacketType, PullData, TxAck

KEEPALIVE_NS: Final = 5_000_000_000  # PULL_DATA period, as lora_pkt_fwd's keepalive_interval
_BURST: Final = 32  # datagrams sent before the sockets are read again
_TX_ACK_OK: Final = json.dumps({"txpk_ack": {"error": "NONE"}}).encode()
_RECEIVE_BUFFER: Final = 4 * 1024 * 1024
# Linux's SO_TIMESTAMPNS (asm-generic, so x86 and ARM alike; Python does not name it): every
# datagram read with recvmsg carries the CLOCK_REALTIME moment it arrived, as a timespec.
_SO_TIMESTAMPNS: Final = 35
_TIMESPEC: Final = struct.Struct("@qq")
_CONTROL_SPACE: Final = socket.CMSG_SPACE(_TIMESPEC.size)


def arrival_ns(ancillary: list[tuple[int, int, bytes]]) -> int:
    """When the datagram with this ancillary data arrived, on the monotonic clock: its kernel
    timestamp moved from the wall clock by their offset now (never later than now), or now
    when it has none."""
    now = time.monotonic_ns()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            wall_offset = time.time_ns() - now
            return min(seconds * 1_000_000_000 + nanoseconds - wall_offset, now)
    return now


@dataclass(slots=True)
class PullResp:
    received_ns: int
    gateway: int
    payload: bytes  # the JSON with its txpk


@dataclass(slots=True)
class Sent:
    """What the gateways did during one run of frames."""

    frames: list[Frame]
    sent_ns: list[int] = field(default_factory=list)  # per frame, when its first copy left
    started_ns: int = 0
    finished_ns: int = 0

    @property
    def seconds(self) -> float:
        return (self.finished_ns - self.started_ns) / 1e9


class Gateways:
    def __init__(self, server: tuple[str, int], count: int) -> None:
        self.server = server
        self.sockets: list[socket.socket] = []
        self.selector = selectors.DefaultSelector()
        for index in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            sock.connect(server)
            sock.setblocking(False)
            self.sockets.append(sock)
            self.selector.register(sock, selectors.EVENT_READ, index)
        self.push_acks = 0
        self.pull_acks = 0
        self.pull_resps: list[PullResp] = []
        self.refused = 0  # ICMP port unreachable: nothing listening (the appliance is down)
        self._token = 0
        self._next_pull_ns = 0

    def close(self) -> None:
        self.selector.close()
        for sock in self.sockets:
            sock.close()

    def _send(self, index: int, datagram: bytes) -> None:
        try:
            self.sockets[index].send(datagram)
        except ConnectionRefusedError:
            self.refused += 1
        except BlockingIOError:
            pass  # the local send buffer is full: the datagram is lost, as on a busy link

    def pull(self) -> None:
        """PULL_DATA from every gateway (the downlink path; the appliance answers PULL_ACK)."""
        for index in range(len(self.sockets)):
            self._token = (self._token + 1) & 0xFFFF
            self._send(index, PullData(PROTOCOL_VERSION, self._token, gateway_id(index)).encode())
        self._next_pull_ns = time.monotonic_ns() + KEEPALIVE_NS

    def poll(self, timeout_s: float) -> None:
        """Read what arrived (waiting up to ``timeout_s``); answers PULL_RESP with TX_ACK."""
        for key, _ in self.selector.select(timeout_s):
            index: int = key.data
            sock = self.sockets[index]
            while True:
                try:
                    data, ancillary, _, _ = sock.recvmsg(65_535, _CONTROL_SPACE)
                except BlockingIOError:
                    break
                except ConnectionRefusedError:
                    self.refused += 1
                    continue
                self._received(index, data, ancillary)
        if time.monotonic_ns() >= self._next_pull_ns:
            self.pull()

    def _received(self, index: int, data: bytes, ancillary: list[tuple[int, int, bytes]]) -> None:
        if len(data) < 4:
            return
        kind = data[3]
        if kind == PacketType.PUSH_ACK:
            self.push_acks += 1
        elif kind == PacketType.PULL_ACK:
            self.pull_acks += 1
        elif kind == PacketType.PULL_RESP:
            self.pull_resps.append(PullResp(arrival_ns(ancillary), index, data[4:]))
            token = int.from_bytes(data[1:3], "little")
            self._send(
                index, TxAck(PROTOCOL_VERSION, token, gateway_id(index), _TX_ACK_OK).encode()
            )

    def wait_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Keep answering until ``done()`` or the timeout; whether ``done()`` came true."""
        deadline = time.monotonic() + timeout_s
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.poll(min(remaining, 0.05))
        return True

    def play(
        self,
        frames: Sequence[Frame],
        rate: float,
        *,
        tick: Callable[[], None] | None = None,
        tick_every_s: float = 0.5,
    ) -> Sent:
        """Send ``frames`` at ``rate`` per second, each when it is due; ``tick`` runs every
        ``tick_every_s`` (sampling, progress) between sends."""
        sent = Sent(list(frames))
        period_ns = 1e9 / rate
        start = time.monotonic_ns()
        sent.started_ns = start
        next_tick = start
        stamps = sent.sent_ns
        total = len(frames)
        k = 0
        while k < total:
            now = time.monotonic_ns()
            burst = 0
            while k < total and start + k * period_ns <= now and burst < _BURST:
                stamps.append(time.monotonic_ns())
                for gateway, datagram in frames[k].datagrams:
                    self._send(gateway, datagram)
                k += 1
                burst += 1
            if tick is not None and now >= next_tick:
                tick()
                next_tick = now + int(tick_every_s * 1e9)
            wait = 0.0
            if k < total:
                wait = max(start + k * period_ns - time.monotonic_ns(), 0) / 1e9
            self.poll(wait)
        sent.finished_ns = time.monotonic_ns()
        return sent
