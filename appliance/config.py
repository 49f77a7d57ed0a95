"""The appliance's configuration: embedded defaults, optionally overridden by a TOML file.

``appliance run`` with no options runs on these defaults, so a fresh install needs no file.
Unknown keys and bad values are refused with one line naming the key, never ignored silently.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import NetID
from appliance.lorawan.regions import get_region


class ConfigError(Exception):
    """The configuration file or an option cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class ApplianceConfig:
    region: str = "EU868"
    data_dir: Path = Path("data")
    log_level: str = "info"
    # Event lines (one per uplink, join...) a second before the rest are only counted.
    log_event_lines_per_s: int = 100
    net_id: str = "000000"
    udp_bind: str = "0.0.0.0:1700"  # Semtech UDP packet forwarders; "" turns it off
    basic_station_bind: str = "0.0.0.0:3001"  # LoRa Basics Station; "" turns it off
    simulate: int = 0  # simulated devices on a virtual radio
    # Check every page of appliance.db at start even when a clean stop left it unchanged.
    check_database: bool = False
    dedup_window_ms: int = 200
    downlink_wait_ms: int = 100
    # Uplink events waiting for the application side before new uplinks are refused.
    max_application_backlog: int = 4096
    # More backends by kind, e.g. [[backends]] kind = "concentratord" (docs/running.md).
    backends: tuple[dict[str, Any], ...] = ()
    # The REST API and live stream; loopback only unless told otherwise. "" turns it off.
    api_bind: str = "127.0.0.1:8080"
    api_tls_cert: str = ""  # PEM certificate file: serve HTTPS (needs api_tls_key)
    api_tls_key: str = ""
    # The global MQTT integration (every application's events), e.g. mqtt://127.0.0.1:1883.
    mqtt_url: str = ""
    # The upstream bridge ([bridge] table, docs/bridge.md); empty: off.
    bridge: dict[str, Any] = field(default_factory=dict)
    # Network-server policy ([network] table, docs/network-server.md): RX windows, ADR bounds,
    # DevAddr block, confirmed-downlink timeout...
    network: dict[str, Any] = field(default_factory=dict)
    # MAC commands the network server originates ([mac] table, docs/network-server.md).
    mac: dict[str, Any] = field(default_factory=dict)
    # Options of the global MQTT integration ([mqtt] table, docs/integrations.md).
    mqtt: dict[str, Any] = field(default_factory=dict)
    # Bounds of the integrations' durable outbox ([outbox] table, docs/integrations.md).
    outbox: dict[str, Any] = field(default_factory=dict)
    # Retention and batching of the event and frame log ([event_log] table, docs/events.md).
    event_log: dict[str, Any] = field(default_factory=dict)

    def validated(self) -> ApplianceConfig:
        try:
            region = get_region(self.region).name
        except InvalidValueError as exc:
            raise ConfigError(f"region: {exc}") from None
        try:
            NetID(self.net_id)
        except InvalidValueError as exc:
            raise ConfigError(f"net_id: {exc}") from None
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise ConfigError(
                f"log_level: must be debug, info, warning or error, got {self.log_level!r}"
            )
        for name in ("simulate", "dedup_window_ms", "downlink_wait_ms", "log_event_lines_per_s"):
            value = getattr(self, name)
            if not 0 <= value <= 100_000:
                raise ConfigError(f"{name}: must be 0..100000, got {value}")
        if not 16 <= self.max_application_backlog <= 1_000_000:
            raise ConfigError(
                f"max_application_backlog: must be 16..1000000, got {self.max_application_backlog}"
            )
        self._check_network()
        self._check_mac()
        self._check_bridge()
        self._check_integrations()
        # Imported here: loading every backend module is slow, and only validation needs it.
        from hal.registry import backend_kinds  # noqa: PLC0415

        for index, backend in enumerate(self.backends):
            kind = backend.get("kind")
            if not isinstance(kind, str) or kind not in backend_kinds():
                raise ConfigError(
                    f"backends[{index}].kind: expected one of "
                    f"{', '.join(backend_kinds())}, got {kind!r}"
                )
        if bool(self.api_tls_cert) != bool(self.api_tls_key):
            raise ConfigError("api_tls_cert and api_tls_key: give both or neither")
        for name in ("api_tls_cert", "api_tls_key"):
            value = getattr(self, name)
            if value and not os.access(value, os.R_OK):
                raise ConfigError(f"{name}: cannot read {value}")
        for name in ("udp_bind", "basic_station_bind", "api_bind"):
            value = getattr(self, name)
            host, _, port = value.rpartition(":")
            if value and not (host and port.isdigit() and 0 <= int(port) <= 65535):
                raise ConfigError(f"{name}: expected HOST:PORT or an empty string, got {value!r}")
        return replace(self, region=region)

    def _check_integrations(self) -> None:
        from appliance.integrations import (  # noqa: PLC0415 - validation only
            IntegrationConfigError,
            outbox_limits_from_mapping,
            parse_global_mqtt,
        )

        try:
            if self.mqtt_url or self.mqtt:
                parse_global_mqtt(self.mqtt_url, self.mqtt)
            outbox_limits_from_mapping(self.outbox)
        except (IntegrationConfigError, ValueError) as exc:
            raise ConfigError(str(exc).splitlines()[0]) from None
        from appliance.app.events import EventLogOptions  # noqa: PLC0415 - validation only

        try:
            EventLogOptions.from_mapping(self.event_log)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"event_log: {str(exc).splitlines()[0]}") from None

    def _check_mac(self) -> None:
        from appliance.ns.mac.policy_config import (  # noqa: PLC0415 - validation only
            MACPolicyError,
            mac_policy_from_mapping,
        )

        try:
            mac_policy_from_mapping(self.mac)
        except MACPolicyError as exc:
            raise ConfigError(str(exc)) from None

    def _check_bridge(self) -> None:
        from appliance.bridge import BridgeConfigError, parse_bridge_config  # noqa: PLC0415

        try:
            bridge = parse_bridge_config(self.bridge)
        except BridgeConfigError as exc:
            raise ConfigError(str(exc)) from None
        if bridge.enabled and not bridge.gateway_ids:
            raise ConfigError(
                "bridge.gateway_ids: list the gateway IDs the appliance represents upstream"
            )

    def _check_network(self) -> None:
        from appliance.ns.network import NetworkSettings  # noqa: PLC0415 - validation only

        unknown = sorted(set(self.network) - NETWORK_KEYS)
        if unknown:
            raise ConfigError(
                f"network.{unknown[0]}: unknown key (known: {', '.join(sorted(NETWORK_KEYS))})"
            )
        try:
            NetworkSettings(region_name=self.region, **self.network)
        except (InvalidValueError, TypeError, ValueError) as exc:
            raise ConfigError(f"network: {exc}") from None


_TYPES: dict[str, type] = {
    "data_dir": str,
    "simulate": int,
    "check_database": bool,
    "dedup_window_ms": int,
    "downlink_wait_ms": int,
    "max_application_backlog": int,
    "backends": list,
    "bridge": dict,
    "network": dict,
    "mac": dict,
    "mqtt": dict,
    "outbox": dict,
    "event_log": dict,
}

# [network] keys: the NetworkSettings fields a site may tune (the rest follow other options).
# The sub-band most US915/AU915 networks and gateways use (here so the device simulator
# command can name it without importing the runtime and its web stack).
DEFAULT_SUB_BAND = 2

NETWORK_KEYS = frozenset(
    {
        "dev_addr_prefix",
        "rx1_delay_s",
        "rx1_dr_offset",
        "rx2_dr",
        "rx2_frequency",
        "rx_window",
        "rx2_prefer_on_rx1_dr_lt",
        "downlink_tx_power_dbm",
        "installation_margin_db",
        "min_dr",
        "max_dr",
        "adr_disabled",
        "max_mac_command_errors",
        "rx_window_lead_ms",
        "confirmed_downlink_timeout_s",
        "device_session_ttl_days",
        "max_f_cnt_gap",
    }
)


def default_data_dir() -> Path:
    """systemd's StateDirectory when run as a service, else ``./data`` next to the checkout."""
    state = os.environ.get("STATE_DIRECTORY")
    return Path(state.split(":")[0]) if state else Path("data")


def load_config(path: Path | None, overrides: dict[str, Any]) -> ApplianceConfig:
    """Defaults, then the TOML file (if any), then command-line overrides (non-None values)."""
    values: dict[str, Any] = {"data_dir": default_data_dir()}
    if path is not None:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        values.update(_from_document(document, path))
    values.update({key: value for key, value in overrides.items() if value is not None})
    values["data_dir"] = Path(values["data_dir"])
    return ApplianceConfig(**values).validated()


def _from_document(document: dict[str, Any], path: Path) -> dict[str, Any]:
    known = {field.name for field in fields(ApplianceConfig)}
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        expected = _TYPES.get(key, str)
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            wanted = {
                int: "an integer",
                bool: "true or false",
                list: "a list of tables",
                dict: "a table",
            }.get(expected, "a string")
            raise ConfigError(f"{path}: {key} must be {wanted}, got {type(value).__name__}")
        if isinstance(value, list):
            if not all(isinstance(entry, dict) for entry in value):
                raise ConfigError(f"{path}: {key} must be [[{key}]] tables")
            values[key] = tuple(value)
        else:
            values[key] = value
    return values
