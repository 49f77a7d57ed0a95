"""The long-running appliance process: gateway backends, the network server and its state.

Start order: data directory, database, backends (Semtech UDP, Basics Station, and the virtual
radio with its simulated devices when asked), network server. Stop order is the reverse, and
every session change is already durable when it is acknowledged, so stopping loses nothing.
Events are logged one line each until the application server takes them over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.api.app import create_app
from appliance.api.context import APIContext
from appliance.api.errors import APIError
from appliance.api.server import APIServer
from appliance.app.bootstrap import ensure_admin_key, ensure_application
from appliance.app.event_flow import EventFlow
from appliance.app.events import EventBroker, EventLog, EventLogOptions
from appliance.app.repository import Repository
from appliance.app.service import ApplicationServer
from appliance.app.status import StatusTracker
from appliance.bridge import (
    Route,
    RoutingPolicy,
    UpstreamBridge,
    parse_bridge_config,
)
from appliance.codecs import CodecError, CodecRunner, CodecSpec
from appliance.config import ApplianceConfig
from appliance.event_lines import EventLines
from appliance.integrations import (
    IntegrationManager,
    downlink_command_from_dict,
    outbox_limits_from_mapping,
    parse_global_mqtt,
)
from appliance.lorawan.identifiers import EUI64
from appliance.ns import collector
from appliance.ns.device import Device
from appliance.ns.downlink.data import QueueItem
from appliance.ns.events import (
    LogEvent,
    NSEvent,
)
from appliance.ns.server import NetworkServer
from appliance.ns.sqlite_store import SQLiteStore
from appliance.runtime_extensions import (
    ApplicationExtension,
    BridgeExtension,
    GatewayExtension,
    describe_backend,
    log_bridge_event,
)
from appliance.runtime_setup import configured_backends, network_mac_policy, network_settings
from appliance.service import ServiceNotifier, run_watchdog
from appliance.simulation.fleet import Fleet
from appliance.simulation.provision import SIMULATED_APPLICATION_ID, provision
from hal.model import GatewayStats, UplinkFrame
from hal.virtual_radio import VirtualRadioBackend, create_virtual_radio

log = logging.getLogger("appliance")
API_URL_FILE = "api.url"


class DataDirError(Exception):
    """The data directory cannot be created or used."""


def prepare_data_dir(config: ApplianceConfig) -> None:
    # 0700: the directory holds device keys.
    try:
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot use data directory {config.data_dir}: {exc.strerror}") from None


async def _drive_fleet(fleet: Fleet, radio: VirtualRadioBackend) -> None:
    """Let simulated devices transmit when they are due, on the real clock."""
    while True:
        now = radio.now_ns()
        fleet.step(now, radio.air)
        wakeup = fleet.next_wakeup_ns()
        delay = 1.0 if wakeup is None else min(max(wakeup - radio.now_ns(), 0) / 1e9, 1.0)
        await asyncio.sleep(delay)


def build_api(config: ApplianceConfig, context: APIContext) -> APIServer | None:
    if not config.api_bind:
        return None
    return APIServer(
        create_app(context),
        config.api_bind,
        tls_cert=Path(config.api_tls_cert) if config.api_tls_cert else None,
        tls_key=Path(config.api_tls_key) if config.api_tls_key else None,
    )


class _Part:
    """Something started in order and stopped in the reverse order."""

    def __init__(
        self,
        name: str,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
    ) -> None:
        self.name, self.start, self.stop = name, start, stop


class Appliance:
    """The parts of one running appliance, built from its configuration."""

    def __init__(
        self,
        config: ApplianceConfig,
        *,
        config_file: Path | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.config = config
        self.config_file = config_file or config.data_dir / "appliance.toml"
        self._stop = stop or asyncio.Event()
        self.restart_requested = False
        self.settings = network_settings(config)
        self._parts: list[_Part] = []
        self._started: list[_Part] = []

    async def build(self) -> None:
        config, settings = self.config, self.settings
        prepare_data_dir(config)
        self.store = store = SQLiteStore.open(config.data_dir, check=config.check_database)
        self.backends = configured_backends(config, settings)
        self.radio: VirtualRadioBackend | None = None
        self.fleet: Fleet | None = None
        if config.simulate:
            self.radio, self.fleet = await self._build_simulation()
        self.repository = repository = Repository(store.connection)
        ensure_admin_key(repository, config.data_dir, datetime.now(UTC))
        if config.simulate:
            ensure_application(
                repository,
                SIMULATED_APPLICATION_ID,
                "simulated devices",
                "devices of appliance run --simulate",
                datetime.now(UTC),
            )
        self.status = StatusTracker(repository, database=store.path)
        self.application_server = ApplicationServer(
            repository, self.status, max_backlog=config.max_application_backlog
        )
        self.event_lines = EventLines(time.monotonic, lines_per_s=config.log_event_lines_per_s)
        self.server = NetworkServer(
            settings, store, self.backends, emit=self._emit, policy=network_mac_policy(config)
        )
        # Backpressure: an application side too far behind stops new uplinks at the entry.
        self.server.dedup.admit = self.application_server.accepts_uplinks
        self.event_log = EventLog.open(
            config.data_dir, EventLogOptions.from_mapping(config.event_log)
        )
        self.broker = EventBroker()
        self.codecs = CodecRunner()
        self.flow = EventFlow(
            store,
            repository,
            region_config_id=settings.region_name.lower().replace("-", "_"),
            monotonic=time.monotonic,
            codecs=self.codecs,
            event_log=self.event_log,
            broker=self.broker,
        )
        self.application_server.consumers.append(self.flow.handle_batch)
        self.integrations = IntegrationManager(
            config.data_dir,
            repository,
            global_mqtt=(
                parse_global_mqtt(config.mqtt_url, config.mqtt)
                if config.mqtt_url or config.mqtt
                else None
            ),
            enqueue=self._enqueue_command,
            report=self._report_integration,
            limits=outbox_limits_from_mapping(config.outbox),
        )
        self.flow.sinks.append(self.integrations.record)
        self.server.on_uplink_frame = lambda frame: self.flow.uplink_frame(frame, _wall())
        self.server.on_downlink = lambda frame, ack: self.flow.downlink_frame(frame, ack, _wall())
        self.context = APIContext(
            store=store,
            repository=repository,
            settings=settings,
            metrics=self.server.metrics,
            data_dir=config.data_dir,
            version=__version__,
            status=self.status,
        )
        self.context.services["gateway_routes"] = self.server.gateway_routes
        self.context.services["broker"] = self.broker
        self.context.services["event_log"] = self.event_log
        self.context.services["encode_downlink"] = self._encode_downlink
        self.context.services["config"] = config
        self.context.services["config_file"] = self.config_file
        self.context.services["restart"] = self._request_restart
        self.context.services["validate_integration"] = self.integrations.validate
        self.context.services["integrations_changed"] = self.integrations.reload
        self.context.extensions["integrations"] = self.integrations
        self.context.extensions["application"] = ApplicationExtension(self.application_server)
        self.api = build_api(config, self.context)
        self.server.on_stats = self.application_server.gateway_stats
        self.context.extensions["gateways"] = GatewayExtension(
            self.backends,
            self.server.gateway_routes,
            lambda: self.application_server.latest_stats,
        )
        self.bridge = self._build_bridge()
        self._parts = [
            _Part("payload codecs", self.codecs.start, self.codecs.close),
            _Part("event log", self._start_event_log, self._stop_event_log),
            _Part("integrations", self.integrations.start, self.integrations.stop),
            _Part(
                "application server", self.application_server.start, self.application_server.stop
            ),
            _Part("network server", self.server.start, self.server.stop),
        ]
        if self.bridge is not None:
            self._parts.append(_Part("upstream bridge", self.bridge.start, self.bridge.stop))
        if self.api is not None:
            self._parts.append(_Part("API", self._start_api, self._stop_api))
        if self.fleet is not None:
            self._parts.append(_Part("simulated devices", self._start_fleet, self._stop_fleet))

    def _build_bridge(self) -> UpstreamBridge | None:
        """The upstream bridge of the [bridge] table, tapped into the network server."""
        bridge_config = parse_bridge_config(self.config.bridge)
        if not bridge_config.enabled:
            return None
        bridge = UpstreamBridge(
            bridge_config,
            data_dir=self.config.data_dir,
            transmit=self.server.transmit,
            configure=self.server.configure_gateway,
            events=log_bridge_event,
        )
        policy = RoutingPolicy.from_config(bridge_config)

        def keep_local(frame: UplinkFrame) -> bool:
            if policy.decide(frame) is Route.LOCAL:
                return True
            bridge.offer_uplink(frame)
            return False

        self.server.keep_local = keep_local
        application_stats = self.server.on_stats

        def on_stats(stats: GatewayStats) -> None:
            if application_stats is not None:
                application_stats(stats)
            bridge.offer_stats(stats)

        self.server.on_stats = on_stats
        self.context.extensions["bridge"] = BridgeExtension(bridge)
        return bridge

    async def _enqueue_command(
        self, application_id: uuid.UUID, dev_eui: EUI64, command: dict[str, Any]
    ) -> None:
        """A downlink command from an integration (MQTT command/down) into the device queue;
        ValueError with one line refuses it (the integration reports it as a log event)."""
        parsed = downlink_command_from_dict(command, dev_eui)
        device = await self.store.device_settings(dev_eui)
        if device is None or device.application_id != application_id:
            raise ValueError(f"no device {dev_eui} in application {application_id}")
        f_port = parsed.f_port
        if parsed.data is not None:
            data = parsed.data
        else:
            try:
                data, f_port = await self._encode_downlink(device, f_port, parsed.object or {})
            except APIError as error:
                raise ValueError(error.message) from None
        expires_ns = None
        if parsed.expires_at is not None:
            remaining = (parsed.expires_at - _wall()).total_seconds()
            if remaining <= 0:
                raise ValueError("expiresAt is in the past")
            expires_ns = time.monotonic_ns() + int(remaining * 1e9)
        item = QueueItem(parsed.id or uuid.uuid4(), f_port, data, parsed.confirmed)
        await self.store.enqueue(dev_eui, item, expires_at_ns=expires_ns)

    def _report_integration(
        self, application_id: uuid.UUID | None, dev_eui: EUI64 | None, line: str
    ) -> None:
        log.warning(
            "integration%s: %s", "" if application_id is None else f" of {application_id}", line
        )
        if dev_eui is not None:
            self.application_server.handle(LogEvent(dev_eui, "warning", "integration", line))

    def _request_restart(self) -> None:
        self.restart_requested = True
        self._stop.set()

    async def _start_event_log(self) -> None:
        self._event_log_task = asyncio.create_task(self.event_log.run(), name="event-log")

    async def _stop_event_log(self) -> None:
        self._event_log_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._event_log_task
        self.event_log.close()

    async def _encode_downlink(
        self, device: Device, f_port: int, obj: dict[str, Any]
    ) -> tuple[bytes, int]:
        runtime, script = self.repository.codec(device.profile_id)
        try:
            spec = CodecSpec(runtime, script)  # type: ignore[arg-type]
            result = await self.codecs.encode_downlink(
                spec, f_port=f_port, obj=obj, variables=device.variables
            )
        except CodecError as error:
            raise APIError(422, f"object: {error}") from None
        return result.data, result.f_port or f_port

    def _frame_path_healthy(self) -> bool:
        # The application side counts: with its worker gone, its backlog fills and the
        # network server refuses every uplink (backpressure), so systemd should restart.
        return self.server.healthy() and self.application_server.running()

    def _emit(self, event: NSEvent) -> None:
        self.event_lines(event)
        self.application_server.handle(event)

    async def _build_simulation(self) -> tuple[VirtualRadioBackend, Fleet]:
        settings = self.settings
        radio = create_virtual_radio(
            {"region": settings.region_name, "sub_band": settings.enabled_sub_band}
        )
        devices = await provision(
            self.store, settings.region_name, self.config.simulate, now_ns=time.monotonic_ns()
        )
        fleet = Fleet(settings.region, devices)
        radio.listen(fleet.hear)
        self.backends.append(radio)
        return radio, fleet

    async def _start_api(self) -> None:
        assert self.api is not None
        await self.api.start()
        # The local CLI and console find the API here (with admin.key beside it).
        (self.config.data_dir / API_URL_FILE).write_text(self.api.url + "\n", encoding="ascii")

    async def _stop_api(self) -> None:
        assert self.api is not None
        (self.config.data_dir / API_URL_FILE).unlink(missing_ok=True)
        await self.api.stop()

    async def _start_fleet(self) -> None:
        assert self.fleet is not None and self.radio is not None
        self._driver = asyncio.create_task(
            _drive_fleet(self.fleet, self.radio), name="simulated-devices"
        )

    async def _stop_fleet(self) -> None:
        self._driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._driver

    async def start(self) -> None:
        for part in self._parts:
            await part.start()
            self._started.append(part)
        collector.schedule_full_collections()  # all is up: start-up's objects are frozen
        collections = asyncio.create_task(collector.run_full_collections(), name="gc")
        self._started.append(_Part("garbage collector", _noop, _cancelling(collections)))
        self._notifier = ServiceNotifier.from_environment()
        if self._notifier is not None:
            self._notifier.ready(f"serving region {self.settings.region_name}")
            watchdog = asyncio.create_task(
                run_watchdog(self._notifier, self._frame_path_healthy), name="systemd-watchdog"
            )
            self._started.append(_Part("watchdog", _noop, _cancelling(watchdog)))
        config = self.config
        log.info(
            "appliance %s started: region %s, data in %s, backends: %s",
            __version__,
            self.settings.region_name,
            config.data_dir.resolve(),
            ", ".join(
                describe_backend(b, config.simulate if b is self.radio else 0)
                for b in self.backends
            )
            or "none",
        )
        if self.api is not None:
            log.info(
                "API on %s (OpenAPI document at %s/openapi.json; local admin key in %s)",
                self.api.url,
                self.api.url,
                config.data_dir / "admin.key",
            )

    async def stop(self) -> None:
        """Stop what was started, newest first; the store closes last."""
        notifier = getattr(self, "_notifier", None)
        if notifier is not None:
            notifier.stopping("stopping")
        while self._started:
            part = self._started.pop()
            try:
                await part.stop()
            except Exception:
                log.exception("stopping the %s failed", part.name)
        store = getattr(self, "store", None)
        if store is not None:
            store.close()
        event_lines = getattr(self, "event_lines", None)
        if event_lines is not None:
            event_lines.flush()
        if notifier is not None:
            notifier.close()


async def serve(
    config: ApplianceConfig, stop: asyncio.Event, *, config_file: Path | None = None
) -> bool:
    """Run until ``stop`` is set; True when a restart was asked for through the API."""
    appliance = Appliance(config, config_file=config_file, stop=stop)
    try:
        await appliance.build()
        await appliance.start()
        await stop.wait()
    finally:
        await appliance.stop()
    log.info("appliance stopped%s", " for a restart" if appliance.restart_requested else "")
    return appliance.restart_requested


async def _noop() -> None:
    return None


def _cancelling(task: asyncio.Task[None]) -> Callable[[], Awaitable[None]]:
    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return cancel


def _wall() -> datetime:
    return datetime.now(UTC)


RESTART_EXIT_CODE = 75  # asked to restart (e.g. after a configuration change); systemd restarts


def run(config: ApplianceConfig, *, config_file: Path | None = None) -> int:
    async def main() -> bool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await serve(config, stop, config_file=config_file)

    restart = asyncio.run(main())
    return RESTART_EXIT_CODE if restart else 0
