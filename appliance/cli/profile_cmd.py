"""``appliance profile add|list|import``, through the appliance's API."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TypeAlias

from appliance.cli.api_client import APIClient, add_connection_options, print_json, print_table
from appliance.cli.arguments import bounded_int
from appliance.cli.errors import CLIUsageError

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
_MAC_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.1.0")
MAX_SCRIPT = 256 * 1024


def register(subparsers: SubParsers) -> None:
    profile = subparsers.add_parser(
        "profile",
        help="manage device profiles of a running appliance",
        description="A device profile says what a kind of device supports (region, LoRaWAN "
        "version, OTAA or ABP, classes) and which payload codec decodes its data.",
    )
    sub = profile.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    add = sub.add_parser("add", help="create a device profile", description="Create one.")
    add.add_argument("--name", required=True, metavar="NAME")
    add.add_argument("--region", metavar="NAME", help="default: the appliance's region")
    add.add_argument("--mac-version", choices=_MAC_VERSIONS, default="1.0.3")
    add.add_argument("--abp", action="store_true", help="devices are activated by ABP")
    add.add_argument("--class-b", action="store_true", help="devices support class B")
    add.add_argument("--class-c", action="store_true", help="devices support class C")
    add.add_argument("--adr-algorithm", default="default", metavar="ID")
    add.add_argument(
        "--uplink-interval", type=bounded_int(1, 30 * 86400), default=3600, metavar="SECONDS"
    )
    add.add_argument("--codec", choices=("none", "cayenne_lpp", "js"), default="none")
    add.add_argument("--codec-script", type=Path, metavar="FILE", help="JavaScript codec file")
    add_connection_options(add)
    add.set_defaults(handler=_add)

    listing = sub.add_parser("list", help="list device profiles", description="List them.")
    add_connection_options(listing)
    listing.set_defaults(handler=_list)


def _script(args: argparse.Namespace) -> str:
    if args.codec != "js":
        if args.codec_script is not None:
            raise CLIUsageError("--codec-script goes with --codec js")
        return ""
    if args.codec_script is None:
        raise CLIUsageError("--codec js needs --codec-script FILE")
    path: Path = args.codec_script
    try:
        if path.stat().st_size > MAX_SCRIPT:
            raise CLIUsageError(f"{path} is larger than {MAX_SCRIPT // 1024} KiB")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CLIUsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIUsageError(f"cannot read {path}: {exc}") from None


def _add(args: argparse.Namespace) -> int:
    script = _script(args)
    with APIClient.from_args(args) as client:
        region = args.region or client.call("GET", "/api/system/status")["region"]
        body: dict[str, Any] = {
            "name": args.name,
            "region": region,
            "macVersion": args.mac_version,
            "supportsOtaa": not args.abp,
            "supportsClassB": args.class_b,
            "supportsClassC": args.class_c,
            "adrAlgorithm": args.adr_algorithm,
            "uplinkInterval": args.uplink_interval,
            "payloadCodecRuntime": args.codec,
            "payloadCodecScript": script,
        }
        profile = client.call("POST", "/api/device-profiles", body)
    if args.json:
        print_json(profile)
    else:
        print(f"created device profile {profile['name']} ({profile['id']})")
    return 0


def _list(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        page = client.call("GET", "/api/device-profiles", limit=1000)
    if args.json:
        print_json(page)
    else:
        print_table(
            page["result"],
            [
                ("id", "ID"),
                ("name", "NAME"),
                ("region", "REGION"),
                ("macVersion", "LORAWAN"),
                ("payloadCodecRuntime", "CODEC"),
            ],
        )
    return 0
