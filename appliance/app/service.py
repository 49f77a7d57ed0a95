"""The application server as a running part: takes the network server's events, keeps the
device and gateway state the API shows, and hands each event to its consumers (the event
log, the live stream, integrations) off the radio path.

``handle`` is the network server's event sink: it must not block, so it only records what is
cheap and queues the event; a worker task does the rest in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from appliance.app.repository import Repository
from appliance.app.status import StatusTracker
from appliance.lorawan.identifiers import EUI64
from appliance.ns.events import DeviceMACEvent, JoinEvent, NSEvent
from appliance.ns.mac.events import DeviceStatus
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import GatewayStats, UplinkRxInfo

log = logging.getLogger("appliance.app")
GATEWAY_SEEN_INTERVAL_S = 30.0  # last-seen of a gateway is written at most this often

# A consumer gets the events queued since its last call, in order: one durable outbox commit
# then serves a whole batch instead of one fsync per event.
Consumer = Callable[[list[tuple[NSEvent, datetime]]], Awaitable[None]]
MAX_BATCH = 256
# Events the application side may hold in memory, not yet handed to its consumers. Beyond
# this the network server refuses new uplinks until half are handled (``accepts_uplinks``):
# under a sustained overload the appliance then sheds uplinks at its entry, counted and
# logged, where nothing was stored for them and a device sends a confirmed one again,
# instead of growing without bound until the kernel kills it with the events it held.
# The default; ``max_application_backlog`` in appliance.toml sets another.
MAX_BACKLOG = 4_096


def _wall() -> datetime:
    return datetime.now(UTC)


class ApplicationServer:
    def __init__(
        self,
        repository: Repository,
        status: StatusTracker,
        *,
        now: Callable[[], datetime] = _wall,
        monotonic: Callable[[], float] = time.monotonic,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.repository = repository
        self.max_backlog = max_backlog
        self.resume_backlog = max_backlog // 2
        self.status = status
        self.now = now
        self.monotonic = monotonic
        self.consumers: list[Consumer] = []
        self._queue: deque[tuple[NSEvent, datetime]] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._gateway_written: dict[EUI64, float] = {}
        self.latest_stats: dict[EUI64, dict[str, Any]] = {}
        self.events_handled = 0
        self.consumer_errors = 0
        self.overloads = 0  # times the backlog reached max_backlog
        self._refusing = False

    # --- the network server's sink ---------------------------------------------------------

    @property
    def backlog(self) -> int:
        """Events received and not yet handed to the consumers."""
        return len(self._queue)

    def accepts_uplinks(self) -> bool:
        """Whether the network server may take a new uplink: False from ``max_backlog``
        queued events until half of them are handled (so that it does not flap), each
        change said in one log line."""
        queued = len(self._queue)
        if self._refusing:
            if queued > self.resume_backlog:
                return False
            self._refusing = False
            log.warning("application side caught up (%d events queued): uplinks accepted", queued)
            return True
        if queued < self.max_backlog:
            return True
        self._refusing = True
        self.overloads += 1
        log.warning(
            "application side is %d events behind: new uplinks are refused (counted as "
            "'overloaded') until it catches up",
            queued,
        )
        return False

    def handle(self, event: NSEvent) -> None:
        at = self.now()
        if isinstance(event, UplinkEvent):
            best = event.uplink.best
            self.status.uplink(
                str(event.dev_eui),
                at=at,
                rssi=best.rssi,
                snr=best.snr,
                f_cnt=event.f_cnt,
                dr=event.dr,
            )
            self._gateways_seen(event.uplink.rx_info, at)
        elif isinstance(event, JoinEvent):
            self.status.seen(str(event.dev_eui), at)
            self._gateways_seen(event.uplink.rx_info, at)
        elif isinstance(event, DeviceMACEvent) and isinstance(event.event, DeviceStatus):
            status = event.event
            self.status.battery(
                str(event.dev_eui),
                level=status.battery_level_percent,
                margin=status.margin,
                external_power=status.external_power,
            )
        self._queue.append((event, at))
        self._ready.set()

    def gateway_stats(self, stats: GatewayStats) -> None:
        """A gateway's periodic statistics: kept for the API and metrics (at most every 30 s
        per gateway on disk, like its last-seen time)."""
        counters = {
            "rx_packets_received": stats.rx_packets_received,
            "rx_packets_received_ok": stats.rx_packets_received_ok,
            "tx_packets_received": stats.tx_packets_received,
            "tx_packets_emitted": stats.tx_packets_emitted,
            "tx_packets_per_status": dict(stats.tx_packets_per_status),
            "metadata": dict(stats.metadata),
        }
        self.latest_stats[stats.gateway_id] = counters
        now_s = self.monotonic()
        last = self._gateway_written.get(stats.gateway_id)
        if last is not None and now_s - last < GATEWAY_SEEN_INTERVAL_S:
            return
        self._gateway_written[stats.gateway_id] = now_s
        try:
            self.repository.gateway_seen(stats.gateway_id, self.now(), counters)
        except Exception as exc:
            log.warning("cannot record statistics of gateway %s: %s", stats.gateway_id, exc)

    def _gateways_seen(self, rx_info: tuple[UplinkRxInfo, ...], at: datetime) -> None:
        now_s = self.monotonic()
        for rx in rx_info:
            gateway_id = rx.gateway_id
            last = self._gateway_written.get(gateway_id)
            if last is not None and now_s - last < GATEWAY_SEEN_INTERVAL_S:
                continue
            self._gateway_written[gateway_id] = now_s
            try:
                self.repository.gateway_seen(gateway_id, at)
            except Exception as exc:
                log.warning("cannot record gateway %s as seen: %s", gateway_id, exc)

    # --- the worker ------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="application-server")

    def running(self) -> bool:
        """The worker that hands events to the consumers is alive."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.drain()
        self.status.save(self.monotonic())

    async def drain(self) -> None:
        """Hand every queued event to the consumers now (shutdown and tests)."""
        while self._queue:
            count = min(len(self._queue), MAX_BATCH)
            batch = [self._queue.popleft() for _ in range(count)]
            await self._deliver(batch)

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._ready.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), timeout=1.0)
            await self.drain()
            try:
                self.status.save_due(self.monotonic())
            except Exception as exc:
                log.warning("cannot save device statuses: %s", exc)

    async def _deliver(self, batch: list[tuple[NSEvent, datetime]]) -> None:
        self.events_handled += len(batch)
        for consumer in self.consumers:
            try:
                await consumer(batch)
            except Exception:
                self.consumer_errors += 1
                log.exception("an event consumer failed on a batch of %d events", len(batch))
