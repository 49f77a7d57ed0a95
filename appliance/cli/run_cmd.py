"""``appliance run``: start the appliance (embedded defaults unless told otherwise)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from appliance.cli.errors import CLIUsageError
from appliance.config import ConfigError, default_data_dir, load_config
from appliance.config_file import CONFIG_FILE, config_file_for

_DESCRIPTION = (
    "Start the appliance: the network server with its gateway backends (Semtech UDP on "
    "0.0.0.0:1700, LoRa Basics Station on 0.0.0.0:3001) and, with --simulate N, N simulated "
    "devices on a virtual radio. Without options it runs on its embedded defaults (region "
    "EU868, data in ./data, or in $STATE_DIRECTORY under systemd). Runs until Ctrl-C or SIGTERM."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="start the appliance", description=_DESCRIPTION)
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML configuration file (docs/running.md lists the keys; default: "
        "<data dir>/appliance.toml when it exists)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where state is kept (default ./data or $STATE_DIRECTORY)",
    )
    parser.add_argument("--region", metavar="NAME", help="regional parameters (default EU868)")
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="logging verbosity (default info)",
    )
    parser.add_argument("--net-id", metavar="HEX", help="the network's NetID (default 000000)")
    parser.add_argument(
        "--udp-bind",
        metavar="HOST:PORT",
        help="Semtech UDP packet forwarders (default 0.0.0.0:1700; '' = off)",
    )
    parser.add_argument(
        "--basic-station-bind",
        metavar="HOST:PORT",
        help="LoRa Basics Station (default 0.0.0.0:3001; '' = off)",
    )
    parser.add_argument(
        "--api-bind",
        metavar="HOST:PORT",
        help="the REST API and live stream (default 127.0.0.1:8080; '' = off)",
    )
    parser.add_argument(
        "--mqtt-url",
        metavar="URL",
        help="global MQTT integration, e.g. mqtt://127.0.0.1:1883 (default off)",
    )
    parser.add_argument(
        "--simulate",
        type=int,
        metavar="N",
        help="run N simulated devices on a virtual radio (default 0)",
    )
    parser.add_argument(
        "--check-database",
        action="store_const",
        const=True,
        help="check every page of appliance.db before starting, even when the last stop "
        "was clean (default: only after a crash, a kill or a change from outside)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    overrides = {
        "data_dir": args.data_dir,
        "region": args.region,
        "log_level": args.log_level,
        "net_id": args.net_id,
        "udp_bind": args.udp_bind,
        "basic_station_bind": args.basic_station_bind,
        "simulate": args.simulate,
        "check_database": args.check_database,
        "api_bind": args.api_bind,
        "mqtt_url": args.mqtt_url,
    }
    config_path = config_file_for(args.config, args.data_dir or default_data_dir())
    try:
        config = load_config(config_path, overrides)
    except ConfigError as exc:
        raise CLIUsageError(str(exc)) from None
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Imported here so that every other command starts without loading the whole appliance.
    from appliance.api.server import APIServerError  # noqa: PLC0415
    from appliance.app.events import EventLogError  # noqa: PLC0415
    from appliance.integrations import OutboxError  # noqa: PLC0415
    from appliance.ns.sqlite_store import StoreError  # noqa: PLC0415
    from appliance.runtime import DataDirError, run  # noqa: PLC0415
    from hal.backend import BackendError  # noqa: PLC0415

    try:
        return run(config, config_file=config_path or config.data_dir / CONFIG_FILE)
    except PermissionError as exc:
        raise CLIUsageError(f"permission denied: {exc.filename or exc}") from None
    except (
        BackendError,
        StoreError,
        EventLogError,
        OutboxError,
        DataDirError,
        APIServerError,
    ) as exc:
        raise CLIUsageError(str(exc)) from None
    except OSError as exc:
        raise CLIUsageError(f"cannot start: {exc.strerror or exc}") from None
