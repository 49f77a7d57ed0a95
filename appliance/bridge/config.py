"""The ``[bridge]`` table: mode, transport, MQTT/Semtech UDP settings, hybrid rules, spool limits.

Every option has a default (``docs/bridge.md`` lists them); unknown keys and bad values raise
``BridgeConfigError`` with one line naming the option, e.g. ``bridge.mqtt.qos: must be 0, 1 or 2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from appliance.bridge.ranges import DevAddrPrefix, EUIRange, parse_dev_addr_prefix, parse_eui_range
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, NetID


class BridgeConfigError(ValueError):
    """A ``[bridge]`` option cannot be used; the message names it."""


class Mode(StrEnum):
    OFF = "off"
    FORWARDER = "forwarder"  # every frame goes upstream
    HYBRID = "hybrid"  # frames of local devices stay, the rest goes upstream


class Transport(StrEnum):
    MQTT = "mqtt"
    SEMTECH_UDP = "semtech-udp"


class Encoding(StrEnum):
    PROTOBUF = "protobuf"
    JSON = "json"


class ProprietaryRoute(StrEnum):
    LOCAL = "local"
    UPSTREAM = "upstream"


_SECURE_SCHEMES: Final = frozenset({"mqtts", "ssl", "tls"})
_PLAIN_SCHEMES: Final = frozenset({"mqtt", "tcp"})


@dataclass(frozen=True, slots=True)
class MQTTSettings:
    url: str = "mqtt://127.0.0.1:1883"
    topic_prefix: str = "eu868"
    qos: int = 1
    encoding: Encoding = Encoding.PROTOBUF
    username: str = ""
    password: str = field(default="", repr=False)
    ca_cert: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_id: str = ""  # "" means "appliance-<gateway id>"
    keepalive_s: int = 30
    timeout_s: float = 10.0
    max_command_bytes: int = 65_536

    @property
    def host(self) -> str:
        return _split_url(self.url)[1]

    @property
    def port(self) -> int:
        return _split_url(self.url)[2]

    @property
    def tls(self) -> bool:
        return _split_url(self.url)[0] in _SECURE_SCHEMES


@dataclass(frozen=True, slots=True)
class SemtechUDPSettings:
    server: str = ""  # HOST:PORT of the central network server (required for this transport)
    keepalive_s: int = 10  # PULL_DATA interval
    ack_timeout_ms: int = 2_000  # PUSH_ACK/PULL_ACK wait before a retry
    push_retries: int = 2  # resends of an unacknowledged PUSH_DATA before the link counts as down
    down_after_s: int = 30  # no acknowledgement at all for this long: the link is down

    @property
    def host(self) -> str:
        return self.server.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.server.rpartition(":")[2])


@dataclass(frozen=True, slots=True)
class HybridRules:
    local_dev_addr_prefixes: tuple[DevAddrPrefix, ...] = ()
    local_join_euis: tuple[EUIRange, ...] = ()
    local_net_ids: tuple[NetID, ...] = ()  # rejoin-requests of type 0/2 carry a NetID
    proprietary: ProprietaryRoute = ProprietaryRoute.UPSTREAM


@dataclass(frozen=True, slots=True)
class StoreLimits:
    file: str = "upstream.db"  # relative to the data directory
    max_frames: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    max_age_s: int = 24 * 3600
    flush_interval_ms: int = 5_000  # while the link is down, spooled frames are committed together


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    mode: Mode = Mode.OFF
    transport: Transport = Transport.MQTT
    gateway_ids: tuple[EUI64, ...] = ()  # empty: the gateways the runtime passes in
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    mqtt: MQTTSettings = MQTTSettings()
    semtech_udp: SemtechUDPSettings = SemtechUDPSettings()
    hybrid: HybridRules = HybridRules()
    store: StoreLimits = StoreLimits()

    @property
    def enabled(self) -> bool:
        return self.mode is not Mode.OFF


def _split_url(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (8883 if scheme in _SECURE_SCHEMES else 1883)
    return scheme, parts.hostname or "", port


class _Table:
    """One TOML table being read: typed getters that name ``path.key`` in their errors and a
    check that nothing unknown was left over."""

    def __init__(self, table: object, path: str) -> None:
        if not isinstance(table, Mapping):
            raise BridgeConfigError(f"{path}: must be a table, got {type(table).__name__}")
        self.values: Mapping[str, Any] = table
        self.path = path
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}"

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.values.get(key)

    def text(self, key: str, default: str) -> str:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise BridgeConfigError(f"{self.name(key)}: must be a string, got {value!r}")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise BridgeConfigError(
                f"{self.name(key)}: must be an integer {low}..{high}, got {value!r}"
            )
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.raw(key)
        if value is None:
            return default
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not low <= value <= high
        ):
            raise BridgeConfigError(
                f"{self.name(key)}: must be a number {low:g}..{high:g}, got {value!r}"
            )
        return float(value)

    def choice(self, key: str, enum: type[StrEnum], default: StrEnum) -> Any:
        value = self.raw(key)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            known = ", ".join(member.value for member in enum)
            raise BridgeConfigError(
                f"{self.name(key)}: must be one of {known}, got {value!r}"
            ) from None

    def strings(self, key: str) -> list[str]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise BridgeConfigError(f"{self.name(key)}: must be a list of strings, got {value!r}")
        return value

    def path_option(self, key: str) -> Path | None:
        text = self.text(key, "")
        return Path(text) if text else None

    def sub(self, key: str) -> _Table:
        value = self.raw(key)
        return _Table({} if value is None else value, self.name(key))

    def finish(self) -> None:
        unknown = sorted(set(self.values) - self.used)
        if unknown:
            known = ", ".join(sorted(self.used))
            raise BridgeConfigError(f"{self.name(unknown[0])}: unknown option (known: {known})")


def _converted(table: _Table, key: str, convert: Any) -> tuple[Any, ...]:
    results = []
    for index, text in enumerate(table.strings(key)):
        try:
            results.append(convert(text))
        except (InvalidValueError, ValueError) as error:
            raise BridgeConfigError(f"{table.name(key)}[{index}]: {error}") from None
    return tuple(results)


def _mqtt(table: _Table) -> MQTTSettings:
    defaults = MQTTSettings()
    url = table.text("url", defaults.url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SECURE_SCHEMES | _PLAIN_SCHEMES or not parts.hostname:
        raise BridgeConfigError(
            f"{table.name('url')}: expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT], got {url!r}"
        )
    try:
        parts.port  # noqa: B018 - urlsplit validates the port only when it is read
    except ValueError:
        raise BridgeConfigError(f"{table.name('url')}: bad port in {url!r}") from None
    settings = MQTTSettings(
        url=url,
        topic_prefix=table.text("topic_prefix", defaults.topic_prefix).strip("/"),
        qos=table.integer("qos", defaults.qos, 0, 2),
        encoding=table.choice("encoding", Encoding, defaults.encoding),
        username=table.text("username", unquote(parts.username or "")),
        password=table.text("password", unquote(parts.password or "")),
        ca_cert=table.path_option("ca_cert"),
        tls_cert=table.path_option("tls_cert"),
        tls_key=table.path_option("tls_key"),
        client_id=table.text("client_id", ""),
        keepalive_s=table.integer("keepalive_s", defaults.keepalive_s, 5, 3600),
        timeout_s=table.number("timeout_s", defaults.timeout_s, 0.1, 600),
        max_command_bytes=table.integer(
            "max_command_bytes", defaults.max_command_bytes, 1024, 16 * 1024 * 1024
        ),
    )
    if any(c in settings.topic_prefix for c in "#+"):
        raise BridgeConfigError(f"{table.name('topic_prefix')}: must not contain + or #")
    tls_files = settings.ca_cert or settings.tls_cert or settings.tls_key
    if tls_files and not settings.tls:
        raise BridgeConfigError(
            f"{table.name('url')}: TLS files are set but {url!r} is not mqtts://"
        )
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise BridgeConfigError(f"{table.name('tls_cert')}: tls_cert and tls_key go together")
    table.finish()
    return settings


def _semtech_udp(table: _Table, required: bool) -> SemtechUDPSettings:
    defaults = SemtechUDPSettings()
    server = table.text("server", defaults.server)
    host, _, port = server.rpartition(":")
    if (server or required) and not (host and port.isdigit() and 0 < int(port) <= 65535):
        raise BridgeConfigError(f"{table.name('server')}: expected HOST:PORT, got {server!r}")
    settings = SemtechUDPSettings(
        server=server,
        keepalive_s=table.integer("keepalive_s", defaults.keepalive_s, 1, 3600),
        ack_timeout_ms=table.integer("ack_timeout_ms", defaults.ack_timeout_ms, 10, 60_000),
        push_retries=table.integer("push_retries", defaults.push_retries, 0, 10),
        down_after_s=table.integer("down_after_s", defaults.down_after_s, 1, 86_400),
    )
    table.finish()
    return settings


def _hybrid(table: _Table) -> HybridRules:
    rules = HybridRules(
        local_dev_addr_prefixes=_converted(table, "local_dev_addr_prefixes", parse_dev_addr_prefix),
        local_join_euis=_converted(table, "local_join_euis", parse_eui_range),
        local_net_ids=_converted(table, "local_net_ids", NetID),
        proprietary=table.choice("proprietary", ProprietaryRoute, ProprietaryRoute.UPSTREAM),
    )
    table.finish()
    return rules


def _store(table: _Table) -> StoreLimits:
    defaults = StoreLimits()
    name = table.text("file", defaults.file)
    if not name or "\x00" in name:
        raise BridgeConfigError(f"{table.name('file')}: must be a file name, got {name!r}")
    limits = StoreLimits(
        file=name,
        max_frames=table.integer("max_frames", defaults.max_frames, 1, 100_000_000),
        max_bytes=table.integer("max_bytes", defaults.max_bytes, 4096, 1 << 40),
        max_age_s=table.integer("max_age_s", defaults.max_age_s, 1, 366 * 86_400),
        flush_interval_ms=table.integer("flush_interval_ms", defaults.flush_interval_ms, 0, 60_000),
    )
    table.finish()
    return limits


def parse_bridge_config(table: Mapping[str, Any]) -> BridgeConfig:
    """The ``BridgeConfig`` of a ``[bridge]`` TOML table (an empty table: the bridge is off)."""
    root = _Table(table, "bridge")
    mode = root.choice("mode", Mode, Mode.OFF)
    transport = root.choice("transport", Transport, Transport.MQTT)
    gateway_ids = _converted(root, "gateway_ids", EUI64)
    if len(set(gateway_ids)) != len(gateway_ids):
        raise BridgeConfigError("bridge.gateway_ids: lists a gateway twice")
    reconnect_min = root.number("reconnect_min_s", 1.0, 0.01, 3600)
    reconnect_max = root.number("reconnect_max_s", 60.0, 0.01, 86_400)
    if reconnect_max < reconnect_min:
        raise BridgeConfigError("bridge.reconnect_max_s: must not be below reconnect_min_s")
    needs_udp = mode is not Mode.OFF and transport is Transport.SEMTECH_UDP
    config = BridgeConfig(
        mode=mode,
        transport=transport,
        gateway_ids=gateway_ids,
        reconnect_min_s=reconnect_min,
        reconnect_max_s=reconnect_max,
        mqtt=_mqtt(root.sub("mqtt")),
        semtech_udp=_semtech_udp(root.sub("semtech_udp"), needs_udp),
        hybrid=_hybrid(root.sub("hybrid")),
        store=_store(root.sub("store")),
    )
    root.finish()
    return config
