"""Board profiles as the deployment sees them: which devices a concentrator board uses.

A profile is one TOML file per board in ``firmware_profiles/``, named ``<board>.toml``. The
deployment reads only the device paths: ``[bus]`` (``kind`` "spi" or "usb", ``device``), the
optional ``[gpio] chip`` and the optional ``[temperature] i2c_device``. The rest belongs to the
concentrator drivers.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NO_BOARD = "none"  # no concentrator on this Pi: gateways reach the appliance over the network
_BOARD_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")


class ProfileError(Exception):
    """A board profile is missing or unusable; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class BoardDevices:
    """The device nodes one board needs, as its profile names them."""

    bus_kind: str  # "spi" or "usb"
    bus_device: str
    gpio_chip: str | None = None
    i2c_device: str | None = None
    chip: str | None = None  # the concentrator chip ("sx1302", "sx1303"), to pick its driver
    title: str | None = None  # the board's name for people


def list_boards(profiles_dir: Path) -> list[str]:
    """Board names with a profile in ``profiles_dir``, sorted; empty when there is none."""
    if not profiles_dir.is_dir():
        return []
    return sorted(
        path.stem
        for path in profiles_dir.glob("*.toml")
        if path.is_file() and _BOARD_NAME.fullmatch(path.stem)
    )


def profile_path(profiles_dir: Path, board: str) -> Path:
    if not _BOARD_NAME.fullmatch(board):
        raise ProfileError(f"board name {board!r} is not valid (lower-case letters, digits, -._)")
    path = profiles_dir / f"{board}.toml"
    if not path.is_file():
        known = ", ".join([*list_boards(profiles_dir), NO_BOARD])
        raise ProfileError(f"unknown board {board!r} (known: {known})")
    return path


def load_board_devices(path: Path) -> BoardDevices:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read board profile {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"board profile {path} is not valid TOML: {exc}") from None
    return board_devices(document, str(path))


def board_devices(document: dict[str, Any], source: str) -> BoardDevices:
    bus = _table(document, "bus", source, required=True)
    kind = bus.get("kind")
    if kind not in ("spi", "usb"):
        raise ProfileError(f'{source}: bus.kind must be "spi" or "usb", got {kind!r}')
    device = _device(bus, "device", f"{source}: bus.device", required=True)
    assert device is not None
    gpio = _table(document, "gpio", source, required=False)
    temperature = _table(document, "temperature", source, required=False)
    return BoardDevices(
        bus_kind=kind,
        bus_device=device,
        gpio_chip=_device(gpio, "chip", f"{source}: gpio.chip", required=False),
        i2c_device=_device(
            temperature, "i2c_device", f"{source}: temperature.i2c_device", required=False
        ),
        chip=_text(document, "chip"),
        title=_text(document, "title"),
    )


def _text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _table(document: dict[str, Any], key: str, source: str, *, required: bool) -> dict[str, Any]:
    value = document.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ProfileError(f"{source}: [{key}] must be a table")
    return value


def _device(table: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    # Device paths end up in a unit file: anything but a plain /dev path is refused.
    if not (
        isinstance(value, str)
        and value.startswith("/dev/")
        and re.fullmatch(r"/dev(/[A-Za-z0-9._:+-]+)+", value)
        and "/../" not in value + "/"
    ):
        raise ProfileError(f"{where} must be a device path such as /dev/spidev0.0, got {value!r}")
    return value
