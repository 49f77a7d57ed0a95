"""``appliance run`` as a real process: starts, claims its data directory, stops on SIGTERM."""

from __future__ import annotations

import os
import select
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT, appliance, assert_usage_error


@contextmanager
def _start(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen(
        [sys.executable, "-m", "appliance", "run", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        try:
            yield process
        finally:
            process.kill()
            process.wait()


def _wait_for_line(process: subprocess.Popen[str], fragment: str, timeout: float = 30) -> str:
    assert process.stderr is not None
    while True:
        ready, _, _ = select.select([process.stderr], [], [], timeout)
        assert ready, f"no {fragment!r} within {timeout}s"
        line = process.stderr.readline()
        assert line, f"process ended before {fragment!r} (exit {process.wait()})"
        if fragment in line:
            return line


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_runs_until_signalled(tmp_path: Path, stop_signal: signal.Signals) -> None:
    data_dir = tmp_path / "state"
    with _start("--data-dir", str(data_dir), "--region", "us915") as process:
        line = _wait_for_line(process, "started")
        assert "region US915" in line
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        process.send_signal(stop_signal)
        assert process.wait(timeout=30) == 0


def test_uses_systemd_state_directory_by_default(tmp_path: Path) -> None:
    env = {**os.environ, "STATE_DIRECTORY": str(tmp_path / "svc")}
    with _start(env=env) as process:
        line = _wait_for_line(process, "started")
        assert str(tmp_path / "svc") in line
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_config_file_is_read_and_overridden_by_options(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(f'region = "AU915"\ndata_dir = "{tmp_path / "from-file"}"\n')
    with _start("--config", str(config), "--region", "as923-2") as process:
        line = _wait_for_line(process, "started")
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
