"""``appliance user add`` and ``appliance apikey create``, through the appliance's API."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TypeAlias

from appliance.cli import resolve
from appliance.cli.api_client import APIClient, add_connection_options, print_json
from appliance.cli.errors import CLIUsageError

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: SubParsers) -> None:
    user = subparsers.add_parser(
        "user",
        help="manage users of a running appliance",
        description="Users log in with a password (the console in a browser, tools) and get "
        "a session token; admins may change everything, others only read.",
    )
    user_sub = user.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    add = user_sub.add_parser("add", help="create a user", description="Create a user.")
    add.add_argument("--email", required=True, metavar="EMAIL")
    add.add_argument(
        "--password",
        metavar="PASSWORD",
        help="at least 8 characters (default: asked for on the terminal, or read from stdin)",
    )
    add.add_argument("--admin", action="store_true", help="may change everything")
    add_connection_options(add)
    add.set_defaults(handler=_add_user)

    apikey = subparsers.add_parser(
        "apikey",
        help="create API keys on a running appliance",
        description="API keys authenticate tools and integrations: admin, read-only, or "
        "limited to one application. The token is printed once.",
    )
    key_sub = apikey.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    create = key_sub.add_parser("create", help="create an API key", description="Create one.")
    create.add_argument("--name", required=True, metavar="NAME")
    create.add_argument("--scope", choices=("admin", "read-only", "application"), default="admin")
    create.add_argument("--app", metavar="NAME|ID", help="the application (scope application)")
    add_connection_options(create)
    create.set_defaults(handler=_create_key)


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise CLIUsageError("the two passwords differ")
        return first
    line = sys.stdin.readline().rstrip("\n")
    if not line:
        raise CLIUsageError("no password given (--password, or one line on stdin)")
    return line


def _add_user(args: argparse.Namespace) -> int:
    body = {"email": args.email, "password": _password(args), "isAdmin": args.admin}
    with APIClient.from_args(args) as client:
        user = client.call("POST", "/api/users", body)
    if args.json:
        print_json(user)
    else:
        role = "admin" if user["isAdmin"] else "read-only"
        print(f"created {role} user {user['email']} ({user['id']})")
    return 0


def _create_key(args: argparse.Namespace) -> int:
    if (args.scope == "application") != (args.app is not None):
        raise CLIUsageError("--app goes with --scope application, and only with it")
    with APIClient.from_args(args) as client:
        body = {"name": args.name, "scope": args.scope}
        if args.app is not None:
            body["applicationId"] = resolve.application_id(client, args.app)
        key = client.call("POST", "/api/api-keys", body)
    if args.json:
        print_json(key)
    else:
        print(key["token"])
        print(f"({args.scope} key {key['id']}; the token is shown only now)", file=sys.stderr)
    return 0
