"""Runs JavaScript codec scripts in separate sandbox processes (``appliance.codecs.worker``).

Why processes, not threads: QuickJS stops a looping script by itself (its interrupt handler)
and caps its heap, but a bug in the engine or a native call that never returns would take the
whole appliance with it in a thread. In a process it costs one restart: the runner kills a
worker that does not answer in time and starts a fresh one, and a crash is a ``CodecError``.
The price is a pipe round trip per call (tens of microseconds), small next to the 2 ms budget.

``JSSandbox.call`` blocks and is thread-safe; ``CodecRunner`` calls it from a thread pool so the
event loop never waits on a script.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.codecs.errors import CodecError, CodecErrorKind
from appliance.codecs.wire import HEADER, WireError, body_length, pack, script_hash, unpack

MIB = 1024 * 1024
DEFAULT_TIME_LIMIT = 0.1
DEFAULT_MEMORY_LIMIT = 16 * MIB
# A worker that has not answered this long after a call's own limits is hung: QuickJS stops a
# looping script at the time limit (CPU time), so only a stuck engine or a starved machine
# gets here.
DEFAULT_GRACE = 2.0
STRIKES_BEFORE_QUARANTINE = 3
_KINDS: frozenset[str] = frozenset(
    ("payload", "script", "output", "timeout", "memory", "worker", "busy", "closed")
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


class _WorkerGoneError(Exception):
    """The worker did not answer in time or died; it has been killed."""

    def __init__(self, reason: str, *, hung: bool) -> None:
        super().__init__(reason)
        self.reason, self.hung = reason, hung


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class WorkerProcess:
    """One sandbox process and the scripts it has loaded, as far as this side knows."""

    def __init__(self, *, max_scripts: int, startup_timeout: float) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appliance.codecs.worker", str(max_scripts)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
            start_new_session=True,  # a Ctrl-C meant for the appliance does not hit the workers
            bufsize=0,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        os.set_blocking(self._in, False)
        self.scripts: set[str] = set()
        try:
            hello = self.receive(time.monotonic() + startup_timeout)
        except _WorkerGoneError as gone:
            raise CodecError(
                f"the codec sandbox did not start: {gone.reason}", kind="worker"
            ) from None
        if not hello.get("ready"):
            self.kill()
            raise CodecError(
                f"the codec sandbox did not start: {hello.get('error')}", kind="worker"
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exchange(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        self.send(pack(message), deadline)
        return self.receive(deadline)

    def send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(self._in, deadline, writable=True)
            try:
                view = view[os.write(self._in, view) :]
            except BlockingIOError:
                continue
            except OSError:
                raise self._gone(hung=False) from None

    def receive(self, deadline: float) -> dict[str, Any]:
        header = self._read(HEADER, deadline)
        try:
            return unpack(self._read(body_length(header), deadline))
        except WireError as exc:
            self.kill()
            raise _WorkerGoneError(f"sent garbage ({exc})", hung=False) from None

    def _read(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            self._wait(self._out, deadline, writable=False)
            chunk = os.read(self._out, size - len(data))
            if not chunk:
                raise self._gone(hung=False)
            data += chunk
        return bytes(data)

    def _wait(self, fd: int, deadline: float, *, writable: bool) -> None:
        # poll, not select: the appliance may hold more than 1024 descriptors.
        poller = select.poll()
        poller.register(fd, select.POLLOUT if writable else select.POLLIN)
        remaining = deadline - time.monotonic()
        if remaining > 0 and poller.poll(remaining * 1000):
            return  # ready, or the other end closed: the read or write that follows says which
        raise self._gone(hung=True)

    def _gone(self, *, hung: bool) -> _WorkerGoneError:
        self.kill()
        if hung:
            return _WorkerGoneError("did not answer in time", hung=True)
        return _WorkerGoneError(f"died ({_exit_reason(self.process.returncode)})", hung=False)

    def signal_kill(self) -> None:
        """SIGKILL without waiting or touching the pipes (safe from another thread)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()  # Popen polls first, under its own lock

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close_pipes()

    def close(self, timeout: float = 2.0) -> None:
        """End the worker: it exits when its stdin closes; killed if it does not."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


class JSSandbox:
    """A pool of sandbox processes running codec scripts under a time and memory limit."""

    def __init__(
        self,
        *,
        workers: int = 2,
        time_limit: float = DEFAULT_TIME_LIMIT,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        max_scripts: int = 64,
        grace: float = DEFAULT_GRACE,
        startup_timeout: float = 30.0,
        quarantine_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if workers < 1:
            raise ValueError("a sandbox needs at least one worker")
        if not 0.001 <= time_limit <= 60:
            raise ValueError(f"time_limit must be 0.001..60 s, got {time_limit}")
        if not MIB <= memory_limit <= 1024 * MIB:
            raise ValueError(f"memory_limit must be 1 MiB..1 GiB, got {memory_limit}")
        self.workers = workers
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.max_scripts = max_scripts
        self.grace = grace
        self.startup_timeout = startup_timeout
        self.quarantine_s = quarantine_s
        self._clock = clock
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._strikes: dict[str, int] = {}
        self._quarantined: dict[str, float] = {}
        self._closed = False
        self.restarts = 0  # workers replaced after a hang or a crash
        # A sandbox dropped without close() still ends its processes.
        weakref.finalize(self, _kill_all, self._idle, self._busy)

    # --- public -------------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker now rather than on first use (a worker takes ~0.1 s to start)."""
        with self._lock:
            missing = self.workers - len(self._idle) - len(self._busy)
        started = [self._take() for _ in range(missing)]
        for worker in started:
            self._give_back(worker, healthy=True)

    def call(self, op: str, script: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run ``op`` of ``script`` on ``payload``; the harness's result or a ``CodecError``."""
        key = script_hash(script)
        self._refuse_quarantined(key)
        with self._slots:
            worker = self._take()
            healthy = False
            try:
                response = self._call_on(worker, op, key, script, payload)
                healthy = True
            except WireError as exc:  # refused before anything was sent
                healthy = True
                raise CodecError(f"the call cannot be sent: {exc}", kind="payload") from None
            except _WorkerGoneError as gone:
                if self._is_closed():
                    raise CodecError("the codec runner is closed", kind="closed") from None
                self._strike(key)
                self.restarts += 1
                if gone.hung:
                    raise CodecError(
                        f"timed out after {self.time_limit * 1000:g} ms and the sandbox did not "
                        "answer; it was restarted",
                        kind="timeout",
                    ) from None
                raise CodecError(
                    f"the codec sandbox {gone.reason} while running the script; it was restarted",
                    kind="worker",
                ) from None
            finally:
                self._give_back(worker, healthy=healthy)
        self._strikes.pop(key, None)
        result = _result(response)
        if not isinstance(result, dict):
            raise CodecError("the sandbox answered with no result object", kind="output")
        return result

    def evaluate(self, source: str) -> Any:
        """A JavaScript literal (e.g. a ChirpStack test-vector file) as JSON data."""
        with self._slots:
            worker = self._take()
            healthy = False
            try:
                request = {
                    "op": "evaluate",
                    "source": source,
                    "time_limit": max(self.time_limit, 1.0),
                    "memory_limit": self.memory_limit,
                }
                response = worker.exchange(request, self._deadline(max(self.time_limit, 1.0)))
                healthy = True
            except _WorkerGoneError as gone:
                self.restarts += 1
                raise CodecError(f"the codec sandbox {gone.reason}", kind="worker") from None
            finally:
                self._give_back(worker, healthy=healthy)
        return _result(response)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in (*self._idle, *self._busy)]

    def close(self) -> None:
        """End the workers; a call still running ends with ``CodecError(kind="closed")``."""
        with self._lock:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            busy = list(self._busy)
        for worker in idle:
            worker.close()
        for worker in busy:
            # Its pipes belong to the thread running the call, which sees the end of file.
            worker.signal_kill()

    def __enter__(self) -> JSSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------

    def _deadline(self, run_time: float) -> float:
        return time.monotonic() + run_time + self.grace

    def _call_on(
        self, worker: WorkerProcess, op: str, key: str, script: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "op": op,
            "hash": key,
            "input": payload,
            "time_limit": self.time_limit,
            "memory_limit": self.memory_limit,
        }
        if key in worker.scripts:
            response = worker.exchange(request, self._deadline(self.time_limit))
            if not response.get("need_script"):
                return response
            worker.scripts.discard(key)
        request["script"] = script
        load_time = max(4 * self.time_limit, 0.5)
        response = worker.exchange(request, self._deadline(load_time + self.time_limit))
        if "result" in response:
            if len(worker.scripts) >= 4 * self.max_scripts:
                worker.scripts.clear()  # the worker evicts too; a miss only costs a resend
            worker.scripts.add(key)
        return response

    def _take(self) -> WorkerProcess:
        with self._lock:
            if self._closed:
                raise CodecError("the codec runner is closed", kind="closed")
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            try:
                worker = WorkerProcess(
                    max_scripts=self.max_scripts, startup_timeout=self.startup_timeout
                )
            except OSError as exc:
                raise CodecError(f"the codec sandbox did not start: {exc}", kind="worker") from None
        with self._lock:
            self._busy.add(worker)
        if self._is_closed():  # closed while this worker was starting
            self._give_back(worker, healthy=False)
            raise CodecError("the codec runner is closed", kind="closed")
        return worker

    def _is_closed(self) -> bool:
        with self._lock:
            return self._closed

    def _give_back(self, worker: WorkerProcess, *, healthy: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = (
                healthy
                and not self._closed
                and worker.process.poll() is None
                and len(self._idle) + len(self._busy) < self.workers
            )
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.kill()

    def _strike(self, key: str) -> None:
        strikes = self._strikes.get(key, 0) + 1
        self._strikes[key] = strikes
        if strikes >= STRIKES_BEFORE_QUARANTINE:
            self._quarantined[key] = self._clock() + self.quarantine_s

    def _refuse_quarantined(self, key: str) -> None:
        until = self._quarantined.get(key)
        if until is None:
            return
        if self._clock() < until:
            raise CodecError(
                f"this script hung or crashed the sandbox {STRIKES_BEFORE_QUARANTINE} times in a "
                f"row; it is refused for {self.quarantine_s:g} s",
                kind="worker",
            )
        del self._quarantined[key]
        self._strikes[key] = STRIKES_BEFORE_QUARANTINE - 1  # one more failure refuses it again


def _kill_all(idle: list[WorkerProcess], busy: set[WorkerProcess]) -> None:
    for worker in [*idle, *busy]:
        worker.kill()


def _result(response: dict[str, Any]) -> Any:
    if "result" in response:
        return response["result"]
    kind = str(response.get("kind", "script"))
    checked: CodecErrorKind = kind if kind in _KINDS else "script"  # type: ignore[assignment]
    raise CodecError(str(response.get("error", "the sandbox gave no answer")), kind=checked)
