"""``appliance hardware detect|emulate``: find SX1302/SX1303 concentrators, or run the driver
against the built-in chip emulator (a self-test without hardware)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from appliance.cli.arguments import bounded_int
from appliance.cli.errors import CLIUsageError
from appliance.config import ConfigError, load_config
from hal.backend import BackendConfigError
from hal.sx1302.config import ConcentratorConfig
from hal.sx1302.detect import Detection, all_devices, probe
from hal.sx1302.emulator.selftest import (
    DEFAULT_TX_PAYLOAD,
    EmulationReport,
    TxSettings,
    run_emulation,
    write_trace,
)
from hal.sx1302.emulator.trace import Trace, compare
from hal.sx1302.errors import FirmwareError, ProfileError, Sx1302Error
from hal.sx1302.firmware import FirmwareImage, FirmwareKind, load_image
from hal.sx1302.global_conf import load_global_conf
from hal.sx1302.options import parse_options
from hal.sx1302.profiles import concentrator_config, load_profile
from hal.sx1302.temperature import DEFAULT_ADDRESSES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hardware = subparsers.add_parser(
        "hardware",
        help="find SX1302/SX1303 concentrators or run the driver on the chip emulator",
        description="Concentrator hardware: 'detect' probes SPI and USB devices for an "
        "SX1302/SX1303; 'emulate' runs the real driver against the built-in chip emulator.",
    )
    sub = hardware.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)

    detect = sub.add_parser(
        "detect",
        help="probe SPI and USB devices for a concentrator",
        description="Probe the given devices, the sx1302 backends of a configuration file, or "
        "every /dev/spidev* and /dev/ttyACM* device; print the chip model, version, EUI and "
        "the board profiles that match. The probe reconfigures the chip (it transmits "
        "nothing): stop anything else using it first. Exit code 1 when nothing is found.",
    )
    detect.add_argument(
        "--device", action="append", metavar="PATH", help="device to probe (repeatable)"
    )
    detect.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="probe the sx1302 backends of this configuration",
    )
    detect.add_argument("--json", action="store_true", help="print a JSON array instead")
    detect.set_defaults(handler=_detect)

    emulate = sub.add_parser(
        "emulate",
        help="run the driver against the chip emulator and write its SPI trace",
        description="Start the real driver on the emulated chip (behind a fake spidev, or a "
        "pseudo-terminal speaking the USB bridge protocol for USB boards), receive one "
        "emulated packet, send one transmission, stop. Without firmware files, synthetic "
        "images stand in for Semtech's. --trace writes the chip's SPI frames in the "
        "reference trace format; --compare checks them against a reference trace.",
    )
    source = emulate.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--profile", metavar="NAME", help="board profile (firmware_profiles/NAME.toml)"
    )
    source.add_argument("--global-conf", type=Path, metavar="FILE", help="Semtech global_conf.json")
    emulate.add_argument("--region", metavar="NAME", help="region, with --profile (e.g. EU868)")
    emulate.add_argument(
        "--sub-band", type=bounded_int(1, 12), metavar="N", help="sub-band of fixed-plan regions"
    )
    emulate.add_argument("--trace", type=Path, metavar="FILE", help="write the SPI trace here")
    emulate.add_argument(
        "--compare", type=Path, metavar="REFERENCE", help="compare the trace with a reference trace"
    )
    emulate.add_argument(
        "--agc-firmware", type=Path, metavar="FILE", help="AGC image (default: synthetic)"
    )
    emulate.add_argument(
        "--arb-firmware", type=Path, metavar="FILE", help="ARB image (default: synthetic)"
    )
    emulate.add_argument(
        "--tx-frequency", type=bounded_int(100_000_000, 1_100_000_000), metavar="HZ"
    )
    emulate.add_argument(
        "--tx-power", type=bounded_int(-10, 32), default=14, metavar="DBM", help="default 14"
    )
    emulate.add_argument(
        "--tx-sf", type=bounded_int(5, 12), default=7, metavar="SF", help="default 7"
    )
    emulate.add_argument("--tx-payload", metavar="HEX", help=f"default {DEFAULT_TX_PAYLOAD.hex()}")
    emulate.add_argument("--json", action="store_true", help="print the result as JSON")
    emulate.set_defaults(handler=_emulate)


# --- detect ------------------------------------------------------------------------------


def _configured_devices(path: Path) -> list[str]:
    try:
        config = load_config(path, {})
    except ConfigError as exc:
        raise CLIUsageError(str(exc)) from None
    devices = []
    for index, backend in enumerate(config.backends):
        if backend.get("kind") != "sx1302":
            continue
        try:
            options = parse_options({k: v for k, v in backend.items() if k != "kind"})
        except BackendConfigError as exc:
            raise CLIUsageError(f"backends[{index}]: {exc}") from None
        devices.append(options.device)
    if not devices:
        raise CLIUsageError(f"{path} has no [[backends]] of kind sx1302")
    return devices


def _detection_json(detection: Detection) -> dict[str, Any]:
    identity = detection.identity
    return {
        "device": detection.device,
        "bus": detection.bus_kind,
        "found": detection.found,
        "chip": identity.model if identity else None,
        "version": f"0x{identity.version:02X}" if identity else None,
        "eui": str(identity.eui) if identity else None,
        "profiles": list(detection.profiles),
        "error": detection.error,
    }


def _detect(args: argparse.Namespace) -> int:
    if args.device:
        devices = list(args.device)
    elif args.config:
        devices = _configured_devices(args.config)
    else:
        devices = all_devices()
    detections = [probe(device) for device in devices]
    if args.json:
        print(json.dumps([_detection_json(d) for d in detections], indent=2))
    elif not detections:
        print("no SPI (/dev/spidev*) or USB (/dev/ttyACM*) device to probe")
    for detection in detections if not args.json else ():
        if detection.identity is None:
            print(f"{detection.device}: no concentrator ({detection.error})")
            continue
        identity = detection.identity
        profiles = ", ".join(detection.profiles) or "none"
        print(
            f"{detection.device}: {identity.model} version 0x{identity.version:02X}, "
            f"EUI {identity.eui}; matching profiles: {profiles}"
        )
    return 0 if any(d.found for d in detections) else 1


# --- emulate -----------------------------------------------------------------------------


def _emulation_config(args: argparse.Namespace) -> tuple[ConcentratorConfig, str, tuple[int, ...]]:
    try:
        if args.profile:
            if not args.region:
                raise CLIUsageError("--profile needs --region (e.g. --region EU868)")
            profile = load_profile(args.profile)
            config = concentrator_config(profile, args.region, sub_band=args.sub_band)
            addresses = profile.temperature_addresses if profile.temperature_source == "i2c" else ()
            return config, profile.bus_kind, addresses
        if args.region or args.sub_band:
            raise CLIUsageError("--region and --sub-band go with --profile, not --global-conf")
        conf = load_global_conf(args.global_conf)
        return conf.config, conf.bus_kind, DEFAULT_ADDRESSES
    except ProfileError as exc:
        raise CLIUsageError(str(exc)) from None


def _firmware(args: argparse.Namespace) -> tuple[FirmwareImage, FirmwareImage] | None:
    if not (args.agc_firmware or args.arb_firmware):
        return None
    if not (args.agc_firmware and args.arb_firmware):
        raise CLIUsageError("give both --agc-firmware and --arb-firmware, or neither")
    try:
        return (
            load_image(args.agc_firmware, FirmwareKind.AGC, allow_unknown=True),
            load_image(args.arb_firmware, FirmwareKind.ARB, allow_unknown=True),
        )
    except FirmwareError as exc:
        raise CLIUsageError(str(exc)) from None


def _tx_settings(args: argparse.Namespace) -> TxSettings:
    payload = DEFAULT_TX_PAYLOAD
    if args.tx_payload is not None:
        try:
            payload = bytes.fromhex(args.tx_payload)
        except ValueError:
            raise CLIUsageError(f"--tx-payload is not hex: {args.tx_payload!r}") from None
        if len(payload) > 255:
            raise CLIUsageError("--tx-payload is longer than 255 bytes")
    return TxSettings(args.tx_frequency, args.tx_power, args.tx_sf, payload=payload)


def _reference(args: argparse.Namespace) -> Trace | None:
    if args.compare is None:
        return None
    try:
        return Trace.load(args.compare)
    except (OSError, ValueError) as exc:
        raise CLIUsageError(f"cannot read reference trace {args.compare}: {exc}") from None


def _emulate(args: argparse.Namespace) -> int:
    config, bus_kind, addresses = _emulation_config(args)
    firmware = _firmware(args)
    tx = _tx_settings(args)
    reference = _reference(args)
    try:
        report = run_emulation(
            config, bus_kind=bus_kind, temperature_addresses=addresses, firmware=firmware, tx=tx
        )
    except Sx1302Error as exc:
        raise CLIUsageError(f"emulation failed: {exc}") from None
    if args.trace is not None:
        try:
            write_trace(report.trace, args.trace)
        except OSError as exc:
            raise CLIUsageError(f"cannot write {args.trace}: {exc.strerror or exc}") from None
    comparison = compare(reference, Trace.parse(report.trace)) if reference is not None else None
    result = _emulation_result(report, bus_kind)
    if comparison is not None:
        result["reference_writes"] = comparison.reference_writes
        result["reproduced_writes"] = comparison.reproduced_writes
        result["equivalent"] = comparison.equivalent
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_emulation(result, report.skipped)
        if args.trace is not None:
            print(f"trace: {len(report.trace)} SPI frames written to {args.trace}")
        if comparison is not None:
            print(comparison.report())
    return 0 if comparison is None or comparison.equivalent else 1


def _emulation_result(report: EmulationReport, bus_kind: str) -> dict[str, Any]:
    identity = report.identity
    return {
        "bus": bus_kind,
        "chip": identity.model,
        "version": f"0x{identity.version:02X}",
        "eui": str(identity.eui),
        "uplinks": [
            {
                "frequency": u.tx_info.frequency,
                "modulation": str(getattr(u.tx_info.modulation, "datr", "FSK")),
                "rssi": u.rx_info.rssi,
                "snr": u.rx_info.snr,
                "payload": u.phy_payload.hex(),
            }
            for u in report.uplinks
        ],
        "transmissions": [
            {"frequency": t.frequency_hz, "payload": t.payload.hex(), "trigger": t.trigger}
            for t in report.transmissions
        ],
        "skipped": report.skipped,
        "trace_lines": len(report.trace),
    }


def _print_emulation(result: dict[str, Any], skipped: list[str]) -> None:
    print(
        f"started: {result['chip']} version {result['version']}, EUI {result['eui']} "
        f"({result['bus']})"
    )
    for uplink in result["uplinks"]:
        print(
            f"received: {uplink['frequency']} Hz {uplink['modulation']} "
            f"RSSI {uplink['rssi']} dBm SNR {uplink['snr']} dB"
        )
    for sent in result["transmissions"]:
        print(
            f"transmitted: {sent['frequency']} Hz, {len(sent['payload']) // 2} bytes "
            f"({sent['trigger']})"
        )
    for reason in skipped:
        print(f"skipped {reason}")
