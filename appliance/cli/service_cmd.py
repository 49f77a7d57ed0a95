"""``appliance service ...``: the pieces of the systemd deployment, one command each.

``device-allow`` prints the DeviceAllow drop-in for a board profile, ``gateway-id`` the ID this
Pi would get from its Ethernet MAC, ``enable-buses`` turns SPI and I2C on in config.txt. The
installer and ``appliance setup`` use the same code.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from appliance.cli.errors import CLIUsageError
from appliance.service.board_profiles import ProfileError, load_board_devices
from appliance.service.boot_config import BootConfigError, enable_buses
from appliance.service.device_allow import device_rules, render_drop_in
from appliance.service.gateway_id import identity_from_mac


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    service = subparsers.add_parser(
        "service",
        help="systemd deployment helpers (device drop-in, gateway ID, SPI/I2C)",
        description="Helpers for running the appliance as a systemd service (docs/deployment.md).",
    )
    sub = service.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)

    allow = sub.add_parser(
        "device-allow",
        help="print the DeviceAllow= drop-in for a board profile",
        description="Print the [Service] drop-in that lets the sandboxed service "
        "(DevicePolicy=closed) open the board's bus, GPIO chip and I2C devices.",
    )
    allow.add_argument("--profile", type=Path, required=True, metavar="FILE", help="board TOML")
    allow.add_argument("--output", type=Path, metavar="FILE", help="write here instead of stdout")
    allow.set_defaults(handler=_device_allow)

    gateway = sub.add_parser(
        "gateway-id",
        help="print the gateway ID derived from the Ethernet MAC",
        description="Print the EUI-64 made from this system's wired MAC (FFFE inserted in "
        "the middle) and which interface it came from.",
    )
    gateway.add_argument(
        "--sys-class-net",
        type=Path,
        default=Path("/sys/class/net"),
        metavar="DIR",
        help="network interfaces in sysfs (default /sys/class/net)",
    )
    gateway.set_defaults(handler=_gateway_id)

    buses = sub.add_parser(
        "enable-buses",
        help="turn SPI and/or I2C on in the Raspberry Pi's config.txt",
        description="Set dtparam=spi=on / dtparam=i2c_arm=on in /boot/firmware/config.txt "
        "(and load i2c-dev at boot). Takes effect after a reboot.",
    )
    buses.add_argument("--spi", action="store_true", help="the SPI bus of SPI concentrators")
    buses.add_argument("--i2c", action="store_true", help="I2C for the temperature sensor")
    buses.add_argument(
        "--root", type=Path, default=Path("/"), metavar="DIR", help="system root (default /)"
    )
    buses.set_defaults(handler=_enable_buses)


def _device_allow(args: argparse.Namespace) -> int:
    try:
        rules = device_rules(load_board_devices(args.profile))
    except ProfileError as exc:
        raise CLIUsageError(str(exc)) from None
    text = render_drop_in(rules, board=args.profile.stem, profile=str(args.profile))
    if args.output is None:
        sys.stdout.write(text)
        return 0
    temporary = args.output.with_name(f".{args.output.name}.new")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, args.output)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise CLIUsageError(f"cannot write {args.output}: {exc.strerror}") from None
    return 0


def _gateway_id(args: argparse.Namespace) -> int:
    identity = identity_from_mac(args.sys_class_net)
    if identity is None:
        raise CLIUsageError(f"no physical network interface with a MAC in {args.sys_class_net}")
    print(f"{identity.gateway_id} ({identity.source})")
    return 0


def _enable_buses(args: argparse.Namespace) -> int:
    if not (args.spi or args.i2c):
        raise CLIUsageError("say which bus: --spi, --i2c or both")
    try:
        changes = enable_buses(args.root, spi=args.spi, i2c=args.i2c)
    except BootConfigError as exc:
        raise CLIUsageError(str(exc)) from None
    for change in changes or ["already enabled: nothing to change"]:
        print(change)
    return 0
