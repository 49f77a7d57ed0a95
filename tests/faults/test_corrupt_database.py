"""A damaged database at start: ``appliance run`` refuses it with one line naming the file and
exit code 2, and leaves the file exactly as it was (nothing recreated over it). A damaged
record inside a sound file costs that device only, loudly, and is not replaced either."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.system.fleet import FleetSpec, dev_eui, provision
from tests.cli_helpers import appliance, assert_usage_error
from tests.faults.rig import Rig

PAGE = 512  # appliance.db's page size (a new database is created with it)


def _random_bytes(path: Path) -> None:
    path.write_bytes(hashlib.sha512(b"not a database").digest() * 64)


def _damaged_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // PAGE // 2 * PAGE
    data[middle : middle + PAGE] = b"\xa5" * PAGE
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _start(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return appliance(
        "run",
        "--data-dir",
        str(data_dir),
        "--udp-bind",
        "127.0.0.1:0",
        "--basic-station-bind",
        "",
        "--api-bind",
        "127.0.0.1:0",
        timeout=60,
    )


@pytest.mark.parametrize(
    ("file", "damage", "message"),
    [
        ("appliance.db", _random_bytes, "not a usable database (file is not a database)"),
        ("appliance.db", _damaged_page, "not a usable database (damaged:"),
        ("appliance.db", _truncated, "not a usable database"),
        ("events.db", _random_bytes, "cannot use event log"),
    ],
    ids=["random-bytes", "damaged-page", "truncated", "event-log"],
)
def test_damaged_file_is_refused_and_left_alone(
    tmp_path: Path, file: str, damage: Callable[[Path], None], message: str
) -> None:
    data_dir = tmp_path / "data"
    provision(data_dir, FleetSpec(300))
    if file == "events.db":
        (data_dir / file).write_bytes(b"")
    damage(data_dir / file)
    before = _sha256(data_dir / file)
    result = _start(data_dir)
    assert_usage_error(result, message)
    assert str(data_dir / file) in result.stderr
    assert _sha256(data_dir / file) == before


@pytest.mark.slow
def test_damaged_session_record_costs_that_device_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    provision(data_dir, FleetSpec(5, gateways=1))
    with sqlite3.connect(data_dir / "appliance.db") as db:
        (sealed,) = db.execute(
            "SELECT session FROM sessions WHERE dev_eui = ?", (str(dev_eui(0)),)
        ).fetchone()
        damaged = bytearray(sealed)
        damaged[40] ^= 0xFF  # inside the encrypted session: SQLite cannot see it
        db.execute(
            "UPDATE sessions SET session = ? WHERE dev_eui = ?", (bytes(damaged), str(dev_eui(0)))
        )
    rig = Rig(data_dir, 5, gateways=1, fresh=False)
    try:
        running = rig.start()
        rig.send(10, 100, confirmed_share=0.0)  # two frames from each device
        assert rig.wait(lambda: rig.uplinks() >= 8, 10)
        rig.wait(lambda: False, 0.5)
        assert rig.uplinks() == 8  # the damaged device's two frames were not accepted
        running.stop()
        log = running.log_text()
        assert f"session:{dev_eui(0)}" in log and "damaged" in log
        assert "Traceback" not in log  # one line per refused uplink
        with sqlite3.connect(data_dir / "appliance.db") as db:
            (kept,) = db.execute(
                "SELECT session FROM sessions WHERE dev_eui = ?", (str(dev_eui(0)),)
            ).fetchone()
        assert kept == bytes(damaged)  # refused, not replaced by a fresh session
    finally:
        rig.close()
