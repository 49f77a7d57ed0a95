"""``appliance setup``: choose region and board, write the configuration and the device drop-in.

The first-boot unit runs it on tty1 (``--first-boot``), the installer runs it with
``--non-interactive``, and a person runs it again to change region or board.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from appliance.cli.arguments import eui64
from appliance.cli.errors import CLIUsageError
from appliance.cli.setup_prompts import (
    SetupCancelledError,
    board_options,
    choose,
    read_answer,
    region_options,
    yes_no,
)
from appliance.lorawan.identifiers import EUI64
from appliance.service.board_profiles import NO_BOARD, list_boards
from appliance.service.gateway_id import GatewayIdentity, identity_from_mac
from appliance.service.paths import CONFIG_FILE, default_profiles_dir, under
from appliance.service.setup import (
    SetupChoice,
    SetupError,
    apply_setup,
    canonical_region,
    current_gateway,
    current_region,
)
from appliance.service.systemctl import (
    SystemctlError,
    reload_and_restart_service,
    reload_units,
    set_ssh,
    ssh_enabled,
    systemd_is_running,
)

_DESCRIPTION = (
    "Choose the LoRaWAN region and the concentrator board, then write "
    "/etc/lorawan-appliance/appliance.toml (the region; other keys are kept), "
    "/etc/lorawan-appliance/gateway.toml (board and gateway ID) and the service's DeviceAllow "
    "drop-in for the board's devices. Asks on the terminal unless --non-interactive. On a "
    "running system the service is restarted with the new settings."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "setup", help="choose region and board (first-boot wizard)", description=_DESCRIPTION
    )
    parser.add_argument("--region", metavar="NAME", help="regional parameters, e.g. EU868")
    parser.add_argument(
        "--board", metavar="NAME", help=f"board profile name, or '{NO_BOARD}' for no concentrator"
    )
    parser.add_argument(
        "--non-interactive",
        action="store_true",
        help="ask nothing: --region and --board are required",
    )
    parser.add_argument(
        "--first-boot",
        action="store_true",
        help="the first-boot wizard: do nothing if a configuration exists, also ask about SSH",
    )
    parser.add_argument(
        "--gateway-id",
        type=eui64,
        metavar="EUI",
        help="this gateway's ID (default: from the Ethernet MAC on this system)",
    )
    parser.add_argument(
        "--ssh", choices=("enable", "disable"), help="allow or refuse SSH logins (default: as is)"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("/"),
        metavar="DIR",
        help="write below DIR instead of / (an image being built); changes nothing running",
    )
    parser.add_argument(
        "--profiles-dir",
        type=Path,
        metavar="DIR",
        help="where board profiles are (default /opt/lorawan-appliance/firmware_profiles, "
        "or the checkout's firmware_profiles/)",
    )
    parser.set_defaults(handler=_setup)


def _setup(args: argparse.Namespace) -> int:
    root: Path = args.root
    if not root.is_dir():
        raise CLIUsageError(f"--root {root}: not a directory")
    profiles_dir: Path = args.profiles_dir or default_profiles_dir(root)
    config = under(root, CONFIG_FILE)
    if args.first_boot and config.exists():
        print(f"{config} exists: this gateway is set up already")
        return 0
    if args.non_interactive and not (args.region and args.board):
        raise CLIUsageError("--non-interactive needs --region and --board")
    try:
        return _configure(args, root, profiles_dir)
    except SetupCancelledError as exc:
        raise CLIUsageError(str(exc)) from None
    except (SetupError, SystemctlError) as exc:
        raise CLIUsageError(str(exc)) from None


def _configure(args: argparse.Namespace, root: Path, profiles_dir: Path) -> int:
    identity = _identity(args.gateway_id, root)
    interactive = not args.non_interactive
    if interactive:
        print("LoRaWAN appliance setup")
        if identity is not None:
            print(f"Gateway ID: {identity.gateway_id} ({identity.source})")
    region = canonical_region(args.region) if args.region else None
    if region is None:
        region = choose(
            "Region: the LoRaWAN regional parameters of the country the gateway is in",
            region_options(),
            current_region(root),
            read_answer,
        )
    board = args.board
    if board is None:
        previous = current_gateway(root).get("board")
        board = choose(
            "Board: the concentrator attached to this Pi",
            board_options(profiles_dir, list_boards(profiles_dir)),
            previous,
            read_answer,
        )
    ssh = {"enable": True, "disable": False}.get(args.ssh)
    if ssh is None and interactive and args.first_boot:
        ssh = yes_no("\nAllow SSH logins to this Pi?", ssh_enabled(root), read_answer)

    result = apply_setup(SetupChoice(region, board, identity), root=root, profiles_dir=profiles_dir)
    print(f"region {region}, board {board}")
    for path in result.written:
        print(f"wrote {path}")
    if result.backend is not None:
        print(f"the concentrator runs as backend {result.backend!r}; its EUI is the gateway ID")
    if result.note is not None:
        print(f"note: {result.note}")
    if ssh is not None:
        print(set_ssh(root, enabled=ssh))
    if systemd_is_running(root):
        if args.first_boot:
            # The service starts after the first-boot unit; it only needs the new drop-in loaded.
            reload_units()
        else:
            print(reload_and_restart_service())
    return 0


def _identity(given: EUI64 | None, root: Path) -> GatewayIdentity | None:
    if given is not None:
        return GatewayIdentity(given, "given to appliance setup")
    if root == Path("/"):
        return identity_from_mac()
    return None  # the build host's MAC is not the gateway's
