"""A real ``appliance run`` process on loopback, for tests that talk to its API."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.cli_helpers import ROOT

_API_LINE = re.compile(r"API on (https?://\S+)")


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    data_dir: Path
    url: str
    token: str
    seen: list[str] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


class LineReader:
    """A child's stderr, line by line with a timeout (no read-ahead hiding lines)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        self._fd = process.stderr.fileno()
        self._buffer = b""
        self.seen: list[str] = []

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\n", 1)
                line = raw.decode(errors="replace")
                self.seen.append(line)
                found = pattern.search(line)
                if found:
                    return found
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(remaining, 0))
            assert ready, f"no {pattern.pattern!r} within {timeout}s; saw: {self.seen[-5:]}"
            chunk = os.read(self._fd, 65536)
            assert chunk, f"process ended before {pattern.pattern!r}; saw: {self.seen[-8:]}"
            self._buffer += chunk


@contextmanager
def running_appliance(data_dir: Path, *args: str) -> Iterator[Running]:
    command = [
        sys.executable,
        "-m",
        "appliance",
        "run",
        "--data-dir",
        str(data_dir),
        "--udp-bind",
        "127.0.0.1:0",
        "--basic-station-bind",
        "",
        "--api-bind",
        "127.0.0.1:0",
        *args,
    ]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        try:
            reader = LineReader(process)
            url = reader.wait_for(_API_LINE).group(1)
            token = (data_dir / "admin.key").read_text().strip()
            yield Running(process, data_dir, url, token, reader.seen)
        finally:
            if process.poll() is not None:
                # It ended on its own: show why in the failing test's output.
                assert process.stderr is not None
                rest = process.stderr.read().decode(errors="replace")
                print(f"appliance ended early with {process.returncode}:\n{rest[-3000:]}")
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
