"""The benchmark's handle on the event sink process (``bench.system.sink``)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

from bench.system.processes import ROOT, StartError


class Receiver:
    """Counts ``up`` events as they arrive; ``dump()`` returns them all, timestamped."""

    def __init__(self, kind: str, args: list[str], out: Path) -> None:
        self.kind = kind
        self.out = out
        self.count = 0
        self._buffer = b""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.system.sink", kind, *args, str(out)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        line = self._line(20)
        if line != "ready":
            self.close()
            raise StartError(f"{kind} event sink: {line or 'no answer'}")

    @classmethod
    def mqtt(cls, port: int, out: Path) -> Receiver:
        return cls("mqtt", ["127.0.0.1", str(port)], out)

    @classmethod
    def sse(cls, url: str, token: str, out: Path) -> Receiver:
        return cls("sse", [url, token], out)

    def _line(self, timeout_s: float) -> str | None:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            remaining = max(deadline - time.monotonic(), 0.0)  # 0: only what is there now
            if not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\n", 1)
        return raw.decode().strip()

    def update(self) -> int:
        """Read the progress lines that arrived; the number of events received so far."""
        while True:
            line = self._line(0)
            if line is None:
                return self.count
            if line.startswith("count "):
                self.count = int(line.split()[1])

    def dump(self) -> list[tuple[int, str, int]]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"dump\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self._line(max(deadline - time.monotonic(), 0))
            if line is not None and line.startswith("dumped "):
                break
        else:
            raise StartError("the event sink did not write its records")
        records = []
        for line in self.out.read_text().splitlines():
            stamp, dev_eui, f_cnt = line.split()
            records.append((int(stamp), dev_eui, int(f_cnt)))
        return records

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
