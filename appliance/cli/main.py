"""Entry point of the ``appliance`` command: builds the parser from the command modules.

Each command module exposes ``register(subparsers)``; the parser it adds sets ``handler`` to a
function ``(argparse.Namespace) -> int``. A handler raises ``CLIUsageError`` for bad input, which
ends as one line on stderr and exit code 2, the same as argparse's own usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from appliance import __version__
from appliance.cli import (
    access_cmd,
    app_cmd,
    device_cmd,
    frame_cmd,
    hardware_cmd,
    profile_cmd,
    region_cmd,
    run_cmd,
    service_cmd,
    setup_cmd,
    simulate_cmd,
)
from appliance.cli.arguments import Parser
from appliance.cli.errors import CLIUsageError

_COMMAND_MODULES = (
    run_cmd,
    frame_cmd,
    region_cmd,
    setup_cmd,
    service_cmd,
    device_cmd,
    app_cmd,
    profile_cmd,
    access_cmd,
    simulate_cmd,
    hardware_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="appliance",
        description="LoRaWAN edge gateway appliance: network server, application server and "
        "gateway links in one process.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in _COMMAND_MODULES:
        module.register(subparsers)
    # Commands of other packages (the console, `tui.cli`), found through their entry points
    # so that this package never imports them; one that fails to load is left out, not fatal.
    for entry_point in entry_points(group="appliance.commands"):
        try:
            entry_point.load().register(subparsers)
        except Exception as exc:  # a broken plugin must not take the built-in commands down
            print(f"appliance: command {entry_point.name!r} unavailable: {exc}", file=sys.stderr)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        result: int = handler(args)
    except CLIUsageError as exc:
        print(f"appliance: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
