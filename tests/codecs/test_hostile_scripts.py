"""Scripts that loop, hoard memory, recurse, throw or return garbage: each is one CodecError with
a one-line message, within its limits, and the next call of any script works."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from appliance.codecs import CodecError, CodecRunner, CodecSpec, DecodeResult, JSSandbox

from .conftest import RECV_TIME

GOOD = "function decodeUplink(i) { return { data: { ok: true } }; }"


async def _decode(runner: CodecRunner, script: str) -> DecodeResult | None:
    return await runner.decode_uplink(
        CodecSpec("js", script), f_port=1, data=b"\x01", recv_time=RECV_TIME
    )


async def _fails(runner: CodecRunner, script: str, kind: str) -> CodecError:
    with pytest.raises(CodecError) as caught:
        await _decode(runner, script)
    error = caught.value
    assert error.kind == kind, str(error)
    assert "\n" not in str(error) and len(str(error)) <= 300
    assert await _decode(runner, GOOD) == DecodeResult({"ok": True})  # the sandbox carries on
    return error


@pytest.mark.parametrize(
    "script",
    [
        "function decodeUplink(i) { while (true) {} }",
        "function decodeUplink(i) { for (;;) { try { while (1) {} } catch (e) {} } }",
        "function decodeUplink(i) { return /(a+)+$/.test('a'.repeat(40) + 'b') ? {} : {}; }",
        "function decodeUplink(i) { var o = { get x() { for (;;) {} } }; return { data: o }; }",
    ],
    ids=["while-true", "catching-the-interrupt", "catastrophic-regex", "looping-getter"],
)
async def test_endless_scripts_time_out_at_the_limit(runner: CodecRunner, script: str) -> None:
    start = time.monotonic()
    error = await _fails(runner, script, "timeout")
    assert str(error) == "timed out after 100 ms"
    assert time.monotonic() - start < 5.0  # CPU time is limited; wall time waits on the machine


async def test_an_endless_top_level_times_out_while_loading(runner: CodecRunner) -> None:
    error = await _fails(runner, "while (1) {}\nfunction decodeUplink(i) {}", "timeout")
    assert str(error) == "the script does not load: timed out after 500 ms"


@pytest.mark.parametrize(
    "script",
    [
        "function decodeUplink(i) { var a = []; while (1) a.push('xxxxxxxxxx' + a.length); }",
        "var hoard = []; function decodeUplink(i) { while (1) hoard.push([1, 2, 3]); }",
        "function decodeUplink(i) { return { data: { s: 'x'.repeat(1 << 28) } }; }",
        "function decodeUplink(i) { return { data: new Uint8Array(1 << 26) }; }",
        "function decodeUplink(i) { var o = {}; for (var n = 0; ; n++) o['long key ' + n] = [n]; }",
        "function decodeUplink(i) { return { data: new Array(1e9).fill(0) }; }",
    ],
    ids=["array-push", "global-hoard", "huge-string", "huge-typed-array", "object-keys", "fill"],
)
async def test_huge_allocations_stop_at_the_memory_limit(runner: CodecRunner, script: str) -> None:
    error = await _fails(runner, script, "memory")
    assert str(error).startswith("ran out of its 16 MiB memory limit")


async def test_memory_a_script_keeps_between_calls_is_dropped_when_it_runs_out(
    runner: CodecRunner,
) -> None:
    script = """
    var kept = [];
    function decodeUplink(i) {
      kept.push('x'.repeat(1 << 20));
      return { data: { n: kept.length } };
    }
    """
    counts = []
    for _ in range(40):
        try:
            result = await _decode(runner, script)
        except CodecError as error:
            assert error.kind == "memory"
            counts.append(0)
            continue
        assert result is not None
        counts.append(result.object["n"])
    # Each worker holds at most ~15 MiB for this script, then starts it again from nothing.
    assert 0 in counts
    assert max(counts) < 16
    assert counts[counts.index(0) + 1] in (1, counts[counts.index(0) - 1] + 1)


async def test_deep_recursion_is_a_stack_overflow(runner: CodecRunner) -> None:
    error = await _fails(
        runner,
        "function decodeUplink(i) { function r(n) { return r(n + 1) + 1; } return r(0); }",
        "script",
    )
    assert str(error) == "RangeError: Maximum call stack size exceeded (in r, line 1)"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "function decodeUplink(i) {\n  throw new Error('bad\\nthing');\n}",
            "Error: bad (in decodeUplink, line 2)",
        ),
        ("function decodeUplink(i) { throw 'plain'; }", 'threw "plain"'),
        ("function decodeUplink(i) { throw { code: 5 }; }", "threw [object Object]"),
        (
            "function decodeUplink(i) { return undefinedName; }",
            "ReferenceError: undefinedName is not defined",
        ),
        (
            "function decodeUplink(i) { return null.x; }",
            "TypeError: cannot read property 'x' of null",
        ),
        ("this is not javascript", "the script does not load: SyntaxError"),
        ("throw new Error('at load')", "the script does not load: Error: at load"),
        ("function other() {}", "the script defines no decodeUplink(input)"),
        (
            "function decodeUplink(i) { return { errors: ['no', 'way'] }; }",
            "decodeUplink returned errors: no, way",
        ),
    ],
)
async def test_throwing_scripts_give_one_line(
    runner: CodecRunner, script: str, message: str
) -> None:
    error = await _fails(runner, script, "script")
    assert message in str(error)


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("{ data: { f: function () {} } }", "data.f is a function, not data"),
        ("{ data: { n: NaN } }", "data.n is NaN, which is not a JSON number"),
        ("{ data: { n: [1, -Infinity] } }", "data.n[1] is -Infinity, which is not a JSON number"),
        ("{ data: { s: Symbol('x') } }", "data.s is a symbol, not JSON data"),
        ("{ data: { b: 10n } }", "data.b is a bigint, not JSON data"),
        ("{ data: { d: new Date(NaN) } }", "data.d is an invalid Date"),
        ("{ data: { s: 'x'.repeat(2 * 1024 * 1024) } }", "the result is larger than 1 MiB of text"),
        ("{ data: (function () { var o = {}; o.self = o; return o; })() }", "(a cycle?)"),
        ("{ data: { many: new Array(200000).fill(0) } }", "the result has more than 100000 values"),
        ("{ data: { s: '\\ud800' } }", "data.s holds a lone UTF-16 surrogate"),
        ("{ data: 5 }", "decodeUplink returned a number as data, not an object"),
        ("{ data: [1] }", "decodeUplink returned an array as data, not an object"),
        ("{ warnings: [] }", "decodeUplink returned no data"),
        ("{ data: {}, warnings: 'careful' }", "warnings must be a list of strings, got a string"),
        ("42", "decodeUplink returned a number, not an object"),
        ("function () {}", "decodeUplink returned a function, not an object"),
        ("undefined", "decodeUplink returned undefined, not an object"),
    ],
)
async def test_garbage_results_are_output_errors(
    runner: CodecRunner, returned: str, message: str
) -> None:
    error = await _fails(runner, f"function decodeUplink(i) {{ return {returned}; }}", "output")
    assert message in str(error)


async def test_replacing_builtins_does_not_fool_the_checks(runner: CodecRunner) -> None:
    script = """
    JSON.stringify = function () { return '{"data": {"forged": true}}'; };
    Array.isArray = function () { return false; };
    function decodeUplink(i) { return { data: { f: function () {} } }; }
    """
    error = await _fails(runner, script, "output")
    assert "data.f is a function" in str(error)


@pytest.mark.parametrize(
    "expression",
    [
        "typeof require",
        "typeof std",
        "typeof os",
        "typeof fetch",
        "typeof XMLHttpRequest",
        "typeof WebSocket",
        "typeof process",
        "typeof print",
        "typeof setTimeout",
    ],
)
async def test_there_is_no_file_network_or_process_api(
    runner: CodecRunner, expression: str
) -> None:
    script = f"function decodeUplink(i) {{ return {{ data: {{ t: {expression} }} }}; }}"
    assert await _decode(runner, script) == DecodeResult({"t": "undefined"})


async def test_dynamic_import_cannot_load_modules(runner: CodecRunner) -> None:
    script = """
    var outcome = 'pending';
    import('os').then(function () { outcome = 'loaded'; }, function () { outcome = 'refused'; });
    function decodeUplink(i) { return { data: { outcome: outcome } }; }
    """
    result = await _decode(runner, script)
    assert result is not None
    assert result.object["outcome"] in ("pending", "refused")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
async def test_memory_stays_bounded_across_many_hostile_calls() -> None:
    hoarder = "var h = []; function decodeUplink(i) { while (1) h.push('y' + h.length); }"
    churner = "function decodeUplink(i) { var a = new Array(500000).fill(1); return { data: {} }; }"
    with JSSandbox(workers=1) as sandbox:
        async with CodecRunner(sandbox=sandbox) as runner:
            await _decode(runner, GOOD)
            (pid,) = sandbox.worker_pids()
            baseline = _rss_kib(pid)
            for _ in range(30):
                with pytest.raises(CodecError):
                    await _decode(runner, hoarder)
                await _decode(runner, churner)
            assert sandbox.worker_pids() == [pid]  # the same process all along
            assert _rss_kib(pid) - baseline < 48 * 1024  # a few heaps' worth, not thirty
