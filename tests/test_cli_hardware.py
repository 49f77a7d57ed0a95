"""``appliance hardware detect|emulate`` as a user runs them: a USB emulation, a detection and a
usage error run the real command in a subprocess; the other cases call the same entry point
in-process (``in_process``: exit code, stdout and stderr, without a second of start-up each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hal.sx1302.clock import ManualClock
from hal.sx1302.emulator import EmulatedSx1302, Trace, compare
from hal.sx1302.emulator.usb_bridge import UsbBridgeEmulator
from tests.cli_helpers import (
    appliance,
    appliance_json,
    assert_usage_error,
    in_process,
    in_process_json,
)
from tests.hal.sx1302.helpers import DATA, REFERENCE


@pytest.mark.parametrize(
    ("conf", "reference", "extra"),
    [
        ("global_conf_rx_eu868.json", "lgw_start_rx_eu868.trace", []),
        (
            "global_conf_send_eu868.json",
            "lgw_start_send_eu868.trace",
            ["--tx-frequency", "868100000"],
        ),
    ],
)
def test_emulate_reproduces_the_reference_traces(
    tmp_path: Path, conf: str, reference: str, extra: list[str]
) -> None:
    trace = tmp_path / "out.trace"
    result = in_process(
        "hardware",
        "emulate",
        "--global-conf",
        str(DATA / conf),
        "--trace",
        str(trace),
        "--compare",
        str(REFERENCE / reference),
        *extra,
    )
    assert result.returncode == 0, result.stderr
    assert "reference register writes reproduced" in result.stdout
    assert "(100.0%)" in result.stdout
    comparison = compare(Trace.load(REFERENCE / reference), Trace.load(trace))
    assert comparison.share == 1.0 and comparison.equivalent


def test_emulate_a_profile_as_json() -> None:
    report = in_process_json(
        "hardware",
        "emulate",
        "--profile",
        "rak2287",
        "--region",
        "US915",
        "--sub-band",
        "2",
        "--json",
    )
    assert report["chip"] == "SX1302" and report["bus"] == "spi"
    (uplink,) = report["uplinks"]
    assert uplink["frequency"] == 903_900_000 and uplink["modulation"] == "SF7BW125"
    (sent,) = report["transmissions"]
    assert abs(sent["frequency"] - 903_900_000) < 200
    assert report["skipped"] == []


def test_emulate_a_usb_board_through_a_pseudo_terminal() -> None:
    report = appliance_json(
        "hardware", "emulate", "--profile", "semtech-sx1302css868gw1", "--region", "EU868", "--json"
    )
    assert report["bus"] == "usb"
    assert len(report["uplinks"]) == 1 and len(report["transmissions"]) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--profile", "rak2287"], "--profile needs --region"),
        (["--profile", "nope", "--region", "EU868"], "unknown board profile 'nope'"),
        (["--profile", "rak2287", "--region", "XX1"], "unknown region"),
        (["--profile", "dragino-pg1302", "--region", "KR920"], "no settings for KR920"),
        (["--global-conf", "/nonexistent.json"], "does not exist"),
        (
            ["--profile", "rak2287", "--region", "EU868", "--tx-payload", "zz"],
            "--tx-payload is not hex",
        ),
        (["--profile", "rak2287", "--region", "EU868", "--agc-firmware", "/x"], "give both"),
        (["--profile", "rak2287", "--region", "EU868", "--tx-power", "5"], "no TX gain row"),
    ],
)
def test_emulate_usage_errors(args: list[str], fragment: str) -> None:
    assert_usage_error(in_process("hardware", "emulate", *args), fragment)


def test_emulate_bad_global_conf(tmp_path: Path) -> None:
    path = tmp_path / "global_conf.json"
    path.write_text(
        '{"SX130x_conf": {"radio_0": {"enable": true, "type": "SX1257", "freq": 867500000}}}'
    )
    assert_usage_error(
        appliance("hardware", "emulate", "--global-conf", str(path)), "not supported"
    )


def test_detect_finds_a_usb_concentrator() -> None:
    chip = EmulatedSx1302(ManualClock(), model_id=0x03, eui=bytes.fromhex("00800000a0001234"))
    with UsbBridgeEmulator(chip) as bridge:
        result = appliance("hardware", "detect", "--device", bridge.path)
        listing = in_process_json("hardware", "detect", "--device", bridge.path, "--json")
    assert result.returncode == 0, result.stderr
    assert f"{bridge.path}: SX1303 version 0x10, EUI 00800000a0001234" in result.stdout
    assert "rak5146-usb" in result.stdout
    (found,) = listing
    assert found["found"] and found["chip"] == "SX1303" and found["bus"] == "usb"


def test_detect_reports_devices_without_a_concentrator(tmp_path: Path) -> None:
    result = in_process("hardware", "detect", "--device", "/dev/spidev9.9")
    assert result.returncode == 1
    assert "/dev/spidev9.9: no concentrator" in result.stdout


def test_detect_from_a_configuration(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(
        '[[backends]]\nkind = "sx1302"\nprofile = "rak2287"\nregion = "EU868"\n'
        'device = "/dev/spidev7.0"\n'
    )
    result = in_process("hardware", "detect", "--config", str(config), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)[0]["device"] == "/dev/spidev7.0"
    config.write_text('[[backends]]\nkind = "sx1302"\nprofile = "rak2287"\n')
    assert_usage_error(in_process("hardware", "detect", "--config", str(config)), "needs 'region'")
