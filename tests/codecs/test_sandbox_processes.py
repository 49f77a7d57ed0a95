"""The sandbox processes: a worker that dies or hangs costs one call and is replaced, a script
that keeps killing workers is refused for a while, and nothing waits without bound."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from appliance.codecs import CodecError, CodecRunner, CodecSpec, JSSandbox

from .conftest import RECV_TIME

GOOD = "function decodeUplink(i) { return { data: { ok: true } }; }"
# Busy for a while, within its limit: long enough for a test to kill the worker under it.
SLOW = (
    "function decodeUplink(i) { var end = Date.now() + 400; while (Date.now() < end) {} "
    "return { data: {} }; }"
)
PAYLOAD: dict[str, Any] = {"bytes": [1], "fPort": 1, "recvTime": 0, "variables": {}}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_soon(sandbox: JSSandbox, sig: signal.Signals, delay: float = 0.15) -> threading.Timer:
    (pid,) = sandbox.worker_pids()
    timer = threading.Timer(delay, os.kill, (pid, sig))
    timer.start()
    return timer


def test_a_worker_killed_mid_call_costs_that_call_only() -> None:
    with JSSandbox(workers=1, time_limit=2.0) as sandbox:
        sandbox.start()
        (first,) = sandbox.worker_pids()
        timer = _kill_soon(sandbox, signal.SIGKILL)
        with pytest.raises(CodecError) as caught:
            sandbox.call("decode_uplink", SLOW, PAYLOAD)
        timer.join()
        assert caught.value.kind == "worker"
        assert str(caught.value) == (
            "the codec sandbox died (killed by SIGKILL) while running the script; it was restarted"
        )
        assert sandbox.call("decode_uplink", GOOD, PAYLOAD)["data"] == {"ok": True}
        (second,) = sandbox.worker_pids()
        assert second != first and not _alive(first)
        assert sandbox.restarts == 1


def test_a_hung_worker_is_killed_after_the_grace_period_and_replaced() -> None:
    with JSSandbox(workers=1, time_limit=0.1, grace=0.5) as sandbox:
        sandbox.start()
        (stopped,) = sandbox.worker_pids()
        os.kill(stopped, signal.SIGSTOP)  # as good as an engine stuck in native code
        with pytest.raises(CodecError) as caught:
            sandbox.call("decode_uplink", GOOD, PAYLOAD)
        assert caught.value.kind == "timeout"
        assert "the sandbox did not answer; it was restarted" in str(caught.value)
        assert not _alive(stopped)
        assert sandbox.call("decode_uplink", GOOD, PAYLOAD)["data"] == {"ok": True}


def test_a_script_that_keeps_killing_workers_is_refused_for_a_while() -> None:
    now = [1000.0]
    with JSSandbox(workers=1, time_limit=2.0, quarantine_s=60, clock=lambda: now[0]) as sandbox:
        for _ in range(3):
            sandbox.start()
            timer = _kill_soon(sandbox, signal.SIGKILL, delay=0.05)
            with pytest.raises(CodecError, match="died"):
                sandbox.call("decode_uplink", SLOW, PAYLOAD)
            timer.join()
        with pytest.raises(CodecError, match="refused for 60 s") as caught:
            sandbox.call("decode_uplink", SLOW, PAYLOAD)
        assert caught.value.kind == "worker"
        assert sandbox.call("decode_uplink", GOOD, PAYLOAD)["data"] == {"ok": True}  # others run
        now[0] += 61
        assert sandbox.call("decode_uplink", SLOW, PAYLOAD)["data"] == {}


def test_a_worker_without_its_engine_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module that shadows the engine, as a broken install would leave things.
    (tmp_path / "_quickjs.py").write_text("raise ImportError('no QuickJS here')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with JSSandbox(workers=1, startup_timeout=10) as sandbox:
        with pytest.raises(CodecError) as caught:
            sandbox.call("decode_uplink", GOOD, PAYLOAD)
        assert caught.value.kind == "worker"
        assert str(caught.value) == (
            "the codec sandbox did not start: the JavaScript engine is missing: no QuickJS here"
        )


async def test_calls_beyond_the_waiting_limit_are_refused_at_once() -> None:
    with JSSandbox(workers=1, time_limit=2.0) as sandbox:
        async with CodecRunner(sandbox=sandbox, max_pending=2) as runner:
            spec = CodecSpec("js", SLOW)

            async def decode() -> Any:
                return await runner.decode_uplink(spec, f_port=1, data=b"", recv_time=RECV_TIME)

            outcomes = await asyncio.gather(*(decode() for _ in range(4)), return_exceptions=True)
            refused = [o for o in outcomes if isinstance(o, CodecError)]
            assert len(refused) == 2
            assert all(e.kind == "busy" and "already waiting" in str(e) for e in refused)


async def test_a_closed_runner_refuses_calls_and_ends_its_workers() -> None:
    runner = CodecRunner(workers=2)
    await runner.start()
    pids = runner.sandbox.worker_pids()
    assert len(pids) == 2
    await runner.close()
    assert not any(_alive(pid) for pid in pids)
    with pytest.raises(CodecError) as caught:
        await runner.decode_uplink(CodecSpec("js", GOOD), f_port=1, data=b"", recv_time=RECV_TIME)
    assert caught.value.kind == "closed"
    await runner.close()  # twice is harmless


def test_a_sandbox_dropped_without_close_still_ends_its_workers() -> None:
    sandbox = JSSandbox(workers=1)
    sandbox.start()
    (pid,) = sandbox.worker_pids()
    del sandbox
    gc.collect()
    assert not _alive(pid)


def test_a_worker_evicts_scripts_beyond_its_cache_and_loads_them_again() -> None:
    scripts = [GOOD.replace("true", str(n)) for n in range(5)]
    with JSSandbox(workers=1, max_scripts=2) as sandbox:
        for _ in range(2):
            for n, script in enumerate(scripts):
                assert sandbox.call("decode_uplink", script, PAYLOAD)["data"] == {"ok": n}


def test_limits_are_checked_when_the_sandbox_is_made() -> None:
    with pytest.raises(ValueError, match="time_limit"):
        JSSandbox(time_limit=0)
    with pytest.raises(ValueError, match="memory_limit"):
        JSSandbox(memory_limit=1024)
    with pytest.raises(ValueError, match="at least one worker"):
        JSSandbox(workers=0)


def test_closing_during_a_call_ends_that_call_cleanly() -> None:
    sandbox = JSSandbox(workers=1, time_limit=2.0)
    sandbox.start()
    (pid,) = sandbox.worker_pids()
    timer = threading.Timer(0.15, sandbox.close)
    timer.start()
    with pytest.raises(CodecError) as caught:
        sandbox.call("decode_uplink", SLOW, PAYLOAD)
    timer.join()
    assert caught.value.kind == "closed"
    assert not _alive(pid)


def test_a_request_too_large_to_send_is_refused_and_the_worker_kept() -> None:
    with JSSandbox(workers=1) as sandbox:
        sandbox.start()
        (pid,) = sandbox.worker_pids()
        huge = GOOD + "\n//" + "x" * (17 * 1024 * 1024)
        with pytest.raises(CodecError, match="the call cannot be sent") as caught:
            sandbox.call("decode_uplink", huge, PAYLOAD)
        assert caught.value.kind == "payload"
        assert sandbox.worker_pids() == [pid]
        assert sandbox.call("decode_uplink", GOOD, PAYLOAD)["data"] == {"ok": True}
