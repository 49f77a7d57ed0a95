"""The main screens in the order of the top bar and the number keys: (mode, key, label)."""

from __future__ import annotations

SCREENS: tuple[tuple[str, str, str], ...] = (
    ("dashboard", "1", "Dashboard"),
    ("frames", "2", "Live"),
    ("devices", "3", "Devices"),
    ("applications", "4", "Apps"),
    ("gateways", "5", "Gateways"),
    ("config", "6", "Config"),
)
