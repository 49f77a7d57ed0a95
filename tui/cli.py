"""``appliance console``: the on-site console, in this terminal or (``--serve``) in a browser.

Registered as a plugin of the ``appliance`` command (entry point group
``appliance.commands``), so the appliance itself never imports the console or Textual. This
module stays light: Textual is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from appliance.cli.errors import CLIUsageError
from appliance.config import default_data_dir
from tui.target import NotReadyError, Target, TargetError, check_url

TOKEN_ENV = "APPLIANCE_CONSOLE_TOKEN"  # the API token, for consoles started by --serve
DEFAULT_SERVE_BIND = "127.0.0.1:8081"

_DESCRIPTION = (
    "Open the on-site console: the radio, traffic, devices, applications, gateways and "
    "configuration of an appliance, from the keyboard. Without options it connects to the "
    "local appliance of ./data (its API address and admin key are in the data directory). "
    "With --serve it is offered to a browser instead, behind a token."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "console", help="the on-site console (terminal or browser)", description=_DESCRIPTION
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="the local appliance's data directory (default ./data or $STATE_DIRECTORY)",
    )
    parser.add_argument("--url", metavar="URL", help="the appliance's API, e.g. http://pi:8080")
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"API token (default: ${TOKEN_ENV}, else the local admin key)",
    )
    parser.add_argument(
        "--serve", action="store_true", help="serve the console to a browser (textual-serve)"
    )
    parser.add_argument(
        "--serve-bind",
        metavar="HOST:PORT",
        default=DEFAULT_SERVE_BIND,
        help=f"where --serve listens (default {DEFAULT_SERVE_BIND}; port 0 = any free port)",
    )
    parser.add_argument(
        "--serve-token",
        metavar="TOKEN",
        help="the browser's access token for --serve (default: a new random one, printed)",
    )
    parser.set_defaults(handler=run_console)


def target_of(args: argparse.Namespace) -> Target:
    url = args.url
    if url is not None:
        try:
            url = check_url(url)
        except TargetError as error:
            raise CLIUsageError(str(error)) from None
    token = args.token or os.environ.get(TOKEN_ENV) or None
    data_dir: Path = (args.data_dir or default_data_dir()).absolute()
    target = Target(url=url, token=token, data_dir=data_dir)
    try:
        target.resolve()
    except NotReadyError:
        pass  # the console waits for the appliance and says so
    except TargetError as error:
        raise CLIUsageError(str(error)) from None
    return target


def parse_bind(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise CLIUsageError(f"--serve-bind: expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def run_console(args: argparse.Namespace) -> int:
    target = target_of(args)
    if args.serve:
        # aiohttp and textual-serve only when asked for.
        from tui.serve import serve_console  # noqa: PLC0415

        host, port = parse_bind(args.serve_bind)
        return serve_console(target, host=host, port=port, access_token=args.serve_token)
    # Textual only when the console starts: every `appliance` command loads this module.
    from tui.app import ConsoleApp  # noqa: PLC0415
    from tui.client import HTTPApplianceAPI  # noqa: PLC0415

    def connect() -> HTTPApplianceAPI:
        url, token = target.resolve()
        return HTTPApplianceAPI(url, token)

    ConsoleApp(connect, target_name=target.description, freeze_startup=True).run()
    return 0
