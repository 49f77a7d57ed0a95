"""``appliance simulate``: a fleet of simulated devices against a running appliance.

The devices are provisioned into the appliance's data directory, then reach it the way real
ones do: over the air of a simulated radio to simulated gateways, which forward to the
appliance's Semtech UDP port. See docs/device-simulator.md.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

from appliance.cli.errors import CLIUsageError
from appliance.config import DEFAULT_SUB_BAND, default_data_dir
from appliance.devicesim import LoRaWANVersion
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Region, get_region
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.simulation.provisioner import DataDirProvisioner, ProvisioningError
from appliance.simulation.udp_fleet import FleetOptions, plan_fleet
from appliance.simulation.udp_runner import SimulationRunner
from hal.virtual_radio.backend import EU868_EXTRA_FREQUENCIES

_DESCRIPTION = (
    "Run simulated LoRaWAN devices against a running appliance ('appliance run'): they are "
    "provisioned into its data directory, join, and send uplinks through simulated gateways "
    "that speak Semtech UDP to the appliance. Prints a summary line per interval and a final "
    "summary; runs for --duration seconds or until Ctrl-C."
)


def _positive(kind: type[int] | type[float]) -> argparse._ActionType:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="run simulated devices against a running appliance",
        description=_DESCRIPTION,
    )
    parser.add_argument(
        "--devices", type=_positive(int), default=10, metavar="N", help="devices (default 10)"
    )
    parser.add_argument(
        "--gateways", type=_positive(int), default=1, metavar="G", help="gateways (default 1)"
    )
    parser.add_argument(
        "--udp",
        default="127.0.0.1:1700",
        metavar="HOST:PORT",
        help="the appliance's Semtech UDP port (default 127.0.0.1:1700)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="the appliance's data directory (default ./data or $STATE_DIRECTORY)",
    )
    parser.add_argument(
        "--region", default="EU868", metavar="NAME", help="the appliance's region (default EU868)"
    )
    parser.add_argument(
        "--interval",
        type=_positive(float),
        default=10.0,
        metavar="S",
        help="seconds between a device's uplinks, and between summary lines (default 10)",
    )
    parser.add_argument(
        "--confirmed-share",
        type=float,
        default=0.0,
        metavar="F",
        help="share of devices sending confirmed uplinks, 0..1 (default 0)",
    )
    parser.add_argument(
        "--mac-version",
        choices=[v.value for v in LoRaWANVersion],
        default=LoRaWANVersion.V1_0_3.value,
        help="LoRaWAN version of the devices (default 1.0.3)",
    )
    parser.add_argument(
        "--duration",
        type=_positive(float),
        metavar="S",
        help="stop after S seconds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of placements and timings"
    )
    parser.set_defaults(handler=_simulate)


def _server(text: str) -> tuple[str, int]:
    host, separator, port = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not separator or not host or not port.isdigit() or not 0 < int(port) <= 65_535:
        raise CLIUsageError(f"--udp: expected HOST:PORT, got {text!r}")
    return host, int(port)


def _options(args: argparse.Namespace, region: Region) -> FleetOptions:
    fixed = isinstance(region.channel_plan, FixedChannelPlan)
    try:
        return FleetOptions(
            devices=args.devices,
            gateways=args.gateways,
            region=region.name,
            interval_s=args.interval,
            confirmed_share=args.confirmed_share,
            mac_version=LoRaWANVersion(args.mac_version),
            # The channels 'appliance run' gives its network (see appliance.runtime).
            sub_band=DEFAULT_SUB_BAND if fixed else None,
            extra_frequencies=EU868_EXTRA_FREQUENCIES if region.name == "EU868" else (),
            seed=args.seed,
        )
    except InvalidValueError as exc:
        raise CLIUsageError(str(exc)) from None


def _simulate(args: argparse.Namespace) -> int:
    server = _server(args.udp)
    try:
        region = get_region(args.region)
    except InvalidValueError as exc:
        raise CLIUsageError(f"--region: {exc}") from None
    options = _options(args, region)
    data_dir: Path = args.data_dir or default_data_dir()
    return asyncio.run(
        _run(
            options,
            region,
            server=server,
            data_dir=data_dir,
            interval_s=args.interval,
            duration_s=args.duration,
        )
    )


def _print(line: str) -> None:
    print(line, flush=True)


async def _run(
    options: FleetOptions,
    region: Region,
    *,
    server: tuple[str, int],
    data_dir: Path,
    interval_s: float,
    duration_s: float | None,
) -> int:
    now = time.monotonic_ns()
    try:
        plan = plan_fleet(options, now_ns=now, unix_ns_at_zero=time.time_ns() - now)
    except InvalidValueError as exc:
        raise CLIUsageError(str(exc)) from None
    try:
        provisioner = DataDirProvisioner(data_dir)
        try:
            await provisioner.provision(plan.profile, plan.specs)
        finally:
            await provisioner.close()
    except ProvisioningError as exc:
        raise CLIUsageError(str(exc)) from None
    _print(
        f"provisioned {options.devices} LoRaWAN {options.mac_version} devices in {data_dir}; "
        f"{options.gateways} gateway(s) forwarding to {server[0]}:{server[1]} ({region.name})"
    )
    runner = SimulationRunner(plan, region, server=server, report=_print, report_every_s=interval_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop() -> None:
        stop.set()
        runner.wake.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)
    try:
        totals = await runner.run(duration_s=duration_s, stop=stop)
    except OSError as exc:
        raise CLIUsageError(f"--udp {server[0]}:{server[1]}: {exc.strerror or exc}") from None
    if not totals.server_answered:
        print(
            f"appliance: error: no answer from {server[0]}:{server[1]}: is 'appliance run' "
            "listening there?",
            file=sys.stderr,
        )
        return 2
    return 0
