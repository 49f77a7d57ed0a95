"""``appliance run`` as a real process: starts, claims its data directory, stops on SIGTERM."""

from __future__ import annotations

import os
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT, appliance, assert_usage_error

LOOPBACK = (
    "--udp-bind",
    "127.0.0.1:0",
    "--basic-station-bind",
    "127.0.0.1:0",
    "--api-bind",
    "127.0.0.1:0",
)


class _Lines:
    """Reads a child's stderr line by line with a timeout, without Python's read-ahead
    buffering hiding lines from select()."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        self._fd = process.stderr.fileno()
        self._buffer = b""
        self.seen: list[str] = []

    def wait_for(self, fragment: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\n", 1)
                line = raw.decode(errors="replace")
                self.seen.append(line)
                if fragment in line:
                    return line
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(remaining, 0))
            assert ready, f"no {fragment!r} within {timeout}s; saw: {self.seen[-5:]}"
            chunk = os.read(self._fd, 65536)
            assert chunk, f"process ended before {fragment!r}; saw: {self.seen[-5:]}"
            self._buffer += chunk


@contextmanager
def _start(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], _Lines]]:
    with subprocess.Popen(
        [sys.executable, "-m", "appliance", "run", *LOOPBACK, *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        try:
            yield process, _Lines(process)
        finally:
            process.kill()
            process.wait()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_runs_until_signalled(tmp_path: Path, stop_signal: signal.Signals) -> None:
    data_dir = tmp_path / "state"
    with _start("--data-dir", str(data_dir), "--region", "us915") as (process, lines):
        line = lines.wait_for("started")
        assert "region US915" in line
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        process.send_signal(stop_signal)
        assert process.wait(timeout=30) == 0


def test_uses_systemd_state_directory_by_default(tmp_path: Path) -> None:
    env = {**os.environ, "STATE_DIRECTORY": str(tmp_path / "svc")}
    with _start(env=env) as (process, lines):
        line = lines.wait_for("started")
        assert str(tmp_path / "svc") in line
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_config_file_is_read_and_overridden_by_options(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(f'region = "AU915"\ndata_dir = "{tmp_path / "from-file"}"\n')
    with _start("--config", str(config), "--region", "as923-2") as (process, lines):
        line = lines.wait_for("started")
        assert "region AS923-2" in line
        assert str(tmp_path / "from-file") in line
        process.terminate()
        assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('regoin = "EU868"\n', "unknown key 'regoin'"),
        ('region = "XX999"\n', "region:"),
        ("region = 5\n", "region must be a string"),
        ("region = \n", "not valid TOML"),
        ('log_level = "loud"\n', "log_level"),
        ("max_application_backlog = 8\n", "max_application_backlog: must be 16..1000000, got 8"),
        ('check_database = "yes"\n', "check_database must be true or false, got str"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path: Path, content: str, fragment: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    result = appliance("run", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert_usage_error(result, fragment)


def test_missing_config_and_unusable_data_dir(tmp_path: Path) -> None:
    assert_usage_error(appliance("run", "--config", str(tmp_path / "none.toml")), "cannot read")
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = appliance("run", "--data-dir", str(blocker / "sub"))
    assert_usage_error(result, "cannot use data directory")


def test_simulated_devices_join_and_send(tmp_path: Path) -> None:
    # The newcomer's first run: simulated devices on the virtual radio show traffic at once.
    args = ("--simulate", "2", "--data-dir", str(tmp_path / "sim"))
    with _start(*args) as (process, lines):
        assert "virtual radio" in lines.wait_for("started")
        assert "join dev_eui=fffe" in lines.wait_for("join dev_eui", timeout=60)
        uplink = lines.wait_for("uplink dev_eui", timeout=60)
        assert "f_port=1" in uplink
        process.terminate()
        assert process.wait(timeout=30) == 0
    assert (tmp_path / "sim" / "appliance.db").exists()


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket  # noqa: PLC0415

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = appliance(
            "run",
            "--data-dir",
            str(tmp_path / "d"),
            "--udp-bind",
            f"127.0.0.1:{port}",
            "--basic-station-bind",
            "",
        )
    assert_usage_error(result, "")


def test_backends_named_by_kind_in_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(
        'basic_station_bind = ""\n[[backends]]\nkind = "virtual"\ngateway_id = "0102030405060708"\n'
    )
    with _start("--config", str(config), "--data-dir", str(tmp_path / "d")) as (process, lines):
        assert "virtual radio" in lines.wait_for("started")
        # The gateway connects while the backends start, before or after the summary line.
        if not any("gateway 0102030405060708 connected" in line for line in lines.seen):
            assert "gateway 0102030405060708 connected" in lines.wait_for("connected")
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_an_unknown_backend_kind_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text('[[backends]]\nkind = "carrier-pigeon"\n')
    result = appliance("run", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert_usage_error(result, "backends[0].kind: expected one of basic-station, concentratord")
