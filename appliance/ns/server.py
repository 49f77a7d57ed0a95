"""The network server as a running service: backends in, de-duplication, the pipeline, downlinks
back through the backend that heard the gateway.

One task reads each backend's events; one timer task releases de-duplicated uplinks when their
window closes and hands each to the pipeline in its own task (bounded in number). Downlinks are
routed to the backend that last delivered an uplink from the downlink's gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence

from appliance.lorawan.identifiers import EUI64
from appliance.ns import mac
from appliance.ns.dedup import DeduplicatedUplink, Deduplicator
from appliance.ns.events import Metrics
from appliance.ns.network import NetworkSettings
from appliance.ns.pipeline import EventSink, Pipeline
from appliance.ns.store import NSStore
from hal.backend import Backend
from hal.model import (
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConnected,
    GatewayDisconnected,
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
        self._wake = asyncio.Event()
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

    def gateway_routes(self) -> dict[str, str]:
        """Which backend each gateway was last heard through (for the API)."""
        return {str(gateway): backend.name for gateway, backend in self._routes.items()}

    def wake(self) -> None:
        """Re-check the de-duplication deadlines now (a test that moved its clock calls this)."""
        self._wake.set()

    async def start(self) -> None:
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
                if self.dedup.add(event, self.clock()):
                    self._wake.set()
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
            deadline = self.dedup.next_deadline_ns()
            self._wake.clear()
            timeout = None if deadline is None else max(deadline - self.clock(), 0) / 1e9
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _handle(self, uplink: DeduplicatedUplink) -> None:
        try:
            await self.pipeline.handle(uplink)
        except Exception:
            # A bug must cost one uplink, not the service; the traceback goes to the log.
            log.exception("uplink processing failed")
            self.pipeline.metrics.dropped["internal_error"] += 1
        finally:
            self._slots.release()

    async def _send(self, frame: DownlinkFrame) -> DownlinkTxAck:
        backend = self._routes.get(frame.gateway_id)
        if backend is None:
            return DownlinkTxAck(
                frame.gateway_id,
                frame.downlink_id,
                (TxAckStatus.INTERNAL_ERROR,) * len(frame.items),
            )
        return await backend.send_downlink(frame)
