"""``appliance run``: start the appliance (embedded defaults unless told otherwise)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from appliance.cli.errors import CLIUsageError
from appliance.config import ConfigError, load_config
from appliance.runtime import run


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="start the appliance",
        description="Start the appliance. Without options it runs on its embedded defaults "
        "(region EU868, data in ./data, or in $STATE_DIRECTORY under systemd).",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML configuration file (keys: region, data_dir, log_level)",
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
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    overrides = {"data_dir": args.data_dir, "region": args.region, "log_level": args.log_level}
    try:
        config = load_config(args.config, overrides)
    except ConfigError as exc:
        raise CLIUsageError(str(exc)) from None
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return run(config)
    except OSError as exc:
        raise CLIUsageError(
            f"cannot use data directory {config.data_dir}: {exc.strerror}"
        ) from None
