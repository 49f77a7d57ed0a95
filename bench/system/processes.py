"""The processes of the whole-system benchmark: ``appliance run`` (optionally under strace),
a Mosquitto broker, the event sink; and what ``/proc`` says about the appliance.

Start-up is timed from just before the process is created to (a) the first PULL_ACK answering
a probe PULL_DATA (the radio side accepts datagrams) and (b) the API's address written to
``<data dir>/api.url`` (the API is the last part to start). CPU time, written bytes and
resident memory are read from ``/proc`` for the appliance and its child processes (the
payload-codec worker); fsyncs are counted by strace with a seccomp filter, so only
``fsync``/``fdatasync`` stop the process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import tomli_w

from appliance.lorawan.identifiers import EUI64
from bench.system.fleet import GATEWAY_BASE, PROTOCOL_VERSION
from hal.semtech_udp.packets import PacketType, PullData

ROOT: Final = Path(__file__).resolve().parents[2]
API_URL_FILE: Final = "api.url"  # as appliance.runtime writes it
_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
_PAGE: Final = os.sysconf("SC_PAGE_SIZE")
PROBE_GATEWAY: Final = EUI64(GATEWAY_BASE - 1)


class StartError(Exception):
    """A process of the benchmark did not start; the message says what it printed."""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- /proc ------------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (those alive now)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
                todo.extend(int(child) for child in children.split())
        except OSError:
            continue
    return found


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


@dataclass(frozen=True, slots=True)
class Sample:
    at_ns: int
    cpu_s: float  # user + system, the appliance and its children
    write_bytes: int  # bytes the tree caused to be written to storage (less those cancelled)
    rss_bytes: int  # resident now, the appliance's own process
    tree_rss_bytes: int  # resident now, with its children (the payload-codec worker)
    peak_rss_bytes: int  # the appliance process's high-water mark (VmHWM)


def sample(pid: int) -> Sample:
    cpu = 0.0
    written = rss = main_rss = 0
    for member in process_tree(pid):
        try:
            fields = _stat_fields(member)
            cpu += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
            rss += int(fields[21]) * _PAGE
            if member == pid:
                main_rss = int(fields[21]) * _PAGE
            for line in Path(f"/proc/{member}/io").read_text().splitlines():
                if line.startswith("write_bytes:"):
                    written += int(line.split()[1])
                elif line.startswith("cancelled_write_bytes:"):
                    # Dirty pages truncated away before writeback (a WAL starting over)
                    # never reach the storage.
                    written -= int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return Sample(time.monotonic_ns(), cpu, written, main_rss, rss, peak_rss(pid))


def peak_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --- the appliance ----------------------------------------------------------------------------


@dataclass
class Appliance:
    """A running ``appliance run``; ``pid`` is the appliance's own (strace is its parent)."""

    process: subprocess.Popen[bytes]
    pid: int
    data_dir: Path
    log_path: Path
    udp: tuple[str, int]
    url: str = ""
    token: str = ""
    started_ns: int = 0
    answered_ns: int = 0  # first PULL_ACK
    ready_ns: int = 0  # the "API on" line
    strace_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def answer_s(self) -> float:
        return (self.answered_ns - self.started_ns) / 1e9

    @property
    def ready_s(self) -> float:
        return (self.ready_ns - self.started_ns) / 1e9

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> dict[str, float]:
        """``/metrics`` as name (with labels) -> value."""
        request = urllib.request.Request(
            self.url + "/metrics", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM and wait; SIGKILL after ``timeout_s``; the exit code of the appliance
        (under strace, strace's, which passes the appliance's on)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                return self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut of the process would end it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(30)


def write_config(data_dir: Path, settings: dict[str, Any]) -> None:
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (data_dir / "appliance.toml").write_bytes(tomli_w.dumps(settings).encode())


def start_appliance(
    data_dir: Path,
    *,
    mqtt_url: str = "",
    strace: bool = False,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout_s: float = 120,
    udp_port: int | None = None,
    log_dir: Path | None = None,
) -> Appliance:
    """Start ``appliance run`` on ``data_dir`` (its ``appliance.toml`` holds the settings) with
    Semtech UDP on loopback (``udp_port``, or a free port), and wait until it is ready. Its
    output (and strace's) goes to ``log_dir``, by default the data directory's parent."""
    log_dir = log_dir or data_dir.parent
    udp = ("127.0.0.1", udp_port or free_port(socket.SOCK_DGRAM))
    command = [
        sys.executable,
        "-m",
        "appliance",
        "run",
        "--data-dir",
        str(data_dir),
        "--udp-bind",
        f"{udp[0]}:{udp[1]}",
        "--basic-station-bind",
        "",
        "--api-bind",
        "127.0.0.1:0",
        *(("--mqtt-url", mqtt_url) if mqtt_url else ()),
        *args,
    ]
    strace_path = None
    if strace:
        strace_path = log_dir / f"{data_dir.name}.strace"
        command = [
            "strace", "-f", "--seccomp-bpf", "-e", "trace=fsync,fdatasync", "-e", "signal=none",
            "-qq", "-ttt", "-o", str(strace_path), "--", *command,
        ]  # fmt: skip
    log_path = log_dir / f"{data_dir.name}.log"
    (data_dir / API_URL_FILE).unlink(missing_ok=True)  # left by an appliance that was killed
    started = time.monotonic_ns()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    appliance = Appliance(process, process.pid, data_dir, log_path, udp, started_ns=started)
    appliance.strace_path = strace_path
    try:
        _wait_ready(appliance, timeout_s)
    except BaseException:
        # Under strace the appliance is strace's child: end it first, or it lives on.
        child = _traced_child(process.pid) if strace else None
        for pid in dict.fromkeys((child or appliance.pid, process.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        raise
    return appliance


def _traced_child(strace_pid: int) -> int | None:
    """The appliance strace started (strace may have short-lived helper children too)."""
    try:
        children = Path(f"/proc/{strace_pid}/task/{strace_pid}/children").read_text().split()
    except OSError:
        return None
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        # Before its exec, a child of strace still has strace's command line.
        if command.startswith(sys.executable.encode() + b"\0") and b"\0appliance\0run\0" in command:
            return int(child)
    return None


def _wait_ready(appliance: Appliance, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect(appliance.udp)
    probe.setblocking(False)
    pull = PullData(PROTOCOL_VERSION, 1, PROBE_GATEWAY).encode()
    traced = appliance.strace_path is not None
    try:
        while not (appliance.answered_ns and appliance.ready_ns):
            if appliance.process.poll() is not None:
                raise StartError(f"appliance run ended: {appliance.log_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise StartError(f"appliance not ready in {timeout_s:g} s: {appliance.log_text()}")
            if traced and appliance.pid == appliance.process.pid:
                appliance.pid = _traced_child(appliance.process.pid) or appliance.pid
            if traced and appliance.pid == appliance.process.pid and appliance.ready_ns:
                continue  # ready, but the appliance's own process not found yet
            if not appliance.answered_ns:
                _probe(appliance, probe, pull)
            if not appliance.ready_ns:
                # Written when the API, the last part, has started (the "API on" line follows,
                # at log level info only).
                url = _read(appliance.data_dir / API_URL_FILE)
                if url:
                    appliance.ready_ns = time.monotonic_ns()
                    appliance.url = url
                    appliance.token = _read(appliance.data_dir / "admin.key")
            time.sleep(0.002)
    finally:
        probe.close()


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _probe(appliance: Appliance, probe: socket.socket, pull: bytes) -> None:
    try:
        probe.send(pull)
        time.sleep(0.003)
        while True:
            data = probe.recv(100)
            if len(data) >= 4 and data[3] == PacketType.PULL_ACK:
                appliance.answered_ns = time.monotonic_ns()
                return
    except (BlockingIOError, ConnectionRefusedError):
        return


def fsyncs_between(strace_path: Path, start_unix: float, end_unix: float) -> int:
    """fsync/fdatasync calls strace saw between two wall-clock instants."""
    count = 0
    for line in strace_path.read_text(errors="replace").splitlines():
        parts = line.split(maxsplit=2)
        if (
            len(parts) == 3
            and parts[2].startswith(("fsync(", "fdatasync("))
            and start_unix <= float(parts[1]) <= end_unix
        ):
            count += 1
    return count


# --- Mosquitto ---------------------------------------------------------------------------------


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found is None and os.access("/usr/sbin/mosquitto", os.X_OK):
        found = "/usr/sbin/mosquitto"
    return found


@dataclass
class Broker:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(directory: Path) -> Broker | None:
    """A Mosquitto broker on a free loopback port, or None when Mosquitto is not installed."""
    binary = mosquitto_binary()
    if binary is None:
        return None
    port = free_port()
    config = directory / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 1000000\nlog_dest none\n"
    )
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Broker(process, port)
        except OSError:
            if process.poll() is not None:
                raise StartError(f"mosquitto exited with {process.returncode}") from None
            time.sleep(0.02)
    process.kill()
    process.wait()
    raise StartError("mosquitto did not listen within 10 s")
