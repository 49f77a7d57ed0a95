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
from datetime import UTC, datetime
from pathlib import Path

from appliance import __version__
from appliance.api.app import create_app
from appliance.api.context import APIContext
from appliance.api.server import APIServer
from appliance.app.bootstrap import ensure_admin_key, ensure_application
from appliance.app.repository import Repository
from appliance.app.service import ApplicationServer
from appliance.app.status import StatusTracker
from appliance.config import ApplianceConfig
from appliance.lorawan.identifiers import NetID
from appliance.lorawan.regions import get_region
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.ns.events import (
    DeviceMACEvent,
    JoinEvent,
    LogEvent,
    NSEvent,
    TxAckEvent,
)
from appliance.ns.network import NetworkSettings
from appliance.ns.server import NetworkServer
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from appliance.simulation.fleet import Fleet
from appliance.simulation.provision import SIMULATED_APPLICATION_ID, provision
from hal.backend import Backend
from hal.basic_station import BasicStationBackend, parse_options
from hal.registry import create_backend
from hal.semtech_udp import SemtechUDPBackend
from hal.virtual_radio import VirtualRadioBackend, create_virtual_radio
from hal.virtual_radio.backend import EU868_EXTRA_FREQUENCIES

log = logging.getLogger("appliance")
DEFAULT_SUB_BAND = 2  # the sub-band most US915/AU915 networks and gateways use


class DataDirError(Exception):
    """The data directory cannot be created or used."""


def prepare_data_dir(config: ApplianceConfig) -> None:
    # 0700: the directory holds device keys.
    try:
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot use data directory {config.data_dir}: {exc.strerror}") from None


def network_settings(config: ApplianceConfig) -> NetworkSettings:
    region = get_region(config.region)
    fixed = isinstance(region.channel_plan, FixedChannelPlan)
    return NetworkSettings(
        net_id=NetID(config.net_id),
        region_name=region.name,
        extra_channels=EU868_EXTRA_FREQUENCIES if region.name == "EU868" else (),
        enabled_sub_band=DEFAULT_SUB_BAND if fixed else None,
        dedup_window_ms=config.dedup_window_ms,
        downlink_wait_ms=config.downlink_wait_ms,
    )


def log_event(event: NSEvent) -> None:
    if isinstance(event, UplinkEvent):
        best = event.uplink.best
        log.info(
            "uplink dev_eui=%s f_cnt=%d f_port=%s data=%s dr=%d rssi=%d snr=%.1f gateways=%d",
            event.dev_eui,
            event.f_cnt,
            event.f_port,
            event.data.hex(),
            event.dr,
            best.rssi,
            best.snr,
            len(event.uplink.rx_info),
        )
    elif isinstance(event, JoinEvent):
        log.info("join dev_eui=%s dev_addr=%s", event.dev_eui, event.dev_addr)
    elif isinstance(event, AckEvent):
        log.info(
            "ack dev_eui=%s f_cnt_down=%d acknowledged=%s",
            event.dev_eui,
            event.f_cnt_down,
            event.acknowledged,
        )
    elif isinstance(event, TxAckEvent):
        level = logging.DEBUG if event.status.name == "OK" else logging.WARNING
        log.log(
            level,
            "txack dev_eui=%s downlink_id=%d status=%s",
            event.dev_eui,
            event.downlink_id,
            event.status.name,
        )
    elif isinstance(event, DeviceMACEvent):
        log.info("mac dev_eui=%s %s", event.dev_eui, event.event)
    elif isinstance(event, LogEvent):
        log.warning("device dev_eui=%s %s: %s", event.dev_eui, event.code, event.message)


async def _drive_fleet(fleet: Fleet, radio: VirtualRadioBackend) -> None:
    """Let simulated devices transmit when they are due, on the real clock."""
    while True:
        now = radio.now_ns()
        fleet.step(now, radio.air)
        wakeup = fleet.next_wakeup_ns()
        delay = 1.0 if wakeup is None else min(max(wakeup - radio.now_ns(), 0) / 1e9, 1.0)
        await asyncio.sleep(delay)


def configured_backends(config: ApplianceConfig, settings: NetworkSettings) -> list[Backend]:
    backends: list[Backend] = []
    if config.udp_bind:
        backends.append(SemtechUDPBackend({"bind": config.udp_bind}))
    if config.basic_station_bind:
        station_options = {"bind": config.basic_station_bind, "region": settings.region_name}
        backends.append(BasicStationBackend(parse_options(station_options)))
    for options in config.backends:
        settings_for_kind = {k: v for k, v in options.items() if k != "kind"}
        backends.append(create_backend(str(options["kind"]), settings_for_kind))
    return backends


def build_api(config: ApplianceConfig, context: APIContext) -> APIServer | None:
    if not config.api_bind:
        return None
    return APIServer(
        create_app(context),
        config.api_bind,
        tls_cert=Path(config.api_tls_cert) if config.api_tls_cert else None,
        tls_key=Path(config.api_tls_key) if config.api_tls_key else None,
    )


async def serve(config: ApplianceConfig, stop: asyncio.Event) -> None:
    prepare_data_dir(config)
    store = SQLiteStore.open(config.data_dir)
    settings = network_settings(config)
    backends = configured_backends(config, settings)
    fleet: Fleet | None = None
    radio: VirtualRadioBackend | None = None
    if config.simulate:
        radio = create_virtual_radio(
            {"region": settings.region_name, "sub_band": settings.enabled_sub_band}
        )
        devices = await provision(
            store, settings.region_name, config.simulate, now_ns=time.monotonic_ns()
        )
        fleet = Fleet(settings.region, devices)
        radio.listen(fleet.hear)
        backends.append(radio)
    repository = Repository(store.connection)
    ensure_admin_key(repository, config.data_dir, datetime.now(UTC))
    if config.simulate:
        ensure_application(
            repository,
            SIMULATED_APPLICATION_ID,
            "simulated devices",
            "devices of appliance run --simulate",
            datetime.now(UTC),
        )
    status = StatusTracker(repository)
    application_server = ApplicationServer(repository, status)

    def emit(event: NSEvent) -> None:
        log_event(event)
        application_server.handle(event)

    server = NetworkServer(settings, store, backends, emit=emit)
    context = APIContext(
        store=store,
        repository=repository,
        settings=settings,
        metrics=server.metrics,
        data_dir=config.data_dir,
        version=__version__,
        status=status,
    )
    context.services["gateway_routes"] = server.gateway_routes
    api = build_api(config, context)
    driver: asyncio.Task[None] | None = None
    try:
        await application_server.start()
        await server.start()
        if api is not None:
            await api.start()
        if fleet is not None and radio is not None:
            driver = asyncio.create_task(_drive_fleet(fleet, radio), name="simulated-devices")
        log.info(
            "appliance %s started: region %s, data in %s, backends: %s",
            __version__,
            settings.region_name,
            config.data_dir.resolve(),
            ", ".join(_describe(b, config.simulate if b is radio else 0) for b in backends)
            or "none",
        )
        if api is not None:
            log.info(
                "API on %s (OpenAPI document at %s/openapi.json; local admin key in %s)",
                api.url,
                api.url,
                config.data_dir / "admin.key",
            )
        await stop.wait()
    finally:
        if driver is not None:
            driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver
        if api is not None:
            await api.stop()
        await server.stop()
        await application_server.stop()
        store.close()
    log.info("appliance stopped")


def _describe(backend: Backend, simulated: int) -> str:
    if isinstance(backend, SemtechUDPBackend):
        return f"semtech-udp on port {backend.port}"
    if isinstance(backend, BasicStationBackend):
        return f"basic-station on port {backend.port}"
    if isinstance(backend, VirtualRadioBackend):
        devices = f" with {simulated} simulated devices" if simulated else ""
        return f"virtual radio {backend.gateway_id}{devices}"
    return backend.name


def run(config: ApplianceConfig) -> int:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(config, stop)

    asyncio.run(main())
    return 0
