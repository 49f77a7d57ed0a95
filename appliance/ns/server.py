"""The network server as a running service: backends in, de-duplication, the pipeline, downlinks
back through the backend that heard the gateway.

One task reads each backend's events; one timer task releases de-duplicated uplinks when their
window closes and hands each to the pipeline in its own task (bounded in number), and
reports confirmed downlinks whose ACK timed out. Downlinks are routed to the backend that last
delivered an uplink from the downlink's gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Sequence

from appliance.lorawan.identifiers import EUI64
from appliance.ns import collector, mac
from appliance.ns.dedup import DeduplicatedUplink, Deduplicator
from appliance.ns.downlink.confirmations import AwaitedAck
from appliance.ns.events import Metrics
from appliance.ns.network import NetworkSettings
from appliance.ns.pipeline import EventSink, Pipeline
from appliance.ns.secrets import SecretsError
from appliance.ns.session_codec import SessionCodecError
from appliance.ns.sqlite_store import StoreError
from appliance.ns.store import NSStore
from hal.backend import Backend
from hal.model import (
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    GatewayStats,
    TxAckStatus,
    UplinkFrame,
)

log = logging.getLogger(__name__)
_MAX_IN_FLIGHT = 1_000


class NetworkServer:
    def __init__(
        self,
        settings: NetworkSettings,
        store: NSStore,
        backends: Sequence[Backend],
        *,
        emit: EventSink,
        clock: Callable[[], int] = time.monotonic_ns,
        rng: random.Random | None = None,
        policy: mac.MACPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.backends = tuple(backends)
        self.clock = clock
        self.dedup = Deduplicator(settings.dedup_window_ms * 1_000_000)
        self.pipeline = Pipeline(
            settings,
            store,
            self._send,
            emit,
            clock,
            rng or random.SystemRandom(),
            policy or mac.MACPolicy(),
        )
        self._routes: dict[EUI64, Backend] = {}
        # Taps for the frame log and live stream: every reception, every downlink and its ack.
        self.on_uplink_frame: Callable[[UplinkFrame], None] | None = None
        self.on_downlink: Callable[[DownlinkFrame, DownlinkTxAck], None] | None = None
        # The upstream bridge: False hands an uplink over instead of processing it here.
        self.keep_local: Callable[[UplinkFrame], bool] | None = None
        self.on_stats: Callable[[GatewayStats], None] | None = None
        self._wake = asyncio.Event()
        self.pipeline.on_timer = self._wake.set
        self.dedup.drop_counts = self.pipeline.metrics.dropped  # one set of drop counters
        self._tasks: list[asyncio.Task[None]] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(_MAX_IN_FLIGHT)

    @property
    def metrics(self) -> Metrics:
        return self.pipeline.metrics

    async def settle(self) -> None:
        """Wait until every uplink released so far has been processed (tests with a fake
        clock call this before moving time on, so thread-run commits cannot reorder events)."""
        while self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)

    def healthy(self) -> bool:
        """The frame path runs: every backend reader and the release timer are alive."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    def gateway_routes(self) -> dict[str, str]:
        """Which backend each gateway was last heard through (for the API)."""
        return {str(gateway): backend.name for gateway, backend in self._routes.items()}

    def wake(self) -> None:
        """Re-check the de-duplication deadlines now (a test that moved its clock calls this)."""
        self._wake.set()

    async def start(self) -> None:
        collector.tune_for_network_server()
        started: list[Backend] = []
        try:
            for backend in self.backends:
                await backend.start()
                started.append(backend)
        except Exception:
            for backend in started:
                await backend.stop()
            raise
        self._tasks = [
            asyncio.create_task(self._read(b), name=f"read-{b.name}") for b in self.backends
        ]
        awaited = await self.pipeline.rearm_confirmations()
        if awaited:
            log.info("waiting again for the ACKs of %d confirmed downlinks sent before", awaited)
        self._tasks.append(asyncio.create_task(self._release(), name="dedup-timer"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        for backend in self.backends:
            await backend.stop()

    async def _read(self, backend: Backend) -> None:
        async for event in backend.events():
            if isinstance(event, UplinkFrame):
                self._routes[event.rx_info.gateway_id] = backend
                if self.on_uplink_frame is not None:
                    self.on_uplink_frame(event)
                if self.keep_local is not None and not self.keep_local(event):
                    continue  # handed upstream (the bridge's hybrid or forwarder mode)
                if self.dedup.add(event, self.clock()):
                    self._wake.set()
            elif isinstance(event, GatewayStats):
                if self.on_stats is not None:
                    self.on_stats(event)
            elif isinstance(event, GatewayConnected):
                self._routes[event.gateway_id] = backend
                log.info("gateway %s connected through %s", event.gateway_id, backend.name)
            elif isinstance(event, GatewayDisconnected):
                log.info("gateway %s disconnected: %s", event.gateway_id, event.reason)

    async def _release(self) -> None:
        while True:
            now = self.clock()
            for uplink in self.dedup.due(now):
                await self._slots.acquire()
                task = asyncio.create_task(self._handle(uplink))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)
            expired = self.pipeline.ack_timers.due(now)
            if expired:
                task = asyncio.create_task(self._confirmations_timed_out(expired))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)
            deadlines = (self.dedup.next_deadline_ns(), self.pipeline.ack_timers.next_deadline_ns())
            deadline = min((d for d in deadlines if d is not None), default=None)
            self._wake.clear()
            timeout = None if deadline is None else max(deadline - self.clock(), 0) / 1e9
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _handle(self, uplink: DeduplicatedUplink) -> None:
        try:
            await self.pipeline.handle(uplink)
        except (sqlite3.OperationalError, OSError) as exc:
            # The disk is full or failing: the uplink is refused (its counter not committed),
            # said in one line; the radio side keeps running and recovers with the disk.
            log.error("uplink not processed: cannot store its session: %s", exc)
            self.pipeline.metrics.dropped["storage_error"] += 1
        except (StoreError, SecretsError, SessionCodecError) as exc:
            # A stored record that cannot be read (damaged, moved, another key file): that
            # device's uplinks are refused, one line each, and the record is left as it is.
            log.error("uplink not processed: %s", str(exc).splitlines()[0])
            self.pipeline.metrics.dropped["unreadable_record"] += 1
        except Exception:
            # A bug must cost one uplink, not the service; the traceback goes to the log.
            log.exception("uplink processing failed")
            self.pipeline.metrics.dropped["internal_error"] += 1
        finally:
            self._slots.release()

    async def _confirmations_timed_out(self, expired: list[AwaitedAck]) -> None:
        try:
            await self.pipeline.confirmations_timed_out(expired)
        except Exception:
            log.exception("confirmed-downlink timeout handling failed")

    async def transmit(self, frame: DownlinkFrame) -> DownlinkTxAck:
        """Send a downlink that did not come from this server (the bridge's upstream)."""
        return await self._send(frame)

    async def configure_gateway(self, configuration: GatewayConfiguration) -> None:
        backend = self._routes.get(configuration.gateway_id)
        if backend is None:
            log.warning("channel plan for unknown gateway %s ignored", configuration.gateway_id)
            return
        await backend.configure(configuration)

    async def _send(self, frame: DownlinkFrame) -> DownlinkTxAck:
        backend = self._routes.get(frame.gateway_id)
        if backend is None:
            return DownlinkTxAck(
                frame.gateway_id,
                frame.downlink_id,
                (TxAckStatus.INTERNAL_ERROR,) * len(frame.items),
            )
        ack = await backend.send_downlink(frame)
        if self.on_downlink is not None:
            self.on_downlink(frame, ack)
        return ack
