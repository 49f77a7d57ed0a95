"""The ``DeviceAllow=`` drop-in that opens a board's devices in the sandboxed service.

The unit sets ``DevicePolicy=closed``: the service sees only the pseudo devices (null, zero,
random, ...) plus what this drop-in allows. SPI, GPIO and I2C nodes exist from boot and are
allowed by path. A USB concentrator is allowed by its device group (``char-ttyACM``), because
systemd resolves a path once, at start, and a USB bridge can re-enumerate under another minor
number (ttyACM0 -> ttyACM1) after a reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from appliance.service.board_profiles import BoardDevices


@dataclass(frozen=True, slots=True)
class DeviceRule:
    specifier: str  # a /dev path or a char-<group> from /proc/devices
    why: str

    def line(self) -> str:
        return f"DeviceAllow={self.specifier} rw"


def device_rules(devices: BoardDevices) -> list[DeviceRule]:
    rules: list[DeviceRule] = []
    if devices.bus_kind == "spi":
        rules.append(DeviceRule(devices.bus_device, "concentrator on the SPI bus"))
    else:
        rules.extend(
            DeviceRule(group, f"concentrator on USB ({devices.bus_device})")
            for group in _serial_groups(devices.bus_device)
        )
    if devices.gpio_chip is not None:
        rules.append(DeviceRule(devices.gpio_chip, "reset and power-enable lines"))
    if devices.i2c_device is not None:
        rules.append(DeviceRule(devices.i2c_device, "temperature sensor"))
    return rules


def render_drop_in(rules: list[DeviceRule], *, board: str, profile: str | None) -> str:
    source = f"board {board!r} ({profile})" if profile else f"board {board!r}"
    lines = [
        f"# Devices of {source}, written by `appliance setup` or",
        "# `appliance service device-allow`; run `appliance setup` again to change the board.",
        "[Service]",
    ]
    if not rules:
        lines.insert(2, "# No concentrator on this Pi: no device beyond the unit's defaults.")
    for rule in rules:
        lines.extend((f"# {rule.why}", rule.line()))
    return "\n".join(lines) + "\n"


def _serial_groups(device: str) -> tuple[str, ...]:
    name = PurePosixPath(device).name
    if name.startswith("ttyACM"):
        return ("char-ttyACM",)  # CDC-ACM bridges: the CoreCell USB and picoGW STM32
    if name.startswith("ttyUSB"):
        return ("char-ttyUSB",)  # USB-serial converters
    # A udev symlink (e.g. /dev/lorawan/concentrator) points at either kind.
    return ("char-ttyACM", "char-ttyUSB")
