"""``appliance device add|activate|list|show|remove|enqueue``, through the appliance's API."""

from __future__ import annotations

import argparse
import base64
from typing import Any, TypeAlias

from appliance.cli import resolve
from appliance.cli.api_client import APIClient, add_connection_options, print_json, print_table
from appliance.cli.arguments import aes_key, bounded_int, eui64
from appliance.cli.errors import CLIUsageError
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import DevAddr

_MAC_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.1.0")
_LIST_COLUMNS = [
    ("devEui", "DEV EUI"),
    ("name", "NAME"),
    ("lastSeenAt", "LAST SEEN"),
    ("rssi", "RSSI"),
    ("snr", "SNR"),
    ("batteryLevel", "BATTERY %"),
    ("fCntUp", "FCNT"),
    ("dr", "DR"),
]

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def dev_addr(text: str) -> DevAddr:
    try:
        return DevAddr(text)
    except InvalidValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def hex_bytes(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not hexadecimal bytes") from None


def register(subparsers: SubParsers) -> None:
    device = subparsers.add_parser(
        "device",
        help="manage devices of a running appliance",
        description="Enrol, list, show, activate and remove devices, and queue downlinks, "
        "through the REST API of a running appliance (the local one by default).",
    )
    sub = device.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)

    add = sub.add_parser(
        "add",
        help="enrol a device (OTAA keys optional for ABP devices)",
        description="Enrol a device. Without --app and --profile it goes into the 'default' "
        "application with the default profile of the appliance's region for --mac-version "
        "(both created on first need).",
    )
    add.add_argument("--dev-eui", type=eui64, required=True, metavar="EUI")
    add.add_argument("--join-eui", type=eui64, metavar="EUI", help="default 0000000000000000")
    add.add_argument("--app-key", type=aes_key, metavar="KEY", help="OTAA root key (AppKey)")
    add.add_argument("--nwk-key", type=aes_key, metavar="KEY", help="NwkKey (LoRaWAN 1.1 only)")
    add.add_argument("--mac-version", choices=_MAC_VERSIONS, default="1.0.3")
    add.add_argument("--name", metavar="NAME", help="default: the DevEUI")
    add.add_argument("--app", metavar="NAME|ID", help="application (default: 'default')")
    add.add_argument("--profile", metavar="NAME|ID", help="device profile (default: per region)")
    add_connection_options(add)
    add.set_defaults(handler=_add)

    activate = sub.add_parser(
        "activate",
        help="give a device an ABP session",
        description="Activation by personalisation: the device's DevAddr and session keys. "
        "LoRaWAN 1.0.x devices take --nwk-s-key; 1.1 devices take the three network keys.",
    )
    activate.add_argument("--dev-eui", type=eui64, required=True, metavar="EUI")
    activate.add_argument("--dev-addr", type=dev_addr, required=True, metavar="ADDR")
    activate.add_argument("--app-s-key", type=aes_key, required=True, metavar="KEY")
    activate.add_argument("--nwk-s-key", type=aes_key, metavar="KEY", help="LoRaWAN 1.0.x")
    activate.add_argument("--f-nwk-s-int-key", type=aes_key, metavar="KEY", help="LoRaWAN 1.1")
    activate.add_argument("--s-nwk-s-int-key", type=aes_key, metavar="KEY", help="LoRaWAN 1.1")
    activate.add_argument("--nwk-s-enc-key", type=aes_key, metavar="KEY", help="LoRaWAN 1.1")
    activate.add_argument("--f-cnt-up", type=bounded_int(0, 0xFFFFFFFF), default=0, metavar="N")
    add_connection_options(activate)
    activate.set_defaults(handler=_activate)

    listing = sub.add_parser("list", help="list devices", description="List devices as a table.")
    listing.add_argument("--app", metavar="NAME|ID", help="only this application's devices")
    listing.add_argument("--search", metavar="TEXT", help="DevEUI or name contains TEXT")
    listing.add_argument("--limit", type=bounded_int(1, 1000), default=100, metavar="N")
    add_connection_options(listing)
    listing.set_defaults(handler=_list)

    show = sub.add_parser("show", help="show one device", description="Print a device as JSON.")
    show.add_argument("dev_eui", type=eui64, metavar="DEV_EUI")
    add_connection_options(show)
    show.set_defaults(handler=_show)

    remove = sub.add_parser("remove", help="remove a device", description="Remove a device.")
    remove.add_argument("dev_eui", type=eui64, metavar="DEV_EUI")
    add_connection_options(remove)
    remove.set_defaults(handler=_remove)

    enqueue = sub.add_parser(
        "enqueue",
        help="queue a downlink",
        description="Queue a downlink for the device's next receive window.",
    )
    enqueue.add_argument("dev_eui", type=eui64, metavar="DEV_EUI")
    enqueue.add_argument("--f-port", type=bounded_int(1, 223), required=True, metavar="N")
    enqueue.add_argument("--data", type=hex_bytes, required=True, metavar="HEX")
    enqueue.add_argument("--confirmed", action="store_true", help="ask the device to ACK")
    add_connection_options(enqueue)
    enqueue.set_defaults(handler=_enqueue)


def _add(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        body: dict[str, Any] = {
            "devEui": str(args.dev_eui),
            "name": args.name or str(args.dev_eui),
            "macVersion": args.mac_version,
        }
        if args.join_eui is not None:
            body["joinEui"] = str(args.join_eui)
        if args.app_key is not None:
            body["appKey"] = str(args.app_key)
        if args.nwk_key is not None:
            body["nwkKey"] = str(args.nwk_key)
        if args.app is not None:
            body["applicationId"] = resolve.application_id(client, args.app)
        if args.profile is not None:
            body["deviceProfileId"] = resolve.profile_id(client, args.profile)
        device = client.call("POST", "/api/devices", body)
    if args.json:
        print_json(device)
    else:
        print(
            f"added {device['devEui']} ({device['name']}) to application "
            f"{device['applicationId']} with profile '{device['deviceProfileName']}'"
        )
    return 0


def _activate(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "devAddr": str(args.dev_addr),
        "appSKey": str(args.app_s_key),
        "fCntUp": args.f_cnt_up,
    }
    for option, key in (
        ("nwk_s_key", "nwkSKey"),
        ("f_nwk_s_int_key", "fNwkSIntKey"),
        ("s_nwk_s_int_key", "sNwkSIntKey"),
        ("nwk_s_enc_key", "nwkSEncKey"),
    ):
        value = getattr(args, option)
        if value is not None:
            body[key] = str(value)
    if "nwkSKey" not in body and "fNwkSIntKey" not in body:
        raise CLIUsageError("give --nwk-s-key (LoRaWAN 1.0.x) or the three 1.1 network keys")
    with APIClient.from_args(args) as client:
        session = client.call("POST", f"/api/devices/{args.dev_eui}/activate", body)
    if args.json:
        print_json(session)
    else:
        print(f"activated {args.dev_eui} with DevAddr {session['devAddr']}")
    return 0


def _list(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        app_id = None if args.app is None else resolve.application_id(client, args.app)
        page = client.call(
            "GET", "/api/devices", applicationId=app_id, search=args.search, limit=args.limit
        )
    if args.json:
        print_json(page)
    else:
        print_table(page["result"], _LIST_COLUMNS)
        if page["totalCount"] > len(page["result"]):
            print(f"({len(page['result'])} of {page['totalCount']}; use --limit or --search)")
    return 0


def _show(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        print_json(client.call("GET", f"/api/devices/{args.dev_eui}"))
    return 0


def _remove(args: argparse.Namespace) -> int:
    with APIClient.from_args(args) as client:
        client.call("DELETE", f"/api/devices/{args.dev_eui}")
    if not args.json:
        print(f"removed {args.dev_eui}")
    return 0


def _enqueue(args: argparse.Namespace) -> int:
    body = {
        "fPort": args.f_port,
        "data": base64.b64encode(args.data).decode(),
        "confirmed": args.confirmed,
    }
    with APIClient.from_args(args) as client:
        item = client.call("POST", f"/api/devices/{args.dev_eui}/queue", body)
    if args.json:
        print_json(item)
    else:
        kind = "confirmed" if args.confirmed else "unconfirmed"
        print(f"queued {kind} downlink {item['id']} on FPort {args.f_port} for {args.dev_eui}")
    return 0
