"""The appliance as a Semtech UDP packet forwarder of a central network server.

One UDP socket per gateway ID (the server sends a gateway's PULL_RESP to the address its
PULL_DATA came from, and a PULL_RESP does not name the gateway). ``UDPClientCore`` holds the
protocol; this adapter owns the sockets and the clock. Uplinks are sent as PUSH_DATA with up to
``RXPK_PER_PUSH`` entries, one datagram at a time, each waiting for its PUSH_ACK: order is kept,
and a batch counts as sent only when every datagram was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from appliance.bridge.config import SemtechUDPSettings
from appliance.bridge.counters import BridgeCounters, Reporter
from appliance.bridge.link import CommandSink, LinkError
from appliance.bridge.outbox import UpstreamUplink
from appliance.bridge.udp_core import (
    ClientTimings,
    LinkDown,
    LinkUp,
    PullResponse,
    PushDone,
    UDPClientCore,
)
from appliance.bridge.udp_json import (
    TxpkError,
    downlink_item,
    push_payload,
    rxpk,
    stat,
    tx_ack_payload,
)
from appliance.bridge.udp_timing import TimingMap
from appliance.lorawan.identifiers import EUI64
from hal.model import DownlinkFrame, GatewayStats, TxAckStatus

logger = logging.getLogger("appliance.bridge")

RXPK_PER_PUSH: Final = 16
_MAX_PUSH_BYTES: Final = 8_192  # well below the forwarders' own buffers and any MTU trouble
_MAX_TIMER_SLEEP_S: Final = 1.0  # re-read the (possibly fake) clock at least this often
_MAX_DOWNLINKS: Final = 32
_NS_PER_MS: Final = 1_000_000


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, link: SemtechUDPLink, gateway_id: EUI64) -> None:
        self._link = link
        self._gateway_id = gateway_id

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._link.datagram_received(self._gateway_id, data)

    def error_received(self, exc: Exception) -> None:
        # e.g. ICMP port unreachable while the server is down; the missing acks say the rest.
        logger.debug("bridge semtech-udp: socket error %s", exc)


class SemtechUDPLink:
    def __init__(
        self,
        settings: SemtechUDPSettings,
        gateway_ids: Sequence[EUI64],
        *,
        counters: BridgeCounters,
        reporter: Reporter,
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.settings = settings
        self.gateway_ids = tuple(gateway_ids)
        self.counters = counters
        self.reporter = reporter
        self._clock = clock
        self._wall_clock = wall_clock
        self.timings = ClientTimings(
            keepalive_ns=settings.keepalive_s * 1_000_000_000,
            ack_timeout_ns=settings.ack_timeout_ms * _NS_PER_MS,
            push_retries=settings.push_retries,
            down_after_ns=settings.down_after_s * 1_000_000_000,
        )
        # Kept across sessions: a downlink may answer an uplink sent before a reconnect.
        self.timing_maps = {gateway_id: TimingMap() for gateway_id in self.gateway_ids}
        self._session: UDPSession | None = None
        self._downlink_id = 0

    def describe(self) -> str:
        return f"semtech-udp {self.settings.server}"

    def datagram_received(self, gateway_id: EUI64, data: bytes) -> None:
        if self._session is not None:
            self._session.datagram_received(gateway_id, data)

    def run_timers(self) -> None:
        """Handle what is due by the injected clock now (the timer task does this too)."""
        if self._session is not None:
            self._session.run_timers()

    def next_downlink_id(self) -> int:
        self._downlink_id = (self._downlink_id + 1) & 0xFFFF_FFFF
        return self._downlink_id

    async def _resolve(self) -> tuple[Any, ...]:
        settings = self.settings
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                settings.host, settings.port, type=socket.SOCK_DGRAM
            )
        except OSError as error:
            raise LinkError("dns", f"cannot resolve {settings.host}: {error}") from None
        return tuple(infos[0][4])

    @asynccontextmanager
    async def session(self, commands: CommandSink) -> AsyncIterator[UDPSession]:
        address = await self._resolve()
        loop = asyncio.get_running_loop()
        transports: dict[EUI64, asyncio.DatagramTransport] = {}
        session = UDPSession(self, commands, transports)
        try:
            for gateway_id in self.gateway_ids:
                try:
                    transport, _ = await loop.create_datagram_endpoint(
                        functools.partial(_Socket, self, gateway_id), remote_addr=address[:2]
                    )
                except OSError as error:
                    raise LinkError(
                        "refused", f"cannot open a socket to {address}: {error}"
                    ) from None
                transports[gateway_id] = transport
            self._session = session
            await session.connect()
            yield session
        finally:
            self._session = None
            await session.close()
            for transport in transports.values():
                transport.close()


class UDPSession:
    def __init__(
        self,
        link: SemtechUDPLink,
        commands: CommandSink,
        transports: dict[EUI64, asyncio.DatagramTransport],
    ) -> None:
        self._link = link
        self._commands = commands
        self._transports = transports
        self._clock = link._clock
        self._core = UDPClientCore(link.gateway_ids, link.timings, self._clock())
        self._waiters: dict[int, asyncio.Future[bool]] = {}
        self._lost: asyncio.Future[LinkError] = asyncio.get_running_loop().create_future()
        self._up = asyncio.Event()
        self._wake = asyncio.Event()
        self._timer_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sending = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        self._timer_task = asyncio.create_task(self._timers(), name="bridge udp timers")
        self._flush()
        up = asyncio.ensure_future(self._up.wait())
        try:
            await asyncio.wait((up, self._lost), return_when=asyncio.FIRST_COMPLETED)
        finally:
            up.cancel()
        if self._lost.done():
            raise self._lost.result()

    async def close(self) -> None:
        tasks = [task for task in (self._timer_task, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_result(False)

    async def say_goodbye(self) -> None:
        """GWMP has no goodbye: the server notices the missing PULL_DATA."""

    # -- protocol driving --------------------------------------------------------------------

    def datagram_received(self, gateway_id: EUI64, data: bytes) -> None:
        self._core.datagram_received(gateway_id, data, self._clock())
        self._flush()

    def run_timers(self) -> None:
        self._core.handle_timers(self._clock())
        self._flush()

    async def _timers(self) -> None:
        while True:
            self._wake.clear()
            delay = (self._core.next_timer() - self._clock()) / 1e9
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(max(delay, 0.0), _MAX_TIMER_SLEEP_S)):
                    await self._wake.wait()
            self.run_timers()

    def _flush(self) -> None:
        for gateway_id, data in self._core.datagrams_to_send():
            transport = self._transports.get(gateway_id)
            if transport is not None and not transport.is_closing():
                transport.sendto(data)
        for event in self._core.events_to_deliver():
            if isinstance(event, PushDone):
                waiter = self._waiters.pop(event.handle, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(event.acknowledged)
            elif isinstance(event, LinkUp):
                if self._core.all_up():
                    self._up.set()
            elif isinstance(event, LinkDown):
                if not self._lost.done():
                    self._lost.set_result(
                        LinkError("timeout", f"gateway {event.gateway_id}: {event.reason}")
                    )
            elif isinstance(event, PullResponse):
                self._spawn(self._downlink(event))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push(self, gateway_id: EUI64, payload: bytes) -> None:
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        handle = self._core.push(gateway_id, payload, self._clock())
        self._waiters[handle] = waiter
        self._flush()
        self._wake.set()  # the ack deadline may be the next timer
        if not await waiter:
            error = self._lost.result() if self._lost.done() else None
            raise error or LinkError("timeout", f"gateway {gateway_id}: no PUSH_ACK")

    # -- LinkSession -------------------------------------------------------------------------

    async def send_uplinks(self, uplinks: Sequence[UpstreamUplink]) -> None:
        # Calls overlap (the bridge keeps several batches in flight); the lock (first come,
        # first served) sends them one after the other, so datagrams keep reception order.
        async with self._sending:
            await self._send_uplinks(uplinks)

    async def _send_uplinks(self, uplinks: Sequence[UpstreamUplink]) -> None:
        now = self._link._wall_clock()
        batch: list[dict[str, Any]] = []
        batch_gateway: EUI64 | None = None
        size = 0
        for uplink in uplinks:
            gateway_id = uplink.gateway_id
            tmst = self._link.timing_maps[gateway_id].tmst_for(uplink.frame.rx_info.context, now)
            entry = rxpk(uplink.frame, tmst)
            entry_size = len(json.dumps(entry)) + 1
            full = len(batch) >= RXPK_PER_PUSH or size + entry_size > _MAX_PUSH_BYTES
            if batch and (gateway_id != batch_gateway or full):
                assert batch_gateway is not None
                await self._push(batch_gateway, push_payload(batch))
                batch, size = [], 0
            batch.append(entry)
            batch_gateway = gateway_id
            size += entry_size
        if batch and batch_gateway is not None:
            await self._push(batch_gateway, push_payload(batch))

    async def send_stats(self, stats: GatewayStats) -> None:
        if stats.gateway_id not in self._transports:
            return
        entry = stat(
            stats,
            now_ns=self._link._wall_clock(),
            ack_ratio=self._core.ack_ratio(stats.gateway_id),
        )
        async with self._sending:
            await self._push(stats.gateway_id, push_payload([], entry))

    async def serve(self) -> None:
        raise await self._lost

    # -- downlinks ---------------------------------------------------------------------------

    async def _downlink(self, response: PullResponse) -> None:
        link = self._link
        status = await self._transmit(response)
        if response.version >= 2:
            self._core.tx_ack(response.gateway_id, response.token, tx_ack_payload(status))
            self._flush()
            link.counters.tx_acks_sent += 1

    async def _transmit(self, response: PullResponse) -> TxAckStatus:
        link = self._link
        try:
            document = json.loads(response.payload.decode())
            item = downlink_item(document, link.timing_maps[response.gateway_id].timing_for)
        except (ValueError, RecursionError) as error:  # TxpkError is a ValueError too
            status = error.status if isinstance(error, TxpkError) else TxAckStatus.INTERNAL_ERROR
            link.counters.commands_rejected["malformed"] += 1
            link.reporter.report(
                "warning", "command_rejected", f"PULL_RESP rejected (malformed): {error}"
            )
            return status
        if len(self._tasks) > _MAX_DOWNLINKS:
            link.counters.commands_rejected["busy"] += 1
            return TxAckStatus.QUEUE_FULL
        frame = DownlinkFrame(link.next_downlink_id(), response.gateway_id, (item,))
        ack = await self._commands.downlink(frame)
        return ack.items[0] if ack.items else TxAckStatus.INTERNAL_ERROR
