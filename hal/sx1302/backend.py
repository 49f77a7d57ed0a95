"""The SX1302 concentrator as a backend (kind ``sx1302``): the driver on the event loop.

Every driver call runs in one worker thread, so SPI/USB I/O never blocks the loop. A poll
loop reads the RX FIFO every ``poll_interval_ms`` (which also keeps the counter's wrap count
fresh), hands due transmissions to the chip from the just-in-time queue, and emits
statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, ParamSpec, TypeVar, cast

from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendConfigError, BackendError, register_backend
from hal.jit_queue import COUNTER_MODULO, JitQueue, JitTiming
from hal.model import (
    BackendEvent,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    GatewayStats,
    GPSEpoch,
    TxAckStatus,
)
from hal.sx1302.clock import Clock, SystemClock
from hal.sx1302.config import ConcentratorConfig
from hal.sx1302.driver import Concentrator
from hal.sx1302.errors import FirmwareError, Sx1302Error
from hal.sx1302.firmware import FirmwareImage, FirmwareKind, load_image
from hal.sx1302.hardware import Hardware, HardwareOpener, open_hardware
from hal.sx1302.options import Sx1302Options, parse_options
from hal.sx1302.profiles import concentrator_config
from hal.sx1302.tx_plan import TxPlanner

log = logging.getLogger(__name__)

_END: Final = object()
MAX_POLL_FAILURES: Final = 5
SX1302_JIT: Final = JitTiming(jit_delay_us=40_000)

P = ParamSpec("P")
R = TypeVar("R")


class Sx1302Backend:
    def __init__(
        self,
        options: Sx1302Options,
        *,
        agc: FirmwareImage,
        arb: FirmwareImage,
        opener: HardwareOpener = open_hardware,
        clock: Clock | None = None,
        wall_clock_ns: Callable[[], int] = time.time_ns,
        max_queue: int = 10_000,
    ) -> None:
        self.options = options
        self.config = options.config
        self._agc, self._arb = agc, arb
        self._opener = opener
        self._clock = clock or SystemClock()
        self._wall_clock_ns = wall_clock_ns
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sx1302")
        self._queue: asyncio.Queue[BackendEvent | object] = asyncio.Queue(max_queue)
        self._hardware: Hardware | None = None
        self.driver: Concentrator | None = None
        self._task: asyncio.Task[None] | None = None
        self._gateway_id: EUI64 | None = options.gateway_id
        self._planner: TxPlanner | None = None
        self.jit: JitQueue[tuple[DownlinkItem, int]] = JitQueue(SX1302_JIT)
        self.counters: Counter[str] = Counter()
        self._rx_per_frequency: Counter[int] = Counter()
        self._tx_per_frequency: Counter[int] = Counter()
        self._last_counter_us = 0
        self._wake = asyncio.Event()

    @property
    def name(self) -> str:
        return self.options.label

    @property
    def gateway_id(self) -> EUI64:
        if self._gateway_id is None:
            raise BackendError("the sx1302 backend has not started: no gateway ID yet")
        return self._gateway_id

    async def _call(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    # --- Backend -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            raise BackendError("sx1302 backend already started")
        await self._call(self._open_and_start, self.config)
        driver = self.driver
        assert driver is not None and driver.identity is not None
        if self._gateway_id is None:
            self._gateway_id = driver.identity.eui
        self._planner = TxPlanner(self.config, self.options)
        log.info(
            "%s: %s v0x%02X EUI %s started on %s; gateway %s",
            self.name,
            driver.identity.model,
            driver.identity.version,
            driver.identity.eui,
            self.options.device,
            self._gateway_id,
        )
        self._emit(GatewayConnected(self.gateway_id, self.name, self.options.device))
        self._task = asyncio.create_task(self._run(), name=f"{self.name}-poll")

    def _open_and_start(self, config: ConcentratorConfig) -> None:
        hardware = self._opener(self.options, self._clock)
        driver = Concentrator(
            hardware.transport,
            config,
            agc_firmware=self._agc,
            arb_firmware=self._arb,
            clock=self._clock,
            i2c=hardware.i2c,
            temperature_addresses=self.options.temperature_addresses,
            mcu_temperature=hardware.mcu_temperature,
            default_temperature_c=self.options.temperature_c,
        )
        try:
            driver.start()
        except BaseException:
            with contextlib.suppress(Sx1302Error, OSError):
                driver.stop()
            hardware.release()
            raise
        self._hardware, self.driver = hardware, driver

    def _stop_driver(self) -> None:
        driver, hardware = self.driver, self._hardware
        self.driver, self._hardware = None, None
        try:
            if driver is not None:
                driver.stop()
        finally:
            if hardware is not None:
                hardware.release()

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        try:
            await self._call(self._stop_driver)
        except Sx1302Error as exc:
            log.warning("%s: stop: %s", self.name, exc)
        self._emit(GatewayDisconnected(self.gateway_id, self.name, "stopped"))
        self._emit(_END)
        self._executor.shutdown(wait=False)

    async def events(self) -> AsyncIterator[BackendEvent]:
        while True:
            event = await self._queue.get()
            if event is _END:
                return
            yield cast(BackendEvent, event)

    async def send_downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        statuses: list[TxAckStatus] = []
        now_us = self._last_counter_us
        if self.driver is not None and frame.gateway_id == self._gateway_id:
            with contextlib.suppress(Sx1302Error):
                now_us = await self._call(self.driver.read_counter)
        for item in frame.items:
            if statuses and statuses[-1] is TxAckStatus.OK:
                statuses.append(TxAckStatus.IGNORED)
                continue
            status = self._schedule(frame, item, now_us)
            statuses.append(status)
            self.counters[f"tx_{status.name.lower()}"] += 1
        self._wake.set()
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, tuple(statuses))

    def _schedule(self, frame: DownlinkFrame, item: DownlinkItem, now_us: int) -> TxAckStatus:
        if self._planner is None or frame.gateway_id != self._gateway_id:
            return TxAckStatus.INTERNAL_ERROR
        refusal = self._planner.refusal(item)
        if refusal is not None:
            return refusal
        timing = item.tx_info.timing
        jit = self.jit.timing
        if isinstance(timing, Delay):
            if len(item.tx_info.context) != 4:
                return TxAckStatus.INTERNAL_ERROR
            start_us = int.from_bytes(item.tx_info.context, "big") + timing.delay_ns // 1000
        elif isinstance(timing, GPSEpoch):
            return TxAckStatus.GPS_UNLOCKED  # no GNSS time on this backend
        else:
            start_us = now_us + jit.jit_delay_us + jit.start_delay_us + jit.margin_us
        return self.jit.enqueue(
            (item, frame.downlink_id),
            start_us=start_us % COUNTER_MODULO,
            duration_us=self._planner.duration_us(item),
            now_us=now_us,
        )

    async def configure(self, configuration: GatewayConfiguration) -> None:
        """Listen on a new channel plan: the concentrator is restarted with it."""
        if configuration.gateway_id != self._gateway_id:
            raise BackendError(
                f"{self.name} is gateway {self._gateway_id}, not {configuration.gateway_id}"
            )
        profile, region = self.options.profile, self.options.region
        if profile is None or region is None:
            raise BackendError(f"{self.name} is configured by its global_conf.json file")
        try:
            config = concentrator_config(
                profile,
                region,
                channels=configuration.channels,
                lorawan_public=self.config.lorawan_public,
                antenna_gain_db=self.config.antenna_gain_db,
            )
        except BackendConfigError as exc:
            raise BackendError(f"{self.name}: cannot apply the channel plan: {exc}") from None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._call(self._stop_driver)
        await self._call(self._open_and_start, config)
        self.config = config
        self._planner = TxPlanner(config, self.options)
        self._task = asyncio.create_task(self._run(), name=f"{self.name}-poll")

    # --- the loop ------------------------------------------------------------------------

    def _emit(self, event: BackendEvent | object) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.counters["events_dropped"] += 1

    def _poll(self) -> list[BackendEvent]:
        driver = self.driver
        assert driver is not None
        result = driver.poll(gateway_id=self.gateway_id, unix_now_ns=self._wall_clock_ns())
        self._last_counter_us = result.counter_us
        for reason, count in result.dropped.items():
            self.counters[f"rx_dropped_{reason}"] += count
        events: list[BackendEvent] = []
        for uplink in result.uplinks:
            self.counters["rx_received"] += 1
            if uplink.rx_info.crc_status.name == "BAD_CRC" and not self.options.forward_crc_error:
                self.counters["rx_bad_crc"] += 1
                continue
            self.counters["rx_ok"] += 1
            self._rx_per_frequency[uplink.tx_info.frequency] += 1
            events.append(uplink)
        return events

    def _worth_polling(self) -> bool:
        """On SPI, an empty FIFO is seen with one short frame, read right here on the loop
        (a hop to the worker thread costs more CPU than the read); anything else - packets,
        the counter's refresh, due transmissions - goes to the worker. USB accesses are
        round trips and always go to the worker."""
        driver = self.driver
        if driver is None or self.options.bus_kind != "spi":
            return True
        if driver.counter_refresh_due() or self.jit.next_due_us(self._last_counter_us) == 0:
            return True
        self._last_counter_us = driver.counter_now()
        return driver.fifo_size() > 0

    def _transmit(self, start_us: int, item: DownlinkItem) -> None:
        driver, planner = self.driver, self._planner
        assert driver is not None and planner is not None
        request = planner.request(item, start_us)
        if driver.tx_state(request.rf_chain).value == "emitting":
            self.counters["tx_dropped_busy"] += 1
            log.warning("%s: TX chain busy at programming time, downlink dropped", self.name)
            return
        driver.send(request)
        self.counters["tx_emitted"] += 1
        self._tx_per_frequency[request.frequency_hz] += 1

    def status(self) -> dict[str, object]:
        """What the console's dashboard shows of this concentrator: chip, temperature, board,
        region and the channel plan it listens on (frequencies in Hz)."""
        driver = self.driver
        config = self.config
        channels = [
            config.radios[channel.rf_chain].frequency_hz + channel.if_hz
            for channel in config.multi_sf
            if channel.enable
        ]
        identity = None if driver is None else driver.identity
        temperature = None if driver is None else driver.temperature_c()
        return {
            "state": "running" if driver is not None else "stopped",
            "chip": None if identity is None else identity.model,
            "eui": None if identity is None else str(identity.eui),
            "temperature_c": None if temperature is None else round(temperature, 1),
            "board": None if self.options.profile is None else self.options.profile.name,
            "region": self.options.region,
            "bus": f"{self.options.bus_kind} {self.options.device}",
            "channels_hz": channels,
        }

    def stats(self) -> GatewayStats:
        driver = self.driver
        metadata = {
            k: str(v) for k, v in sorted(self.counters.items()) if k.startswith("rx_dropped")
        }
        if driver is not None and driver.identity is not None:
            metadata["chip"] = driver.identity.model
            temperature = driver.temperature_c()
            if temperature is not None:
                metadata["temperature_c"] = f"{temperature:.1f}"
        tx_statuses = {
            k[3:].upper(): v
            for k, v in self.counters.items()
            if k.startswith("tx_") and k not in ("tx_emitted", "tx_dropped_busy")
        }
        return GatewayStats(
            gateway_id=self.gateway_id,
            time_ns=self._wall_clock_ns(),
            rx_packets_received=self.counters["rx_received"],
            rx_packets_received_ok=self.counters["rx_ok"],
            tx_packets_received=sum(tx_statuses.values()),
            tx_packets_emitted=self.counters["tx_emitted"],
            metadata=metadata,
            rx_packets_per_frequency=dict(self._rx_per_frequency),
            tx_packets_per_frequency=dict(self._tx_per_frequency),
            tx_packets_per_status=tx_statuses,
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_stats = loop.time() + self.options.stats_interval_s
        failures = 0
        while True:
            try:
                if self._worth_polling():
                    for event in await self._call(self._poll):
                        self._emit(event)
                for start_us, (item, _) in self.jit.due(self._last_counter_us):
                    await self._call(self._transmit, start_us, item)
                failures = 0
            except Sx1302Error as exc:
                failures += 1
                log.error("%s: %s", self.name, exc)
                if failures >= MAX_POLL_FAILURES:
                    self._emit(GatewayDisconnected(self.gateway_id, self.name, str(exc)))
                    return
            if loop.time() >= next_stats:
                self._emit(await self._call(self.stats))
                next_stats = loop.time() + self.options.stats_interval_s
            wait = self.options.poll_interval_s
            due_us = self.jit.next_due_us(self._last_counter_us)
            if due_us is not None:
                wait = min(wait, due_us / 1e6)
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the event is set, and stop() would then wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()


def load_firmware_images(options: Sx1302Options) -> tuple[FirmwareImage, FirmwareImage]:
    allow = options.allow_unknown_firmware
    try:
        agc = load_image(options.agc_firmware, FirmwareKind.AGC, allow_unknown=allow)
        arb = load_image(options.arb_firmware, FirmwareKind.ARB, allow_unknown=allow)
    except FirmwareError as exc:
        raise BackendConfigError(f"sx1302 backend: {exc}") from None
    return agc, arb


def create_sx1302_backend(options: Mapping[str, Any]) -> Sx1302Backend:
    """Options: see docs/sx1302.md (profile + region, or global_conf; firmware paths)."""
    parsed = parse_options(options)
    agc, arb = load_firmware_images(parsed)
    return Sx1302Backend(parsed, agc=agc, arb=arb)


register_backend("sx1302", create_sx1302_backend)
