"""What the runtime adds to /api/system/status and /metrics: the backends with their gateways,
and the upstream bridge; and the one-line descriptions of backends used in logs and status."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from appliance.app.service import ApplicationServer
from appliance.bridge import BridgeLogEvent, UpstreamBridge
from appliance.lorawan.identifiers import EUI64
from hal.backend import Backend
from hal.basic_station import BasicStationBackend
from hal.semtech_udp import SemtechUDPBackend
from hal.virtual_radio import VirtualRadioBackend

log = logging.getLogger("appliance")


class GatewayExtension:
    """Backends, their gateways and the gateways' latest statistics (status and metrics)."""

    def __init__(
        self,
        backends: list[Backend],
        routes: Callable[[], dict[str, str]],
        latest_stats: Callable[[], dict[EUI64, dict[str, Any]]],
    ) -> None:
        self.backends = backends
        self.routes = routes
        self.latest_stats = latest_stats

    def status(self) -> dict[str, Any]:
        routes = self.routes()
        backends = []
        for backend in self.backends:
            entry: dict[str, Any] = {
                "name": backend.name,
                "description": describe_backend(backend, 0),
                "gateways": sorted(g for g, name in routes.items() if name == backend.name),
            }
            report = getattr(backend, "status", None)
            if callable(report):
                with contextlib.suppress(Exception):
                    entry["details"] = report()
            backends.append(entry)
        return {"backends": backends}

    def metrics(self) -> list[str]:
        stats = self.latest_stats()
        lines = [
            "# HELP appliance_gateway_rx_packets_total Packets a gateway received (its stats).",
            "# TYPE appliance_gateway_rx_packets_total counter",
        ]
        lines += [
            f'appliance_gateway_rx_packets_total{{gateway_id="{g}"}} {s["rx_packets_received"]}'
            for g, s in sorted(stats.items())
        ]
        lines += [
            "# HELP appliance_gateway_tx_packets_total Packets a gateway emitted (its stats).",
            "# TYPE appliance_gateway_tx_packets_total counter",
        ]
        lines += [
            f'appliance_gateway_tx_packets_total{{gateway_id="{g}"}} {s["tx_packets_emitted"]}'
            for g, s in sorted(stats.items())
        ]
        return lines


class ApplicationExtension:
    """The application side's backlog: events the network server produced that its consumers
    (event log, live stream, integrations) have not had yet."""

    def __init__(self, server: ApplicationServer) -> None:
        self.server = server

    def status(self) -> dict[str, Any]:
        return {
            "backlog": self.server.backlog,
            "max_backlog": self.server.max_backlog,
            "overloads": self.server.overloads,
            "events_handled": self.server.events_handled,
            "consumer_errors": self.server.consumer_errors,
        }

    def metrics(self) -> list[str]:
        server = self.server
        return [
            "# HELP appliance_application_backlog Events waiting for the application side.",
            "# TYPE appliance_application_backlog gauge",
            f"appliance_application_backlog {server.backlog}",
            "# HELP appliance_application_overloads_total Times the backlog was full and the "
            "network server began refusing uplinks.",
            "# TYPE appliance_application_overloads_total counter",
            f"appliance_application_overloads_total {server.overloads}",
            "# HELP appliance_application_events_total Events handed to the application side's "
            "consumers.",
            "# TYPE appliance_application_events_total counter",
            f"appliance_application_events_total {server.events_handled}",
        ]


def log_bridge_event(event: BridgeLogEvent) -> None:
    level = {"info": logging.INFO, "warning": logging.WARNING}.get(event.level, logging.ERROR)
    log.log(level, "bridge %s: %s", event.code, event.message)


class BridgeExtension:
    """The bridge's state and counters for /api/system/status and /metrics."""

    def __init__(self, bridge: UpstreamBridge) -> None:
        self.bridge = bridge

    def status(self) -> dict[str, Any]:
        return {
            "connected": self.bridge.connected,
            "backlog": self.bridge.backlog,
            "spool_bytes": self.bridge.spool_bytes,
            **self.bridge.counters.snapshot(),
        }

    def metrics(self) -> list[str]:
        counters = self.bridge.counters
        lines = [
            "# HELP appliance_bridge_connected 1 while the upstream link is up.",
            "# TYPE appliance_bridge_connected gauge",
            f"appliance_bridge_connected {int(self.bridge.connected)}",
            "# HELP appliance_bridge_backlog Uplinks waiting to go upstream.",
            "# TYPE appliance_bridge_backlog gauge",
            f"appliance_bridge_backlog {self.bridge.backlog}",
            "# HELP appliance_bridge_uplinks_sent_total Uplinks sent upstream.",
            "# TYPE appliance_bridge_uplinks_sent_total counter",
            f"appliance_bridge_uplinks_sent_total {counters.uplinks_sent}",
            "# HELP appliance_bridge_uplinks_replayed_total Uplinks sent late, from the spool.",
            "# TYPE appliance_bridge_uplinks_replayed_total counter",
            f"appliance_bridge_uplinks_replayed_total {counters.uplinks_replayed}",
            "# HELP appliance_bridge_dropped_total Uplinks or stats the bridge had to drop.",
            "# TYPE appliance_bridge_dropped_total counter",
        ]
        lines += [
            f'appliance_bridge_dropped_total{{reason="{reason}"}} {count}'
            for reason, count in sorted(counters.dropped.items())
        ]
        return lines


def describe_backend(backend: Backend, simulated: int) -> str:
    if isinstance(backend, SemtechUDPBackend):
        return f"semtech-udp on port {backend.port}"
    if isinstance(backend, BasicStationBackend):
        return f"basic-station on port {backend.port}"
    if isinstance(backend, VirtualRadioBackend):
        devices = f" with {simulated} simulated devices" if simulated else ""
        return f"virtual radio {backend.gateway_id}{devices}"
    return backend.name
