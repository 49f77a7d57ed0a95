"""Turning on the SPI and I2C buses of a Raspberry Pi: ``dtparam`` lines in ``config.txt``.

This is what ``raspi-config`` does for the same choice, done on a file so it also works on an
image being built. Lines inside a conditional section (``[pi4]``, ``[cm5]`` ...) are left alone;
the setting goes where it applies to every model. The change takes effect at the next boot.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from appliance.service.paths import BOOT_CONFIG_CANDIDATES, I2C_MODULES_FILE, under

_PARAMETER = {"spi": "spi", "i2c": "i2c_arm"}


class BootConfigError(Exception):
    """The boot configuration cannot be found or written."""


def enable_dtparams(text: str, buses: list[str]) -> str:
    """``text`` with ``dtparam=<bus>=on`` for each of ``buses`` ("spi", "i2c")."""
    lines = text.splitlines()
    for bus in buses:
        lines = _enable(lines, _PARAMETER[bus])
    return "\n".join(lines) + "\n"


def enable_buses(root: Path, *, spi: bool, i2c: bool) -> list[str]:
    """Edit ``config.txt`` under ``root``; returns one line per change, for the person."""
    buses = [bus for bus, wanted in (("spi", spi), ("i2c", i2c)) if wanted]
    if not buses:
        return []
    config = next(
        (under(root, c) for c in BOOT_CONFIG_CANDIDATES if under(root, c).is_file()), None
    )
    if config is None:
        looked = " or ".join(str(under(root, c)) for c in BOOT_CONFIG_CANDIDATES)
        raise BootConfigError(f"no {looked}: is this Raspberry Pi OS?")
    try:
        before = config.read_text(encoding="utf-8")
        after = enable_dtparams(before, buses)
        changes = []
        if after != before:
            _replace(config, after)
            changes.append(f"{config}: {', '.join(buses)} enabled (takes effect after a reboot)")
        if i2c:
            # The I2C character devices (/dev/i2c-N) need the i2c-dev module loaded at boot.
            modules = under(root, I2C_MODULES_FILE)
            if not modules.is_file():
                modules.parent.mkdir(parents=True, exist_ok=True)
                _replace(
                    modules, "# /dev/i2c-N for the concentrator's temperature sensor\ni2c-dev\n"
                )
                changes.append(f"{modules}: i2c-dev loaded at boot")
    except OSError as exc:
        raise BootConfigError(f"cannot update {exc.filename or config}: {exc.strerror}") from None
    return changes


def _enable(lines: list[str], parameter: str) -> list[str]:
    wanted = f"dtparam={parameter}=on"
    setting = re.compile(rf"\s*(#\s*)?dtparam={re.escape(parameter)}=(on|off)\s*")
    result = list(lines)
    section = "all"
    found = False
    for index, line in enumerate(result):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip().lower()
            continue
        match = setting.fullmatch(line)
        if section != "all" or match is None:
            continue
        commented = match.group(1) is not None
        if not found or not commented:
            # The first mention (commented or not) becomes the setting; a later "off" would
            # override it, so those are turned on as well.
            result[index] = wanted
            found = True
    if not found:
        if section != "all":
            result.append("[all]")
        result.append(wanted)
    return result


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
