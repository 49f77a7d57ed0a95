"""The appliance's configuration: embedded defaults, optionally overridden by a TOML file.

``appliance run`` with no options runs on these defaults, so a fresh install needs no file.
Unknown keys and bad values are refused with one line naming the key, never ignored silently.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import get_region


class ConfigError(Exception):
    """The configuration file or an option cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class ApplianceConfig:
    region: str = "EU868"
    data_dir: Path = Path("data")
    log_level: str = "info"

    def validated(self) -> ApplianceConfig:
        try:
            region = get_region(self.region).name
        except InvalidValueError as exc:
            raise ConfigError(f"region: {exc}") from None
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise ConfigError(
                f"log_level: must be debug, info, warning or error, got {self.log_level!r}"
            )
        return replace(self, region=region)


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
    if "data_dir" in values:
        values["data_dir"] = Path(values["data_dir"])
    return ApplianceConfig(**values).validated()


def _from_document(document: dict[str, Any], path: Path) -> dict[str, Any]:
    known = {field.name: field for field in fields(ApplianceConfig)}
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string, got {type(value).__name__}")
        values[key] = value
    return values
