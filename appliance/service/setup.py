"""What ``appliance setup`` writes once region and board are chosen.

Three files, each replaced atomically so a power cut leaves the old or the new one:

- ``/etc/lorawan-appliance/appliance.toml``: the ``region`` key is set and, for a board whose
  chip has a driver, a ``[[backends]]`` table naming the board's profile (no ``gateway_id``: the
  driver reads the concentrator's EUI). Any other key a person added is kept, and the result
  must load as a valid configuration before it replaces the old;
- ``/etc/lorawan-appliance/gateway.toml``: the board, its profile and the gateway ID, for the
  concentrator drivers and the console;
- the service's ``DeviceAllow=`` drop-in for the board's devices.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from appliance.config import ConfigError, load_config
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import get_region
from appliance.service.board_profiles import (
    NO_BOARD,
    BoardDevices,
    ProfileError,
    load_board_devices,
    profile_path,
)
from appliance.service.config_edit import set_backend, set_region
from appliance.service.device_allow import device_rules, render_drop_in
from appliance.service.gateway_id import GatewayIdentity
from appliance.service.paths import CONFIG_FILE, DEVICES_DROP_IN, GATEWAY_FILE, under
from hal.registry import backend_kinds

# The backend kind that drives each concentrator chip a board profile names.
DRIVER_FOR_CHIP = {"sx1302": "sx1302", "sx1303": "sx1302"}


class SetupError(Exception):
    """The choice cannot be applied; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class SetupResult:
    written: list[Path]
    backend: str | None  # the [[backends]] kind configured for the board, if any
    note: str | None = None  # something the person should know (e.g. no driver for the chip)


@dataclass(frozen=True, slots=True)
class SetupChoice:
    region: str
    board: str  # a profile name, or NO_BOARD
    identity: GatewayIdentity | None = None


def canonical_region(name: str) -> str:
    try:
        return get_region(name).name
    except InvalidValueError as exc:
        raise SetupError(str(exc)) from None


def current_region(root: Path) -> str | None:
    """The region of an existing configuration, if it has a readable one."""
    document = _read_toml(under(root, CONFIG_FILE))
    region = document.get("region")
    return region if isinstance(region, str) else None


def current_gateway(root: Path) -> dict[str, str]:
    document = _read_toml(under(root, GATEWAY_FILE))
    return {key: value for key, value in document.items() if isinstance(value, str)}


def apply_setup(choice: SetupChoice, *, root: Path, profiles_dir: Path) -> SetupResult:
    """Write the three files under ``root``.

    Everything is checked before the first file is replaced, so a bad choice writes nothing.
    """
    region = canonical_region(choice.region)
    profile: Path | None = None
    devices: BoardDevices | None = None
    if choice.board != NO_BOARD:
        try:
            profile = profile_path(profiles_dir, choice.board)
            devices = load_board_devices(profile)
        except ProfileError as exc:
            raise SetupError(str(exc)) from None
    rules = device_rules(devices) if devices is not None else []
    target_profile = _as_target_path(profile, root)
    driver = DRIVER_FOR_CHIP.get(devices.chip or "") if devices is not None else None
    note = None
    if devices is not None and (driver is None or driver not in backend_kinds()):
        note = (
            f"no driver for the board's chip ({devices.chip or 'not named in its profile'}) "
            "in this version: its devices are allowed, but no backend is configured for it"
        )
        driver = None

    config = under(root, CONFIG_FILE)
    config_text = set_region(_read_text(config), region)
    for kind in sorted(set(DRIVER_FOR_CHIP.values()) - {driver}):
        config_text = set_backend(config_text, kind, None)
    if driver is not None and target_profile is not None:
        config_text = set_backend(
            config_text, driver, {"profile": target_profile, "region": region}
        )
    gateway = under(root, GATEWAY_FILE)
    gateway_text = _gateway_file(choice, target_profile, previous=current_gateway(root))
    drop_in = under(root, DEVICES_DROP_IN)
    drop_in_text = render_drop_in(rules, board=choice.board, profile=target_profile)

    try:
        config.parent.mkdir(parents=True, exist_ok=True)
        drop_in.parent.mkdir(parents=True, exist_ok=True)
        _replace(config, config_text, validate=True)
        _replace(gateway, gateway_text)
        _replace(drop_in, drop_in_text)
    except PermissionError as exc:
        raise SetupError(f"permission denied: {exc.filename}; run with sudo") from None
    except OSError as exc:
        raise SetupError(f"cannot write {exc.filename}: {exc.strerror}") from None
    return SetupResult([config, gateway, drop_in], driver, note)


def _gateway_file(choice: SetupChoice, profile: str | None, *, previous: dict[str, str]) -> str:
    values = {"board": choice.board}
    if profile is not None:
        values["profile"] = profile
    if choice.identity is not None:
        values["gateway_id"] = str(choice.identity.gateway_id)
        values["gateway_id_source"] = choice.identity.source
    elif "gateway_id" in previous:
        # An image built elsewhere, or a re-run without a MAC at hand, keeps the known ID.
        values["gateway_id"] = previous["gateway_id"]
        values["gateway_id_source"] = previous.get("gateway_id_source", "earlier setup")
    body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    return "# This gateway's board and ID, written by `appliance setup`.\n" + body


def _as_target_path(path: Path | None, root: Path) -> str | None:
    """A path as the target system will see it (below ``root`` when building an image)."""
    if path is None:
        return None
    resolved = path.resolve()
    try:
        return str(PurePosixPath("/") / resolved.relative_to(root.resolve()))
    except ValueError:
        return str(resolved)


def _replace(path: Path, text: str, *, validate: bool = False) -> None:
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(text, encoding="utf-8")
    try:
        if validate:
            load_config(temporary, {})
        temporary.chmod(0o644)
        os.replace(temporary, path)
    except ConfigError as exc:
        message = str(exc).replace(str(temporary), str(path))
        raise SetupError(f"the configuration would not be valid: {message}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise SetupError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SetupError(f"{path} is not UTF-8 text") from None


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
