"""``appliance run`` under a notify socket: READY=1 once everything is up, watchdog pings,
STOPPING=1 on SIGTERM (what systemd's Type=notify unit relies on)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.cli_helpers import ROOT


def test_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(60)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}
    command = [
        sys.executable, "-m", "appliance", "run", "--data-dir", str(tmp_path / "d"),
        "--udp-bind", "127.0.0.1:0", "--basic-station-bind", "", "--api-bind", "127.0.0.1:0",
    ]  # fmt: skip
    with subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL) as process:
        try:
            received: list[str] = []
            while not any("READY=1" in m for m in received):
                received.append(listener.recv(4096).decode())
            assert (tmp_path / "d" / "api.url").exists()  # the API listens before READY=1
            watchdog_pings = 0
            deadline = time.monotonic() + 30
            while watchdog_pings < 2 and time.monotonic() < deadline:
                if "WATCHDOG=1" in listener.recv(4096).decode():
                    watchdog_pings += 1
            assert watchdog_pings == 2
            process.send_signal(signal.SIGTERM)
            while not any("STOPPING=1" in m for m in received):
                received.append(listener.recv(4096).decode())
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
            listener.close()
