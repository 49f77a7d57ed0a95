"""``appliance profile add|list|import``, through the appliance's API."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from appliance.cli.api_client import APIClient, add_connection_options, print_json, print_table
from appliance.cli.arguments import bounded_int
from appliance.cli.errors import CLIUsageError

if TYPE_CHECKING:
    from appliance.codecs import ImportedDevice, RepositoryImport

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
_MAC_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.1.0")
MAX_SCRIPT = 256 * 1024
_REVISIONS = {"A", "B", "RP002-1.0.0", "RP002-1.0.1", "RP002-1.0.2", "RP002-1.0.3", "RP002-1.0.4"}


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

    imported = sub.add_parser(
        "import",
        help="import device profiles and codecs from a device repository checkout",
        description="Read a local checkout of The Things Network's device repository "
        "(lorawan-devices) or ChirpStack's device-profiles repository, run each codec's "
        "examples as a self-test, and create one device profile (with its codec) per device, "
        "firmware version and region. Only the appliance's region is imported unless --region "
        "says otherwise.",
    )
    imported.add_argument("path", type=Path, metavar="PATH", help="the repository checkout")
    imported.add_argument("--format", choices=("auto", "ttn", "chirpstack"), default="auto")
    imported.add_argument("--region", metavar="NAME", help="default: the appliance's region")
    imported.add_argument("--vendor", metavar="ID", help="only this vendor")
    imported.add_argument("--device", metavar="ID", help="only this device")
    imported.add_argument(
        "--skip-failing", action="store_true", help="leave out devices whose codec self-test fails"
    )
    imported.add_argument(
        "--dry-run", action="store_true", help="show what would be imported, change nothing"
    )
    add_connection_options(imported)
    imported.set_defaults(handler=_import)


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


def _load(path: Path, kind: str) -> RepositoryImport:
    # Imported here: the codec sandbox is only needed by this subcommand.
    from appliance.codecs import (  # noqa: PLC0415
        RepositoryError,
        load_chirpstack_repository,
        load_ttn_repository,
    )

    if kind == "auto":
        kind = "chirpstack" if (path / "vendors").is_dir() else "ttn"
    loader = load_chirpstack_repository if kind == "chirpstack" else load_ttn_repository
    try:
        return loader(path)
    except RepositoryError as error:
        raise CLIUsageError(str(error)) from None


def _profile_body(device: ImportedDevice) -> dict[str, Any]:
    profile = device.profile
    name = f"{device.vendor_name} {device.name} {device.firmware_version} ({profile.region})"
    revision = profile.reg_params_revision
    body: dict[str, Any] = {
        "name": name[:100],
        "region": profile.region,
        "macVersion": profile.mac_version,
        "regParamsRevision": revision if revision in _REVISIONS else "RP002-1.0.4",
        "supportsOtaa": profile.supports_otaa,
        "supportsClassB": profile.supports_class_b,
        "supportsClassC": profile.supports_class_c,
        "tags": {"vendor": device.vendor_id, "device": device.device_id},
    }
    for field, key in (
        ("abp_rx1_delay_s", "abpRx1Delay"),
        ("abp_rx1_dr_offset", "abpRx1DrOffset"),
        ("abp_rx2_dr", "abpRx2Dr"),
        ("abp_rx2_frequency", "abpRx2Frequency"),
    ):
        value = getattr(profile, field)
        if value is not None:
            body[key] = value
    if device.codec is not None:
        body["payloadCodecRuntime"] = "js"
        body["payloadCodecScript"] = device.codec.script
    return body


def _import(args: argparse.Namespace) -> int:
    repository = _load(args.path, args.format)
    with APIClient.from_args(args) as client:
        region = args.region or client.call("GET", "/api/system/status")["region"]
        existing = {
            p["name"] for p in client.call("GET", "/api/device-profiles", limit=1000)["result"]
        }
        imported = skipped = 0
        for device in repository.devices:
            if device.profile.region.upper() != region.upper():
                continue
            if args.vendor and device.vendor_id != args.vendor:
                continue
            if args.device and device.device_id != args.device:
                continue
            body = _profile_body(device)
            failures = () if device.codec is None else device.codec.failures
            for failure in failures:
                print(
                    f"codec self-test failed: {body['name']}: {failure.description}: "
                    f"{failure.reason}"
                )
            if (failures and args.skip_failing) or body["name"] in existing:
                skipped += 1
                continue
            if not args.dry_run:
                client.call("POST", "/api/device-profiles", body)
            imported += 1
            print(f"{'would import' if args.dry_run else 'imported'} {body['name']}")
    for entry in repository.skipped:
        print(f"skipped {entry.path}: {entry.reason}")
    print(
        f"{imported} profile(s) {'to import' if args.dry_run else 'imported'}, {skipped} left "
        f"out (present already or failing), {len(repository.skipped)} file(s) unreadable"
    )
    return 0
