"""Payload codecs fed what devices and applications can send: any bytes on any FPort into the
device-repository codecs and Cayenne LPP, any JSON object into their encoders, through the
real runner and sandbox processes. Every call gives a result or a one-line ``CodecError``,
the sandbox keeps working, and its worker processes do not grow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.codecs import CodecError, CodecRunner, CodecSpec, DecodeResult, JSSandbox
from tests.codecs.conftest import DATA, RECV_TIME

SCRIPTS = sorted(DATA.rglob("*.js"))
GOOD = CodecSpec("js", "function decodeUplink(i) { return { data: { n: i.bytes.length } }; }")

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[JSSandbox]:
    with JSSandbox(workers=1) as shared:
        yield shared


def _spec(path: Path | None) -> CodecSpec:
    return CodecSpec("cayenne_lpp") if path is None else CodecSpec("js", path.read_text())


def _one_line(error: CodecError) -> None:
    assert "\n" not in str(error) and len(str(error)) <= 300, str(error)


async def _decode(runner: CodecRunner, spec: CodecSpec, f_port: int, data: bytes) -> None:
    try:
        result = await runner.decode_uplink(spec, f_port=f_port, data=data, recv_time=RECV_TIME)
    except CodecError as error:
        _one_line(error)
    else:
        assert isinstance(result, DecodeResult)
        json.dumps(result.object)  # what goes into an event must be JSON


async def _encode(runner: CodecRunner, spec: CodecSpec, f_port: int, obj: Any) -> None:
    try:
        result = await runner.encode_downlink(spec, f_port=f_port, obj=obj)
    except CodecError as error:
        _one_line(error)
    else:
        assert 1 <= (result.f_port or f_port) <= 223
        assert isinstance(result.data, bytes)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    script=st.sampled_from([None, *SCRIPTS]),
    f_port=st.integers(1, 255),
    data=st.binary(max_size=64),
    obj=_json,
)
def test_any_payload_or_object_gives_a_result_or_one_codec_error(
    sandbox: JSSandbox, script: Path | None, f_port: int, data: bytes, obj: Any
) -> None:
    spec = _spec(script)

    async def body() -> None:
        async with CodecRunner(sandbox=sandbox) as runner:
            await _decode(runner, spec, f_port, data)
            if isinstance(obj, dict):
                await _encode(runner, spec, min(f_port, 223), obj)
            # The sandbox carries on after whatever happened.
            assert await runner.decode_uplink(
                GOOD, f_port=1, data=b"\x01", recv_time=RECV_TIME
            ) == DecodeResult({"n": 1})

    asyncio.run(body())


def _worker_rss_kib(sandbox: JSSandbox) -> int:
    total = 0
    for pid in sandbox.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


@pytest.mark.slow
def test_worker_memory_stays_bounded_over_many_random_payloads(sandbox: JSSandbox) -> None:
    import random  # noqa: PLC0415

    rng = random.Random(3)
    specs = [_spec(path) for path in SCRIPTS]

    async def feed(count: int) -> None:
        async with CodecRunner(sandbox=sandbox) as runner:
            for _ in range(count):
                data = rng.randbytes(rng.randrange(0, 64))
                await _decode(runner, rng.choice(specs), rng.randrange(1, 256), data)

    asyncio.run(feed(500))
    before = _worker_rss_kib(sandbox)
    asyncio.run(feed(3_000))
    after = _worker_rss_kib(sandbox)
    assert after - before < 8 * 1024, (before, after)
