"""Changing the configuration file of a running appliance (from the API and the console).

The file is the one ``appliance run`` read: ``--config FILE``, else ``<data dir>/appliance.toml``
(created on the first change). A change is validated as a whole configuration before the file
is replaced, atomically (write, fsync, rename), so a bad edit or a power cut never leaves a
file the appliance cannot start from. Changes take effect at the next start.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from appliance.config import ApplianceConfig, ConfigError, load_config

CONFIG_FILE = "appliance.toml"
# What may be changed remotely; the data directory is where the file itself lives.
EDITABLE = frozenset(
    {
        "region",
        "net_id",
        "log_level",
        "log_event_lines_per_s",
        "udp_bind",
        "basic_station_bind",
        "api_bind",
        "mqtt_url",
        "mqtt",
        "outbox",
        "event_log",
        "network",
        "mac",
        "dedup_window_ms",
        "downlink_wait_ms",
        "max_application_backlog",
        "check_database",
        "backends",
        "bridge",
    }
)


def config_file_for(explicit: Path | None, data_dir: Path) -> Path | None:
    """The file ``appliance run`` reads: the one given, else the data directory's if present."""
    if explicit is not None:
        return explicit
    candidate = data_dir / CONFIG_FILE
    return candidate if candidate.exists() else None


def read_document(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


def apply_changes(path: Path, data_dir: Path, changes: dict[str, Any]) -> ApplianceConfig:
    """Merge ``changes`` (keys of ``EDITABLE``; None removes a key) into the file, check the
    result is a configuration the appliance starts from, and replace the file."""
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: cannot be changed here (editable: {', '.join(sorted(EDITABLE))})"
        )
    document = read_document(path)
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    text = tomli_w.dumps(document)
    # Validate exactly what will be written, from a scratch file next to the real one.
    scratch = path.with_name(f".{path.name}.new")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        config = load_config(scratch, {"data_dir": data_dir})
        os.replace(scratch, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        scratch.unlink(missing_ok=True)
    return config
