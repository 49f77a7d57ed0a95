"""``appliance simulate`` as a real process against ``appliance run`` as another, on loopback:
simulated devices are provisioned into the appliance's data directory, join through
simulated Semtech UDP gateways and exchange uplinks and downlinks with it."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from appliance.cli.main import main
from appliance.lorawan.regions import REGION_NAMES
from appliance.ns.sqlite_store import SQLiteStore
from appliance.simulation.udp_fleet import FleetOptions, plan_fleet
from hal.virtual_radio.backend import EU868_EXTRA_FREQUENCIES
from tests.cli_helpers import ROOT, appliance, assert_usage_error, in_process
from tests.test_cli_run import _Lines


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def _appliance(data_dir: Path, port: int) -> Iterator[_Lines]:
    command = [
        sys.executable,
        "-m",
        "appliance",
        "run",
        "--data-dir",
        str(data_dir),
        "--udp-bind",
        f"127.0.0.1:{port}",
        "--basic-station-bind",
        "",
        "--api-bind",
        "127.0.0.1:0",
        "--log-level",
        "info",
    ]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        try:
            lines = _Lines(process)
            lines.wait_for("started")
            yield lines
            process.send_signal(signal.SIGTERM)
            lines.wait_for("appliance stopped")
        finally:
            process.kill()
            process.wait()


def _simulate(data_dir: Path, port: int, *args: str) -> list[str]:
    result = appliance(
        "simulate", "--data-dir", str(data_dir), "--udp", f"127.0.0.1:{port}", *args, timeout=90
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout.strip().splitlines()


def _counts(line: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r"(\w+) (\d+)", line)}


def test_a_fleet_joins_and_talks_with_a_running_appliance(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    port = _free_udp_port()
    with _appliance(data_dir, port) as log:
        lines = _simulate(
            data_dir,
            port,
            # Short: a join takes 5 s (JOIN_ACCEPT_DELAY1) after a power-on within the first
            # interval, and each device sends every 2 s from then on.
            *("--devices", "3", "--gateways", "2", "--mac-version", "1.0.4"),
            *("--interval", "2", "--duration", "11", "--confirmed-share", "0.34"),
        )
        assert lines[0].startswith("provisioned 3 LoRaWAN 1.0.4 devices")
        reports = [line for line in lines if line.startswith("[")]
        assert len(reports) == 5  # at 2, 4, 6, 8 and 10 s
        assert lines[-1].startswith("done after 11 s: joined 3/3"), lines[-1]
        counts = _counts(lines[-1])
        assert counts["joins"] >= 3
        assert counts["uplinks"] >= 3
        assert counts["downlinks"] >= 1  # ADR and status requests at least
        # A second run provisions its device afresh: a 1.0.4 device counting its DevNonces
        # from 0 again is not refused as a replay.
        again = _simulate(
            data_dir,
            port,
            "--devices",
            "1",
            "--mac-version",
            "1.0.4",
            "--interval",
            "1",
            "--duration",
            "8",
        )
        assert "joined 1/1" in again[-1], again
    # The appliance's own log (read to its end when it stopped) tells the same story.
    joins = [line.split("dev_eui=")[1].split()[0] for line in log.seen if " join " in line]
    assert sorted(set(joins)) == ["fffe000100000001", "fffe000100000002", "fffe000100000003"]
    assert joins.count("fffe000100000001") >= 2  # once in each run
    assert any("uplink dev_eui=fffe0001" in line for line in log.seen)
    assert any("gateway fffe000200000002 connected" in line for line in log.seen)
    assert not [line for line in log.seen if "dev_nonce" in line]
    assert "Traceback" not in "\n".join(log.seen)


def test_without_an_appliance_listening_it_says_so(tmp_path: Path) -> None:
    asyncio.run(_create_database(tmp_path))
    result = appliance(
        "simulate",
        "--data-dir",
        str(tmp_path),
        "--udp",
        f"127.0.0.1:{_free_udp_port()}",
        "--devices",
        "1",
        "--interval",
        "1",
        "--duration",
        "2",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no answer from 127.0.0.1:" in result.stderr
    assert "no answer from the network server yet" in result.stdout


async def _create_database(data_dir: Path) -> None:
    store = SQLiteStore.open(data_dir)
    await store.aclose()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--devices", "0"), "must be positive"),
        (("--devices", "ten"), "not a number"),
        (("--gateways", "101"), "gateways must be 1..100"),
        (("--udp", "localhost"), "expected HOST:PORT"),
        (("--udp", "127.0.0.1:70000"), "expected HOST:PORT"),
        (("--region", "XX999"), "--region"),
        (("--confirmed-share", "1.5"), "confirmed share must be 0..1"),
        (("--interval", "0.5"), "interval must be 1..86400"),
        (("--mac-version", "2.0"), "invalid choice"),
        (("--duration", "-1"), "must be positive"),
        (("--region", "CN470-20A"), "does not model CN470-20A"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], fragment: str
) -> None:
    # In-process (the command's code, not a copy): one subprocess per case costs seconds.
    try:
        code = main(["simulate", "--data-dir", str(tmp_path), *args])
    except SystemExit as exit_:  # argparse's own errors
        code = int(str(exit_.code))
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], captured.err
    assert "Traceback" not in captured.err


def test_a_data_directory_without_an_appliance_is_refused(tmp_path: Path) -> None:
    result = in_process("simulate", "--data-dir", str(tmp_path / "nothing"), "--duration", "1")
    assert_usage_error(result, "no appliance database")


@pytest.mark.parametrize("region", [name for name in REGION_NAMES if not name.startswith("CN470")])
def test_every_other_region_gets_a_fleet_on_the_appliances_channels(region: str) -> None:
    options = FleetOptions(
        devices=4,
        gateways=3,
        region=region,
        sub_band=2,
        extra_frequencies=EU868_EXTRA_FREQUENCIES if region == "EU868" else (),
    )
    plan = plan_fleet(options, now_ns=0, unix_ns_at_zero=0)
    assert len(plan.specs) == len(plan.devices) == 4
    assert len({c.config.gateway_id for c in plan.concentrators}) == 3
    heard = {c.frequency for c in plan.concentrators[0].config.channels}
    for simulated in plan.devices:  # the first join-request goes where the gateways listen
        wake = simulated.device.next_wakeup_ns()
        assert wake is not None
        join = simulated.device.next_transmission(wake)
        assert join is not None and join.frequency in heard
