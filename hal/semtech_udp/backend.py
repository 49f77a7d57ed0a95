"""The asyncio adapter: one UDP socket around ``SemtechUDPCore``.

It owns the socket and the clocks, feeds the core, sends what the core wants sent and hands
events to the consumer through a bounded queue. The socket handler never waits: a full queue or
send buffer drops and counts, so a slow consumer or a vanished gateway cannot stall the others.

The socket is read with ``loop.add_reader`` rather than a datagram transport: asyncio's
transport takes one datagram per wake-up, while draining a batch per wake-up (and sending the
acknowledgements after it) is what lets one core keep up with a busy forwarder fleet
(bench/semtech_udp.py). It needs a selector event loop, the default on Linux, as does uvloop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final

from hal.backend import BackendError
from hal.model import (
    BackendEvent,
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConfiguration,
    TxAckStatus,
)
from hal.semtech_udp.core import DownlinkResult, SemtechUDPCore
from hal.semtech_udp.options import SemtechUDPOptions, parse_bind
from hal.semtech_udp.packets import DropReason

logger = logging.getLogger(__name__)

BACKEND_NAME: Final = "semtech-udp"
# The timer task re-reads the injected clock at least this often, so a fake clock advanced by a
# test is noticed without the test sleeping for the real duration.
_MAX_TIMER_SLEEP_S: Final = 1.0
_BATCH: Final = 64  # datagrams read per wake-up before the loop serves others


class SemtechUDPBackend:
    """``hal.backend.Backend`` for Semtech UDP packet forwarders."""

    def __init__(
        self,
        options: Mapping[str, Any] | SemtechUDPOptions | None = None,
        *,
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if isinstance(options, SemtechUDPOptions):
            self.options = options
        else:
            self.options = SemtechUDPOptions.from_mapping(options or {})
        self._clock = clock
        self._wall_clock = wall_clock
        self._core = SemtechUDPCore(self.options.core_config(BACKEND_NAME))
        self._socket: socket.socket | None = None
        self._queue: asyncio.Queue[BackendEvent | None] = asyncio.Queue()
        self._waiters: dict[int, asyncio.Future[DownlinkTxAck]] = {}
        self._drops: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._timer_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._receive_buffer = 0

    @property
    def name(self) -> str:
        return BACKEND_NAME

    @property
    def local_address(self) -> tuple[str, int]:
        """The bound address (the port is the real one when ``bind`` asked for port 0)."""
        if self._socket is None:
            raise BackendError("semtech-udp is not started")
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def port(self) -> int:
        return self.local_address[1]

    @property
    def receive_buffer_bytes(self) -> int:
        """The socket receive buffer the kernel granted (0 before ``start``), in the units of
        the ``receive_buffer_bytes`` option: Linux reports double, for its bookkeeping."""
        return self._receive_buffer

    @property
    def core(self) -> SemtechUDPCore:
        """The protocol state (gateways, pull addresses), for inspection."""
        return self._core

    @property
    def drop_counts(self) -> Mapping[str, int]:
        counts = dict(self._core.drop_counts)
        for reason, count in self._drops.items():
            counts[reason] = counts.get(reason, 0) + count
        return counts

    async def start(self) -> None:
        if self._socket is not None or self._stopped:
            raise BackendError("semtech-udp can be started once")
        host, port = parse_bind(self.options.bind)
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            self._receive_buffer = _set_receive_buffer(sock, self.options.receive_buffer_bytes)
            sock.bind((host, port))
            loop.add_reader(sock.fileno(), self._readable, sock)
        except (OSError, NotImplementedError) as error:
            sock.close()
            raise BackendError(f"semtech-udp cannot bind {self.options.bind}: {error}") from error
        self._socket = sock
        self._timer_task = asyncio.create_task(self._timers(), name="semtech-udp timers")
        logger.info("semtech-udp: listening on %s:%d", *self.local_address)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
        self._core.abort_downlinks()
        self._flush()
        if self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
        self._queue.put_nowait(None)  # unbounded underneath, so the end marker always fits

    def events(self) -> AsyncIterator[BackendEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[BackendEvent]:
        queue = self._queue
        while not (self._stopped and queue.empty()):
            # Events come in batches (one per socket wake-up): take what is there without
            # the coroutine of get() per event.
            event = queue.get_nowait() if queue.qsize() else await queue.get()
            if event is None:
                return
            yield event

    async def send_downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        if self._socket is None or self._stopped:
            statuses = (TxAckStatus.INTERNAL_ERROR,) * len(frame.items)
            return DownlinkTxAck(frame.gateway_id, frame.downlink_id, statuses)
        future: asyncio.Future[DownlinkTxAck] = asyncio.get_running_loop().create_future()
        handle = self._core.send_downlink(frame, self._clock())
        self._waiters[handle] = future
        self._flush()
        self._wake.set()  # a TX_ACK deadline may now be the next timer
        try:
            return await future
        finally:
            self._waiters.pop(handle, None)

    async def configure(self, configuration: GatewayConfiguration) -> None:
        # GWMP has no configuration message: the channel plan lives in the forwarder's
        # global_conf.json. Accepting (rather than failing) lets mixed deployments share config.
        logger.info(
            "semtech-udp: gateway %s keeps its own channel plan (configuration %s not sent)",
            configuration.gateway_id,
            configuration.version,
        )

    def run_timers(self) -> None:
        """Expire what is due by the injected clock now (the timer task calls this too)."""
        self._core.handle_timers(self._clock())
        self._flush()

    async def _timers(self) -> None:
        while True:
            self._wake.clear()
            due = self._core.next_timer()
            delay = _MAX_TIMER_SLEEP_S
            if due is not None:
                delay = min(max((due - self._clock()) / 1e9, 0.0), _MAX_TIMER_SLEEP_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            try:
                self.run_timers()
            except Exception:  # a bug must not end the timers of every gateway
                logger.exception("semtech-udp: timer handling failed")

    def _readable(self, sock: socket.socket) -> None:
        core, clock, wall_clock = self._core, self._clock, self._wall_clock
        for _ in range(_BATCH):
            try:
                # 65,535 so an oversized (IPv6) datagram is seen whole and counted, not cut.
                data, address = sock.recvfrom(65_535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as error:  # e.g. an ICMP error queued on the socket
                logger.debug("semtech-udp: receive error %s", error)
                continue
            try:
                core.datagram_received(data, address, clock(), wall_clock())
            except Exception:  # the core raises nothing by design; a bug costs one datagram
                self._count(DropReason.INTERNAL_ERROR)
                logger.exception("semtech-udp: datagram from %s failed", address)
        self._flush()

    def _count(self, reason: DropReason) -> None:
        self._drops[reason.value] = self._drops.get(reason.value, 0) + 1

    def _flush(self) -> None:
        sock = self._socket
        for data, address in self._core.datagrams_to_send():
            if sock is None or sock.fileno() < 0:
                continue
            try:
                sock.sendto(data, address)
            except (BlockingIOError, InterruptedError):
                self._count(DropReason.SEND_BUFFER_FULL)  # never wait for one gateway
            except OSError as error:  # unreachable network, address family mismatch...
                logger.debug("semtech-udp: cannot send to %s: %s", address, error)
        limit = self.options.max_queue
        for event in self._core.events_to_deliver():
            if isinstance(event, DownlinkResult):
                waiter = self._waiters.get(event.handle)
                if waiter is not None and not waiter.done():
                    waiter.set_result(event.ack)
            elif self._queue.qsize() >= limit:
                self._count(DropReason.EVENT_QUEUE_FULL)
            else:
                self._queue.put_nowait(event)


def _set_receive_buffer(sock: socket.socket, wanted: int) -> int:
    """Ask for ``wanted`` bytes of receive buffer; say once, at start, when the kernel gives
    less. Returns what it gave."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, wanted)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if sys.platform.startswith("linux"):
        granted //= 2  # Linux doubles the value asked, for its bookkeeping, and reports that
    if granted < wanted:
        logger.warning(
            "semtech-udp: the kernel gave a receive buffer of %d bytes of the %d asked "
            "(receive_buffer_bytes); bursts beyond it are dropped unseen while the appliance "
            "is busy. Linux caps it at net.core.rmem_max: sysctl -w net.core.rmem_max=%d",
            granted,
            wanted,
            wanted,
        )
    return granted
