"""``appliance console`` as a person starts it: the real command in a subprocess, in a real
pseudo-terminal, and ``--serve`` answering a real browser's requests on loopback."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.appliance_process import LineReader
from tests.cli_helpers import ROOT, appliance, assert_usage_error

pytestmark = pytest.mark.slow

_SERVED = re.compile(r"console served on (http://\S+)/\?token=(\S+)")


def test_the_console_is_an_appliance_command() -> None:
    result = appliance("--help")
    assert result.returncode == 0
    assert "console" in result.stdout


def test_the_appliance_loads_the_console_command_without_textual() -> None:
    code = (
        "import sys\n"
        "from appliance.cli.main import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'aiohttp')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert (
        "tui.cli"
        in subprocess.run(
            [sys.executable, "-c", code.replace("textual', 'aiohttp", "tui")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--url", "ftp://example"], "--url: expected http://HOST:PORT"),
        (["--url", "http://127.0.0.1:9", "--serve", "--serve-bind", "nowhere"], "--serve-bind"),
    ],
)
def test_bad_options_are_one_line(args: list[str], fragment: str) -> None:
    assert_usage_error(appliance("console", *args), fragment)


def _read_for(fd: int, seconds: float, until: bytes | None = None) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if until is not None and until in out:
                break
    return out


def test_in_a_terminal_it_waits_for_the_appliance_and_quits_cleanly(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance", "console", "--data-dir", str(tmp_path / "none")],
        cwd=ROOT,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        shown = _read_for(controller, 20, until=b"retrying")
        assert b"retrying" in shown, shown[-2000:]
        os.write(controller, b"\x11")  # ctrl+q
        assert process.wait(timeout=20) == 0
        shown += _read_for(controller, 1)
        assert b"Traceback" not in shown
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)


@contextmanager
def served(*args: str) -> Iterator[tuple[str, str]]:
    command = [sys.executable, "-m", "appliance", "console", "--serve", *args]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        try:
            found = LineReader(process).wait_for(_SERVED, timeout=30)
            yield found.group(1), found.group(2)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_serve_needs_its_token_and_runs_a_console_per_browser(tmp_path: Path) -> None:
    args = ("--serve-bind", "127.0.0.1:0", "--url", "http://127.0.0.1:9", "--token", "t")
    with served(*args) as (base, token):
        assert base.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base, timeout=10) as browser:
            assert browser.get("/").status_code == 401
            assert browser.get("/", params={"token": "wrong"}).status_code == 401
            page = browser.get("/", params={"token": token})
            assert page.status_code == 200
            assert "/ws" in page.text
            assert browser.cookies.get("console_token") == token
            assert browser.get("/").status_code == 200  # the cookie carries it from now on
        with httpx.Client(base_url=base, timeout=10) as stranger:
            assert stranger.get("/ws").status_code == 401
        ws_url = "ws" + base.removeprefix("http") + "/ws?width=80&height=24"
        headers = {"Cookie": f"console_token={token}"}
        async with connect(ws_url, additional_headers=headers, open_timeout=10) as socket:
            received = b""
            deadline = time.monotonic() + 60
            # The console process starts and draws: its screen arrives as terminal output.
            while b"retrying" not in received and time.monotonic() < deadline:
                message = await socket.recv()
                if isinstance(message, bytes):
                    received += message
                else:
                    envelope = json.loads(message)
                    assert isinstance(envelope, list)
            assert b"retrying" in received
