"""``appliance app add|list`` and ``appliance gateway list``, through the appliance's API."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from appliance.cli.api_client import APIClient, add_connection_options, print_json, print_table

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: SubParsers) -> None:
    app = subparsers.add_parser(
        "app",
        help="manage applications of a running appliance",
        description="Applications group devices and carry integrations.",
    )
    sub = app.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    add = sub.add_parser("add", help="create an application", description="Create one.")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--description", default="", metavar="TEXT")
    add_connection_options(add)
    add.set_defaults(handler=_add)
    listing = sub.add_parser("list", help="list applications", description="List them.")
    add_connection_options(listing)
    listing.set_defaults(handler=_list)

    gateway = subparsers.add_parser(
        "gateway",
        help="list the gateways a running appliance knows",
        description="External packet forwarders and local concentrators, with when each was "
        "last heard and through which backend.",
    )
    gateway_sub = gateway.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    gateways = gateway_sub.add_parser("list", help="list gateways", description="List them.")
    add_connection_options(gateways)
    gateways.set_defaults(handler=_gateways)


def _add(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        app = client.call(
            "POST", "/api/applications", {"name": args.name, "description": args.description}
        )
    if args.json:
        print_json(app)
    else:
        print(f"created application {app['name']} ({app['id']})")
    return 0


def _list(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        page = client.call("GET", "/api/applications", limit=1000)
    if args.json:
        print_json(page)
    else:
        print_table(
            page["result"], [("id", "ID"), ("name", "NAME"), ("description", "DESCRIPTION")]
        )
    return 0


def _gateways(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        page = client.call("GET", "/api/gateways", limit=1000)
    if args.json:
        print_json(page)
    else:
        print_table(
            page["result"],
            [
                ("gatewayId", "GATEWAY ID"),
                ("name", "NAME"),
                ("lastSeenAt", "LAST SEEN"),
                ("connectedThrough", "BACKEND"),
            ],
        )
    return 0
