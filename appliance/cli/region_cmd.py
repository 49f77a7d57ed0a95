"""``appliance region list|show``: the LoRaWAN regional parameters (RP002-1.0.4) built in."""

from __future__ import annotations

import argparse
import json

from appliance.cli.errors import CLIUsageError
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import REGION_NAMES, REGIONS, get_region


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    region = subparsers.add_parser(
        "region",
        help="show the LoRaWAN regional parameters built in",
        description="Show the LoRaWAN Regional Parameters (RP002-1.0.4) the appliance knows: "
        "data rates, payload sizes, channels, receive windows, TX power, duty cycle, class B.",
    )
    region_sub = region.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)

    listing = region_sub.add_parser(
        "list",
        help="list the region names",
        description="Print the name of every region, one per line, in the form 'show' accepts.",
    )
    listing.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of objects with each region's name, RP002 common name, "
        "specification section and frequency range in Hz instead",
    )
    listing.set_defaults(handler=_list)

    show = region_sub.add_parser(
        "show",
        help="print one region's parameters as JSON",
        description="Print every parameter of one region as indented JSON; frequencies are "
        "integers in Hz. Names are case-insensitive, '_' may stand for '-', the RP002 common "
        "name works too (EU863-870) and AS923 means AS923-1.",
    )
    show.add_argument("name", metavar="NAME", help=f"region name: {', '.join(REGION_NAMES)}")
    show.set_defaults(handler=_show)


def _list(args: argparse.Namespace) -> int:
    if args.json:
        summary = [
            {
                "name": region.name,
                "common_name": region.common_name,
                "section": region.section,
                "frequency_range_hz": {
                    "min": region.min_frequency_hz,
                    "max": region.max_frequency_hz,
                },
            }
            for region in REGIONS
        ]
        print(json.dumps(summary, indent=2))
    else:
        print("\n".join(REGION_NAMES))
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        region = get_region(args.name)
    except InvalidValueError:
        raise CLIUsageError(
            f"unknown region {args.name!r} (known: {', '.join(REGION_NAMES)})"
        ) from None
    print(json.dumps(region.to_json(), indent=2))
    return 0
