"""The backend's options, as they come from a configuration file, checked once at start-up.

Every error is a ``BackendConfigError`` naming the option; unknown options are refused so a
misspelt one does not silently fall back to its default. docs/basic-station.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, NetID
from appliance.lorawan.regions import Region, get_region
from hal.backend import BackendConfigError
from hal.basic_station.channels import UpChannel, region_channels
from hal.basic_station.eui import parse_eui
from hal.basic_station.router_config import RouterSettings

DEFAULT_BIND: Final = "0.0.0.0:3001"
_EU868: Final = get_region("EU868")
_EU868_CHANNELS: Final = region_channels(_EU868)
_NO_SETTINGS: Final = RouterSettings()


@dataclass(frozen=True, slots=True)
class BasicStationOptions:
    host: str = "0.0.0.0"
    port: int = 3001
    region: Region = _EU868
    channels: tuple[UpChannel, ...] = _EU868_CHANNELS
    allowed_gateways: frozenset[EUI64] = frozenset()
    tokens: Mapping[EUI64, str] | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    settings: RouterSettings = _NO_SETTINGS
    tx_ack_timeout_s: float = 5.0
    max_message_bytes: int = 64 * 1024
    max_queue: int = 10_000
    rate_limit_per_s: float = 200.0
    max_pending_downlinks: int = 64
    gps_timed_downlinks: str = "dnmsg"  # or "dnsched" (Station does not acknowledge those)

    def admits(self, gateway_id: EUI64) -> bool:
        """Whether the gateway may connect at all (its token is checked separately)."""
        if self.allowed_gateways and gateway_id not in self.allowed_gateways:
            return False
        return self.tokens is None or gateway_id in self.tokens


def _fail(option: str, problem: object) -> BackendConfigError:
    return BackendConfigError(f"basic-station option {option!r}: {problem}")


def _choice(options: Mapping[str, Any], option: str, allowed: tuple[str, ...]) -> str:
    value = options.get(option, allowed[0])
    if value not in allowed:
        raise _fail(option, f"expected one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _bind(value: object) -> tuple[str, int]:
    if not isinstance(value, str):
        raise _fail("bind", "expected 'host:port'")
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise _fail("bind", f"expected 'host:port', got {value!r}")
    return host.strip("[]"), int(port)


def _number(options: Mapping[str, Any], key: str, default: float, low: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
        raise _fail(key, f"expected a number >= {low}, got {value!r}")
    return float(value)


def _integer(options: Mapping[str, Any], key: str, default: int, low: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _fail(key, f"expected an integer >= {low}, got {value!r}")
    return value


def _euis(option: str, values: object) -> list[EUI64]:
    if not isinstance(values, list | tuple):
        raise _fail(option, "expected a list of EUIs")
    try:
        return [parse_eui(value) for value in values]
    except InvalidValueError as exc:
        raise _fail(option, exc) from None


def _tokens(value: object) -> dict[EUI64, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise _fail("tokens", "expected a table of gateway EUI = 'Authorization header'")
    return dict(zip(_euis("tokens", list(value)), value.values(), strict=True))


def _net_ids(value: object) -> tuple[NetID, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise _fail("net_ids", "expected a list of NetIDs (hex text or integers)")
    try:
        return tuple(NetID(item) for item in value)
    except InvalidValueError as exc:
        raise _fail("net_ids", exc) from None


def _join_euis(value: object) -> tuple[tuple[EUI64, EUI64], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise _fail("join_euis", "expected a list of EUIs or [first, last] ranges")
    ranges = []
    for item in value:
        low, high = _euis("join_euis", item if isinstance(item, list | tuple) else [item, item])
        if low > high:
            raise _fail("join_euis", f"range {low}..{high} is empty")
        ranges.append((low, high))
    return tuple(ranges)


def _extra_channels(value: object) -> list[UpChannel] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise _fail("extra_channels", "expected a list of Hz or [Hz, min DR, max DR]")
    try:
        return [
            UpChannel(*item) if isinstance(item, list | tuple) else UpChannel(item, 0, 5)
            for item in value
        ]
    except (TypeError, InvalidValueError) as exc:
        raise _fail("extra_channels", exc) from None


def _path(options: Mapping[str, Any], key: str) -> str | None:
    value = options.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(key, "expected a file path")
    return value


def parse_options(options: Mapping[str, Any]) -> BasicStationOptions:
    """Check and convert the ``[[backends]]`` options of a ``basic-station`` backend."""
    unknown = set(options) - _KNOWN
    if unknown:
        raise _fail(sorted(unknown)[0], f"unknown option (known: {', '.join(sorted(_KNOWN))})")
    host, port = _bind(options.get("bind", DEFAULT_BIND))
    try:
        region = get_region(options.get("region", "EU868"))
    except InvalidValueError as exc:
        raise _fail("region", exc) from None
    sub_band = options.get("sub_band")
    if sub_band is not None and (isinstance(sub_band, bool) or not isinstance(sub_band, int)):
        raise _fail("sub_band", "expected an integer")
    try:
        channels = region_channels(
            region, sub_band=sub_band, extra=_extra_channels(options.get("extra_channels"))
        )
    except InvalidValueError as exc:
        raise _fail("extra_channels" if sub_band is None else "sub_band", exc) from None
    tls = {key: _path(options, key) for key in ("tls_cert", "tls_key", "tls_client_ca")}
    if (tls["tls_cert"] is None) != (tls["tls_key"] is None):
        raise _fail("tls_cert", "tls_cert and tls_key go together")
    if tls["tls_client_ca"] is not None and tls["tls_cert"] is None:
        raise _fail("tls_client_ca", "client certificates need tls_cert and tls_key")
    max_eirp = options.get("max_eirp_dbm")
    flags = {key: options.get(key, False) for key in ("nocca", "nodc", "nodwell")}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            raise _fail(key, "expected true or false")
    settings = RouterSettings(
        net_ids=_net_ids(options.get("net_ids")),
        join_eui_ranges=_join_euis(options.get("join_euis")),
        max_eirp_dbm=None if max_eirp is None else _number(options, "max_eirp_dbm", 0, -30),
        **flags,
    )
    return BasicStationOptions(
        host=host,
        port=port,
        region=region,
        channels=channels,
        allowed_gateways=frozenset(_euis("allowed_gateways", options.get("allowed_gateways", []))),
        tokens=_tokens(options.get("tokens")),
        settings=settings,
        tx_ack_timeout_s=_number(options, "tx_ack_timeout_s", 5.0, 0.001),
        max_message_bytes=_integer(options, "max_message_bytes", 64 * 1024, 1024),
        max_queue=_integer(options, "max_queue", 10_000, 1),
        rate_limit_per_s=_number(options, "rate_limit_per_s", 200.0, 1.0),
        max_pending_downlinks=_integer(options, "max_pending_downlinks", 64, 1),
        gps_timed_downlinks=_choice(options, "gps_timed_downlinks", ("dnmsg", "dnsched")),
        **tls,
    )


_KNOWN: Final = frozenset(
    {
        "bind",
        "region",
        "sub_band",
        "extra_channels",
        "allowed_gateways",
        "tokens",
        "tls_cert",
        "tls_key",
        "tls_client_ca",
        "net_ids",
        "join_euis",
        "max_eirp_dbm",
        "nocca",
        "nodc",
        "nodwell",
        "tx_ack_timeout_s",
        "max_message_bytes",
        "max_queue",
        "rate_limit_per_s",
        "max_pending_downlinks",
        "gps_timed_downlinks",
    }
)
