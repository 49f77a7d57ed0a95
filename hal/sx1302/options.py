"""The ``[[backends]] kind = "sx1302"`` options, checked into one value.

Either ``profile`` + ``region`` (a board profile of firmware_profiles/) or ``global_conf``
(a Semtech packet forwarder file). docs/sx1302.md lists every option with its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendConfigError
from hal.sx1302.board_reset import ResetPlan
from hal.sx1302.config import ConcentratorConfig
from hal.sx1302.errors import ProfileError
from hal.sx1302.global_conf import load_global_conf
from hal.sx1302.profiles import BoardProfile, concentrator_config, load_profile
from hal.sx1302.temperature import DEFAULT_ADDRESSES

KNOWN_OPTIONS: Final = frozenset(
    {
        "kind",
        "name",
        "profile",
        "profiles_dir",
        "region",
        "sub_band",
        "extra_frequencies",
        "global_conf",
        "device",
        "agc_firmware",
        "arb_firmware",
        "allow_unknown_firmware",
        "gateway_id",
        "poll_interval_ms",
        "stats_interval_s",
        "antenna_gain_db",
        "temperature_c",
        "forward_crc_error",
        "lorawan_public",
        "gpio_chip",
        "reset_pin",
        "power_pin",
        "sx1261_reset_pin",
    }
)


@dataclass(frozen=True, slots=True)
class Sx1302Options:
    config: ConcentratorConfig
    bus_kind: str
    device: str
    reset: ResetPlan
    temperature_source: str  # i2c, mcu, none
    i2c_device: str | None
    temperature_addresses: tuple[int, ...]
    agc_firmware: str | None
    arb_firmware: str | None
    allow_unknown_firmware: bool
    gateway_id: EUI64 | None
    profile: BoardProfile | None
    region: str | None
    sub_band: int | None
    extra_frequencies: tuple[int, ...] | None
    poll_interval_s: float = 0.02
    stats_interval_s: float = 30.0
    temperature_c: float = 25.0
    forward_crc_error: bool = False
    label: str = "sx1302"


def _fail(message: str) -> BackendConfigError:
    return BackendConfigError(f"sx1302 backend: {message}")


def _number(options: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(f"{key} must be a number within {low:g}..{high:g}, got {value!r}")
    return float(value)


def _flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise _fail(f"{key} must be true or false, got {value!r}")
    return value


def _pin(options: Mapping[str, Any], key: str) -> int | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1023:
        raise _fail(f"{key} must be a GPIO line number, got {value!r}")
    return value


def _path(options: Mapping[str, Any], key: str) -> str | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(f"{key} must be a file path")
    return value


def parse_options(options: Mapping[str, Any]) -> Sx1302Options:
    unknown = sorted(set(options) - KNOWN_OPTIONS)
    if unknown:
        raise _fail(
            f"unknown option(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(KNOWN_OPTIONS - {'kind'}))})"
        )
    profile_name, global_conf = options.get("profile"), options.get("global_conf")
    if (profile_name is None) == (global_conf is None):
        raise _fail("give either 'profile' (with 'region') or 'global_conf'")
    gateway_id = None
    if options.get("gateway_id") is not None:
        try:
            gateway_id = EUI64(str(options["gateway_id"]))
        except InvalidValueError as exc:
            raise _fail(f"gateway_id: {exc}") from None
    antenna_gain = _number(options, "antenna_gain_db", 0.0, -10, 30)
    public = _flag(options, "lorawan_public", True)
    sub_band = options.get("sub_band")
    if sub_band is not None and (isinstance(sub_band, bool) or not isinstance(sub_band, int)):
        raise _fail(f"sub_band must be an integer, got {sub_band!r}")
    extra = options.get("extra_frequencies")
    if extra is not None and (
        not isinstance(extra, list)
        or not all(isinstance(f, int) and not isinstance(f, bool) for f in extra)
    ):
        raise _fail("extra_frequencies must be a list of frequencies in Hz")
    device = _path(options, "device")
    try:
        if profile_name is not None:
            region = options.get("region")
            if not isinstance(region, str):
                raise _fail("'profile' needs 'region' (e.g. region = \"EU868\")")
            profile = load_profile(str(profile_name), _path(options, "profiles_dir"))
            config = concentrator_config(
                profile,
                region,
                sub_band=sub_band,
                extra_frequencies=None if extra is None else tuple(extra),
                lorawan_public=public,
                antenna_gain_db=antenna_gain,
            )
            bus_kind, default_device = profile.bus_kind, profile.device
            reset = ResetPlan(
                profile.gpio_chip,
                profile.power_pin,
                profile.reset_pin,
                profile.sx1261_reset_pin,
                profile.reset_commands,
            )
            temperature = (
                profile.temperature_source,
                profile.i2c_device,
                profile.temperature_addresses,
            )
            region_name: str | None = profile.region(region).region
        else:
            conf = load_global_conf(str(global_conf))
            profile, region_name, config = None, None, conf.config
            bus_kind, default_device = conf.bus_kind, conf.device
            gateway_id = gateway_id or conf.gateway_id
            # A forwarder file names no pins: they may be given as options (else the board
            # must be reset by other means before the appliance starts it).
            reset = ResetPlan(
                _path(options, "gpio_chip") or "/dev/gpiochip0",
                _pin(options, "power_pin"),
                _pin(options, "reset_pin"),
                _pin(options, "sx1261_reset_pin"),
            )
            temperature = (
                ("i2c", "/dev/i2c-1", DEFAULT_ADDRESSES) if bus_kind == "spi" else ("mcu", None, ())
            )
    except ProfileError as exc:
        raise _fail(str(exc)) from None
    return Sx1302Options(
        config=config,
        bus_kind=bus_kind,
        device=device or default_device,
        reset=reset,
        temperature_source=temperature[0],
        i2c_device=temperature[1],
        temperature_addresses=temperature[2],
        agc_firmware=_path(options, "agc_firmware"),
        arb_firmware=_path(options, "arb_firmware"),
        allow_unknown_firmware=_flag(options, "allow_unknown_firmware", False),
        gateway_id=gateway_id,
        profile=profile,
        region=region_name,
        sub_band=sub_band,
        extra_frequencies=None if extra is None else tuple(extra),
        poll_interval_s=_number(options, "poll_interval_ms", 20, 1, 1000) / 1000,
        stats_interval_s=_number(options, "stats_interval_s", 30, 1, 3600),
        temperature_c=_number(options, "temperature_c", 25, -40, 85),
        forward_crc_error=_flag(options, "forward_crc_error", False),
        label=str(options.get("name", "sx1302")),
    )
