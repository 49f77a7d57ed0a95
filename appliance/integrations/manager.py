"""The integrations as one running part: the outbox, a target and a courier for each
integration, and the hooks the runtime needs (``record`` as the event flow's sink,
``reload`` after an API change, ``validate`` for the API, ``status``/``metrics``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.app.events import EventBuildError, EventRecord
from appliance.integrations.courier import Courier, Target, TargetStats
from appliance.integrations.errors import IntegrationConfigError, OutboxError
from appliance.integrations.hooks import Enqueue, Report
from appliance.integrations.http_config import HTTPConfig, InfluxDBConfig, Retry
from appliance.integrations.http_target import HTTPTarget
from appliance.integrations.influxdb_target import InfluxDBTarget
from appliance.integrations.limits import OutboxLimits
from appliance.integrations.metrics import prometheus_lines, target_status
from appliance.integrations.mqtt_config import MQTTConfig
from appliance.integrations.mqtt_target import MQTTTarget
from appliance.integrations.outbox import Outbox
from appliance.integrations.queue import Entry, TargetQueue
from appliance.integrations.reporting import Reporter
from appliance.integrations.specs import (
    GLOBAL_MQTT,
    IntegrationSource,
    Spec,
    application_specs,
    validate,
)

log = logging.getLogger("appliance.integrations")

_Route = tuple[TargetQueue, frozenset[Any] | None]


@dataclass(slots=True)
class _Running:
    spec: Spec
    target: Target
    courier: Courier


class IntegrationManager:
    def __init__(
        self,
        data_dir: Path,
        repository: IntegrationSource,
        *,
        global_mqtt: MQTTConfig | None,
        enqueue: Enqueue,
        report: Report,
        clock: Callable[[], int] = time.time_ns,
        monotonic: Callable[[], float] = time.monotonic,
        limits: OutboxLimits | None = None,
        wait: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.repository = repository
        self.global_mqtt = global_mqtt
        self.limits = limits or OutboxLimits()
        self._enqueue = enqueue
        self._clock = clock
        self._wait = wait
        self.reporter = Reporter(report, monotonic=monotonic)
        self.outbox = Outbox(
            data_dir / "outbox.db",
            self.limits,
            clock=clock,
            on_drop=self._dropped,
            wait=wait,
        )
        self._running: dict[str, _Running] = {}
        self._stats: dict[str, TargetStats] = {}  # survive a target's reconfiguration
        self._removed: dict[tuple[str, str], int] = {}
        self._global_routes: tuple[_Route, ...] = ()
        self._routes: dict[uuid.UUID, tuple[_Route, ...]] = {}
        self._maintenance: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one reconfiguration at a time

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the outbox (``OutboxError`` if it cannot) and start every target."""
        await self.outbox.open()
        specs = (
            [] if self.global_mqtt is None else [Spec(GLOBAL_MQTT, "mqtt", None, self.global_mqtt)]
        )
        for integration in self.repository.integrations():
            specs += self._specs_of(integration)
        async with self._lock:
            for spec in specs:
                await self._launch(spec)
            for name in self.outbox.stored_targets():
                if name not in self._running:
                    await self._retire(name, _kind_of(name), application_id=_app_of(name))
            self._route()
        self._maintenance = asyncio.create_task(self._maintain(), name="integrations outbox")

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
            self._maintenance = None
        async with self._lock:
            self._global_routes, self._routes = (), {}
            for running in list(self._running.values()):
                await self._halt(running)
        await self.outbox.close()  # the targets stay listed, with their final counts

    async def _maintain(self) -> None:
        limits = self.limits
        since_check = 0.0
        while True:
            await self._wait(limits.delete_interval_s)
            self.outbox.flush_deletes()
            since_check += limits.delete_interval_s
            if since_check >= limits.maintenance_s:
                since_check = 0.0
                self.outbox.check_ages()

    # --- the event flow's sink --------------------------------------------------------------

    async def record(self, records: Sequence[EventRecord]) -> None:
        """Record ``records`` for every target that should get them; returns once they are
        durable."""
        items = []
        for record in records:
            routes = self._global_routes + self._routes.get(record.application_id, ())
            queues = [queue for queue, kinds in routes if kinds is None or record.kind in kinds]
            items.append((record, queues))
        try:
            await self.outbox.append(items)
        except OutboxError:  # stopping (or never started): the event flow must not fail
            log.error("integrations: not running; %d events not recorded", len(records))

    # --- configuration ----------------------------------------------------------------------

    def validate(self, kind: str, config: dict[str, Any]) -> dict[str, Any]:
        return validate(kind, config)

    async def reload(self, app_id: uuid.UUID) -> None:
        """Apply the stored integrations of ``app_id`` (after an API change)."""
        wanted: dict[str, Spec] = {}
        for integration in self.repository.integrations(app_id):
            for spec in self._specs_of(integration):
                wanted[spec.name] = spec
        async with self._lock:
            current = {
                name: running
                for name, running in self._running.items()
                if running.spec.application_id == app_id
            }
            for name, running in current.items():
                if name not in wanted:
                    await self._halt(running)
                    del self._running[name]
                    await self._retire(name, running.spec.kind, application_id=app_id)
            for name, spec in wanted.items():
                old = current.get(name)
                if old is not None and old.spec == spec:
                    continue
                if old is not None:
                    await self._halt(old)  # its queue stays: the new settings deliver it
                await self._launch(spec)
            self._route()

    def _specs_of(self, integration: Any) -> list[Spec]:
        try:
            return application_specs(integration)
        except IntegrationConfigError as error:
            self.reporter(
                f"config/{integration.application_id}/{integration.kind}",
                f"{integration.kind} integration of application {integration.application_id} "
                f"not started: {error}",
                application_id=integration.application_id,
                level=logging.ERROR,
            )
            return []

    def _target(self, spec: Spec) -> Target:
        stats = self._stats.setdefault(spec.name, TargetStats())
        config = spec.config
        if isinstance(config, MQTTConfig):
            return MQTTTarget(
                spec.name,
                config,
                application_id=spec.application_id,
                enqueue=self._enqueue,
                reporter=self.reporter,
                stats=stats,
                clock_s=lambda: self._clock() / 1e9,
                wait=self._wait,
            )
        assert spec.application_id is not None
        if isinstance(config, HTTPConfig):
            return HTTPTarget(
                spec.name,
                spec.url,
                config,
                application_id=spec.application_id,
                stats=stats,
                clock_s=lambda: self._clock() / 1e9,
            )
        return InfluxDBTarget(
            spec.name,
            config,
            application_id=spec.application_id,
            stats=stats,
            clock_s=lambda: self._clock() / 1e9,
        )

    @staticmethod
    def _retry(spec: Spec) -> Retry:
        config = spec.config
        if isinstance(config, HTTPConfig | InfluxDBConfig):
            return config.retry
        return Retry(config.reconnect_min_s, config.reconnect_max_s)

    async def _launch(self, spec: Spec) -> None:
        queue = await self.outbox.queue(spec.name)
        target = self._target(spec)
        await target.start()
        courier = Courier(
            self.outbox,
            queue,
            target,
            self._retry(spec),
            on_refused=self._refused,
            wait=self._wait,
        )
        courier.start()
        self._running[spec.name] = _Running(spec, target, courier)
        log.info("integration %s: delivering to %s", spec.name, target.destination)

    async def _halt(self, running: _Running) -> None:
        await running.courier.stop()
        await running.target.close()

    async def _retire(self, name: str, kind: str, *, application_id: uuid.UUID | None) -> None:
        """Forget a target that is no longer configured, and what waited for it."""
        dropped = await self.outbox.remove(name)
        self._stats.pop(name, None)
        if dropped.count:
            key = (name, kind)
            self._removed[key] = self._removed.get(key, 0) + dropped.count
            self.reporter(
                f"removed/{name}",
                f"integration {name} removed: {dropped.count} undelivered events dropped",
                application_id=application_id,
            )

    def _route(self) -> None:
        global_routes: list[_Route] = []
        routes: dict[uuid.UUID, list[_Route]] = {}
        for running in self._running.values():
            spec = running.spec
            route = (running.courier.queue, spec.kinds)
            if spec.application_id is None:
                global_routes.append(route)
            else:
                routes.setdefault(spec.application_id, []).append(route)
        self._global_routes = tuple(global_routes)
        self._routes = {app: tuple(items) for app, items in routes.items()}

    # --- reports ----------------------------------------------------------------------------

    def _application_of(self, queue: TargetQueue) -> uuid.UUID | None:
        running = self._running.get(queue.name)
        return None if running is None else running.spec.application_id

    def _dropped(self, queue: TargetQueue, reason: str, count: int) -> None:
        limits = self.limits
        why = {
            "max_events": f"max_events={limits.max_events} reached",
            "max_bytes": f"max_bytes={limits.max_bytes} reached",
            "max_age": f"older than max_age_hours={limits.max_age_hours:g}",
            "write_failed": "the outbox file refused writes too long",
        }.get(reason, reason)
        self.reporter(
            f"drop/{queue.name}/{reason}",
            f"integration {queue.name}: outbox {why}: {count} oldest undelivered events dropped",
            application_id=self._application_of(queue),
        )

    def _refused(self, queue: TargetQueue, entry: Entry, reason: str) -> None:
        application_id, dev_eui = self._application_of(queue), None
        try:
            record = entry.event()
            application_id, dev_eui = record.application_id, record.dev_eui
        except EventBuildError:
            pass
        self.reporter(
            f"refused/{queue.name}",
            f"integration {queue.name}: {entry.kind} event dropped: {reason}",
            application_id=application_id,
            dev_eui=dev_eui,
        )

    # --- what the API shows -----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "outbox": {
                "file": str(self.outbox.path),
                "commits": self.outbox.commits,
                "rows_written": self.outbox.rows_written,
                "write_errors": self.outbox.write_errors,
                "max_events": self.limits.max_events,
                "max_bytes": self.limits.max_bytes,
                "max_age_hours": self.limits.max_age_hours,
            },
            "backlog": sum(r.courier.queue.count for r in self._running.values()),
            "targets": [target_status(r.courier) for r in self._running.values()],
        }

    def backlog(self, app_id: uuid.UUID) -> dict[str, int]:
        """Events waiting per target of one application (for the API's integration view)."""
        return {
            name: running.courier.queue.count
            for name, running in self._running.items()
            if running.spec.application_id == app_id
        }

    def metrics(self) -> list[str]:
        return prometheus_lines(
            (r.courier for r in self._running.values()),
            removed=self._removed,
            commits=self.outbox.commits,
            rows_written=self.outbox.rows_written,
            write_errors=self.outbox.write_errors,
            bytes_appended=self.outbox.bytes_appended,
        )


def _kind_of(name: str) -> str:
    parts = name.split("/")
    return parts[2] if len(parts) > 2 and parts[0] == "app" else parts[-1]


def _app_of(name: str) -> uuid.UUID | None:
    parts = name.split("/")
    if len(parts) > 1 and parts[0] == "app":
        with contextlib.suppress(ValueError):
            return uuid.UUID(parts[1])
    return None
