"""Entry point of the ``appliance`` command: builds the parser from the command modules.

Each command module exposes ``register(subparsers)``; the parser it adds sets ``handler`` to a
function ``(argparse.Namespace) -> int``. A handler raises ``CLIUsageError`` for bad input, which
ends as one line on stderr and exit code 2, the same as argparse's own usage errors.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from appliance import __version__
from appliance.cli.arguments import Parser
from appliance.cli.errors import CLIUsageError

# The command modules (of ``appliance.cli``) in the order ``--help`` lists their commands.
_COMMAND_MODULES = (
    "run_cmd",
    "frame_cmd",
    "region_cmd",
    "setup_cmd",
    "service_cmd",
    "device_cmd",
    "app_cmd",
    "profile_cmd",
    "access_cmd",
    "simulate_cmd",
    "hardware_cmd",
)
# The module that registers each built-in command. A command that is run loads its module
# only: together they import httpx, the SX1302 driver, the device simulator and the set-up
# helpers, 0.4 s here and several times that on a Pi, for nothing. ``--help``, no command, or
# an unknown one (a plugin such as the console, or a typo) load them all, as before.
_MODULE_OF = {
    "run": "run_cmd",
    "frame": "frame_cmd",
    "region": "region_cmd",
    "setup": "setup_cmd",
    "service": "service_cmd",
    "device": "device_cmd",
    "app": "app_cmd",
    "gateway": "app_cmd",
    "profile": "profile_cmd",
    "user": "access_cmd",
    "apikey": "access_cmd",
    "simulate": "simulate_cmd",
    "hardware": "hardware_cmd",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with ``command`` alone when it is a built-in one."""
    parser = Parser(
        prog="appliance",
        description="LoRaWAN edge gateway appliance: network server, application server and "
        "gateway links in one process.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    only = _MODULE_OF.get(command) if command is not None else None
    for name in (only,) if only is not None else _COMMAND_MODULES:
        importlib.import_module(f"appliance.cli.{name}").register(subparsers)
    if only is not None:
        return parser
    # Commands of other packages (the console, `tui.cli`), found through their entry points
    # so that this package never imports them; one that fails to load is left out, not fatal.
    for entry_point in entry_points(group="appliance.commands"):
        try:
            entry_point.load().register(subparsers)
        except Exception as exc:  # a broken plugin must not take the built-in commands down
            print(f"appliance: command {entry_point.name!r} unavailable: {exc}", file=sys.stderr)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command named on the command line (None before any, or with help asked for)."""
    for token in argv:
        if token in ("-h", "--help", "--version"):
            return None
        if not token.startswith("-"):
            return token
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command_of(argv))
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
