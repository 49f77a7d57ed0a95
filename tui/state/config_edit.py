"""The settings the Config screen edits, read from and written as the appliance's
configuration API has them (``GET/PUT /api/system/config``, docs/api.md).

``GET`` answers ``{"running": {...}, "file": {...}, "configFile": ..., "restartRequired": ...}``
with the keys of the TOML file (snake_case); what the next start will use is the file's value
where it has one, else the running one. ``PUT`` takes ``{"changes": {key: value}}`` where a
value replaces the whole key, so a change of the bridge sends the whole ``[bridge]`` table and
a change of the board profile the whole ``backends`` list, each as read with the edit applied.

The appliance masks secrets in what it sends (``********``); a table holding one cannot be
sent back from here without overwriting the secret, so the console refuses and says where
to change it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from appliance.lorawan.regions import REGION_NAMES

BRIDGE_MODES = ("off", "forwarder", "hybrid")
BRIDGE_TRANSPORTS = ("mqtt", "semtech-udp")
MASK = "********"
CONCENTRATOR_KIND = "sx1302"  # the backend whose board profile this screen shows
_MQTT_SCHEMES = ("mqtt://", "mqtts://", "tcp://", "ssl://", "tls://")
_EUI = re.compile(r"^[0-9a-fA-F]{16}$")
_PROFILE = re.compile(r"^[A-Za-z0-9_-]+$")


class ConfigInvalidError(ValueError):
    """One line naming the setting that cannot be used."""


@dataclass(frozen=True, slots=True)
class ConfigValues:
    region: str
    board_profile: str
    bridge_mode: str
    bridge_transport: str
    bridge_server: str
    bridge_gateways: str  # comma-separated gateway IDs


def effective(document: dict[str, Any]) -> dict[str, Any]:
    """What the next start uses: the file's values over the running ones."""
    running = document.get("running")
    file = document.get("file")
    merged = dict(running) if isinstance(running, dict) else {}
    if isinstance(file, dict):
        merged.update(file)
    return merged


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _concentrator(backends: Any) -> dict[str, Any] | None:
    for backend in backends if isinstance(backends, list) else []:
        if isinstance(backend, dict) and backend.get("kind") == CONCENTRATOR_KIND:
            return backend
    return None


def read_values(document: dict[str, Any]) -> ConfigValues:
    config = effective(document)
    bridge = _table(config.get("bridge"))
    transport = str(bridge.get("transport") or "mqtt")
    if transport == "semtech-udp":
        server = _table(bridge.get("semtech_udp")).get("server", "")
    else:
        server = _table(bridge.get("mqtt")).get("url", "")
    gateways = bridge.get("gateway_ids")
    concentrator = _concentrator(config.get("backends")) or {}
    return ConfigValues(
        region=str(config.get("region") or "EU868"),
        board_profile=str(concentrator.get("profile") or ""),
        bridge_mode=str(bridge.get("mode") or "off"),
        bridge_transport=transport,
        bridge_server=str(server or ""),
        bridge_gateways=", ".join(str(g) for g in gateways) if isinstance(gateways, list) else "",
    )


def _gateway_ids(text: str) -> list[str]:
    ids = [part.strip().lower() for part in text.replace(";", ",").split(",") if part.strip()]
    for gateway in ids:
        if not _EUI.match(gateway):
            raise ConfigInvalidError(f"gateway IDs: {gateway!r} is not 16 hexadecimal digits")
    return ids


def validate(values: ConfigValues) -> None:
    if values.region not in REGION_NAMES:
        raise ConfigInvalidError(
            f"region: {values.region!r} is not one of {', '.join(REGION_NAMES)}"
        )
    if values.board_profile and not _PROFILE.match(values.board_profile):
        raise ConfigInvalidError("board profile: letters, digits, '-' and '_' only")
    if values.bridge_mode not in BRIDGE_MODES:
        raise ConfigInvalidError(f"bridge mode: must be one of {', '.join(BRIDGE_MODES)}")
    if values.bridge_transport not in BRIDGE_TRANSPORTS:
        raise ConfigInvalidError(f"bridge transport: must be one of {', '.join(BRIDGE_TRANSPORTS)}")
    gateways = _gateway_ids(values.bridge_gateways)
    if values.bridge_mode == "off":
        return
    server = values.bridge_server
    if not server:
        raise ConfigInvalidError("bridge server: required when the bridge is on")
    if values.bridge_transport == "mqtt" and not server.startswith(_MQTT_SCHEMES):
        raise ConfigInvalidError("bridge server: an MQTT broker URL, e.g. mqtt://host:1883")
    if values.bridge_transport == "semtech-udp":
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigInvalidError("bridge server: HOST:PORT of the upstream UDP server")
    if not gateways:
        raise ConfigInvalidError("gateway IDs: required when the bridge is on")


def _refuse_masked(name: str, value: Any, config_file: str) -> None:
    if MASK in repr(value):
        raise ConfigInvalidError(
            f"{name}: holds a secret the API does not show; change it in {config_file}"
        )


def changes(document: dict[str, Any], values: ConfigValues) -> dict[str, Any]:
    """The ``changes`` of a ``PUT`` that make the configuration say ``values``: only the keys
    that differ. ``ConfigInvalidError`` names the first value that cannot be used."""
    validate(values)
    config = effective(document)
    config_file = str(document.get("configFile") or "the configuration file")
    current = read_values(document)
    result: dict[str, Any] = {}
    if values.region != current.region:
        result["region"] = values.region
    profile_changed = values.board_profile != current.board_profile
    has_concentrator = _concentrator(config.get("backends")) is not None
    if profile_changed or ("region" in result and has_concentrator):
        backends = copy.deepcopy(config.get("backends") or [])
        concentrator = _concentrator(backends)
        if profile_changed:
            if not values.board_profile:
                raise ConfigInvalidError(
                    f"board profile: to remove the concentrator, edit {config_file}"
                )
            if concentrator is None:
                concentrator = {"kind": CONCENTRATOR_KIND, "region": values.region}
                backends.append(concentrator)
            concentrator["profile"] = values.board_profile
        if concentrator is not None and "region" in concentrator:
            concentrator["region"] = values.region  # the board's limits follow the region
        _refuse_masked("backends", backends, config_file)
        result["backends"] = backends
    bridge_fields = ("bridge_mode", "bridge_transport", "bridge_server", "bridge_gateways")
    if any(getattr(values, name) != getattr(current, name) for name in bridge_fields):
        bridge = copy.deepcopy(_table(config.get("bridge")))
        bridge["mode"] = values.bridge_mode
        bridge["transport"] = values.bridge_transport
        bridge["gateway_ids"] = _gateway_ids(values.bridge_gateways)
        if values.bridge_server:
            if values.bridge_transport == "mqtt":
                bridge.setdefault("mqtt", {})["url"] = values.bridge_server
            else:
                bridge.setdefault("semtech_udp", {})["server"] = values.bridge_server
        _refuse_masked("bridge", bridge, config_file)
        result["bridge"] = bridge
    return result
