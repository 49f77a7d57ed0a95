"""The virtual radio as a backend: a ``VirtualConcentrator`` driven by a clock on the event loop.

Simulated devices call ``air`` to transmit and ``listen`` to hear the gateway's transmissions;
the network server sees an ordinary backend. The loop sleeps until the concentrator's next
event (a packet ending, a transmission due, statistics) or until something new is aired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final, cast

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import get_region
from hal.backend import BackendConfigError, BackendError, register_backend
from hal.channel_plan import gateway_channels
from hal.model import (
    BackendEvent,
    DownlinkFrame,
    DownlinkTxAck,
    FSKChannel,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    LoRaChannel,
)
from hal.virtual_radio.air import AirPacket, Transmission
from hal.virtual_radio.concentrator import VirtualConcentrator, VirtualConcentratorConfig

log = logging.getLogger(__name__)

Listener = Callable[[Transmission], None]
_END: Final = object()
# Five more EU868 channels: the usual CFList of an EU868 network, so 8 channels are heard.
EU868_EXTRA_FREQUENCIES: Final = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)


class VirtualRadioBackend:
    def __init__(
        self,
        concentrator: VirtualConcentrator,
        *,
        clock: Callable[[], int] = time.monotonic_ns,
        stats_interval_s: float = 30.0,
        max_queue: int = 10_000,
    ) -> None:
        self.concentrator = concentrator
        self._clock = clock
        self._stats_interval_ns = int(stats_interval_s * 1e9)
        self._queue: asyncio.Queue[BackendEvent | object] = asyncio.Queue(max_queue)
        self._listeners: list[Listener] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_stats_ns = 0
        self.drop_counts: Counter[str] = Counter()

    @property
    def name(self) -> str:
        return "virtual"

    @property
    def gateway_id(self) -> EUI64:
        return self.concentrator.config.gateway_id

    def now_ns(self) -> int:
        return self._clock()

    # --- device side -------------------------------------------------------------------------

    def air(self, packet: AirPacket) -> None:
        """A simulated device starts a transmission."""
        self.concentrator.air(packet)
        self._wake.set()

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every transmission; returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def wake(self) -> None:
        """Re-check the concentrator now (tests that move a fake clock call this)."""
        self._wake.set()

    # --- Backend -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            raise BackendError("virtual radio already started")
        self._next_stats_ns = self._clock() + self._stats_interval_ns
        self._emit(GatewayConnected(self.gateway_id, self.name, "virtual"))
        self._task = asyncio.create_task(self._run(), name="virtual-radio")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._emit(GatewayDisconnected(self.gateway_id, self.name, "stopped"))
        self._emit(_END)

    async def events(self) -> AsyncIterator[BackendEvent]:
        while True:
            event = await self._queue.get()
            if event is _END:
                return
            yield cast(BackendEvent, event)

    async def send_downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        ack = self.concentrator.send_downlink(frame, self._clock())
        self._wake.set()
        return ack

    async def configure(self, configuration: GatewayConfiguration) -> None:
        if configuration.gateway_id != self.gateway_id:
            raise BackendError(f"no virtual gateway {configuration.gateway_id}")
        self.concentrator.reconfigure(configuration.channels)

    # --- the loop ----------------------------------------------------------------------------

    def _emit(self, event: BackendEvent | object) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # The consumer is stalled; losing the newest event beats stalling the radio.
            self.drop_counts["queue_full"] += 1

    def _step(self) -> int | None:
        now = self._clock()
        result = self.concentrator.poll(now)
        for uplink in result.uplinks:
            self._emit(uplink)
        for transmission in result.transmissions:
            for listener in list(self._listeners):
                try:
                    listener(transmission)
                except Exception:
                    # A broken simulated device must not stop the radio.
                    log.exception("virtual radio listener failed")
        if now >= self._next_stats_ns:
            self._emit(self.concentrator.stats(now))
            self._next_stats_ns = now + self._stats_interval_ns
        wakeups = [self._next_stats_ns]
        if (next_ns := self.concentrator.next_wakeup_ns(now)) is not None:
            wakeups.append(next_ns)
        return max(min(wakeups) - now, 0)

    async def _run(self) -> None:
        while True:
            wait_ns = self._step()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), None if wait_ns is None else wait_ns / 1e9
                )


def _channels(options: Mapping[str, Any]) -> tuple[LoRaChannel | FSKChannel, ...]:
    region = get_region(str(options.get("region", "EU868")))
    extra = options.get("extra_frequencies")
    if extra is None:
        extra = EU868_EXTRA_FREQUENCIES if region.name == "EU868" else ()
    sub_band = options.get("sub_band")
    return gateway_channels(region, sub_band=sub_band, extra_frequencies=tuple(extra))


def create_virtual_radio(options: Mapping[str, Any]) -> VirtualRadioBackend:
    """Options: ``gateway_id`` (default 0000000000000001), ``region`` (EU868), ``sub_band``
    (fixed plans), ``extra_frequencies``, ``chip`` (sx1302), ``gps`` (true),
    ``stats_interval_s`` (30), ``seed`` (0, for the propagation's random shadowing)."""
    try:
        region = get_region(str(options.get("region", "EU868")))
        config = VirtualConcentratorConfig(
            gateway_id=EUI64(str(options.get("gateway_id", "0000000000000001"))),
            channels=_channels(options),
            chip=str(options.get("chip", "sx1302")),
            gps=bool(options.get("gps", True)),
            tx_frequency_range=(region.min_frequency_hz, region.max_frequency_hz),
            unix_ns_at_zero=time.time_ns() - time.monotonic_ns(),
        )
    except (InvalidValueError, ValueError) as exc:
        raise BackendConfigError(f"virtual radio: {exc}") from None
    rng = random.Random(int(options.get("seed", 0)))
    concentrator = VirtualConcentrator(config, boot_ns=time.monotonic_ns(), rng=rng)
    return VirtualRadioBackend(
        concentrator, stats_interval_s=float(options.get("stats_interval_s", 30.0))
    )


register_backend("virtual", create_virtual_radio)
