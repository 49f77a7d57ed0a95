"""JavaScript codecs of every supported shape, through the real runner and sandbox processes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from appliance.codecs import CodecError, CodecRunner, CodecSpec, DecodeResult, EncodeResult

from .conftest import RECV_TIME

CHIRPSTACK_V4 = """
function decodeUplink(input) {
  return {
    data: {
      fPort: input.fPort,
      bytes: input.bytes,
      hex: Buffer.from(input.bytes).toString("hex"),
      recvTime: input.recvTime.toISOString(),
      isDate: input.recvTime instanceof Date,
      variables: input.variables,
    },
    warnings: input.bytes.length > 2 ? ["long payload"] : [],
  };
}

function encodeDownlink(input) {
  if (input.data.fail) {
    return { errors: ["cannot do that", "nor this"] };
  }
  return { bytes: [input.data.level, input.variables.code | 0], fPort: 12, warnings: ["w"] };
}
"""

CHIRPSTACK_V3 = """
function Decode(fPort, bytes, variables) {
  return { port: fPort, first: bytes[0], site: variables.site };
}
function Encode(fPort, obj, variables) {
  return [fPort, obj.on ? 1 : 0];
}
"""

TTN_V2 = """
function Decoder(bytes, port) {
  return { port: port, sum: bytes.reduce(function (a, b) { return a + b; }, 0) };
}
function Encoder(object, port) {
  return [object.value & 0xff, port];
}
"""


async def _decode(runner: CodecRunner, script: str, data: bytes = b"\x01\x02", **kw: Any) -> Any:
    return await runner.decode_uplink(
        CodecSpec("js", script), f_port=kw.pop("f_port", 7), data=data, recv_time=RECV_TIME, **kw
    )


async def test_chirpstack_v4_decode_gets_bytes_port_time_and_variables(
    runner: CodecRunner,
) -> None:
    result = await _decode(runner, CHIRPSTACK_V4, b"\x0a\x0b\x0c", variables={"site": "north"})
    assert result == DecodeResult(
        {
            "fPort": 7,
            "bytes": [10, 11, 12],
            "hex": "0a0b0c",
            "recvTime": "2026-11-21T12:30:00.000Z",
            "isDate": True,
            "variables": {"site": "north"},
        },
        ["long payload"],
    )


async def test_chirpstack_v4_encode_returns_bytes_port_and_warnings(runner: CodecRunner) -> None:
    result = await runner.encode_downlink(
        CodecSpec("js", CHIRPSTACK_V4), f_port=None, obj={"level": 3}, variables={"code": "9"}
    )
    assert result == EncodeResult(b"\x03\x09", 12, ["w"])


async def test_errors_returned_by_the_script_become_one_codec_error(runner: CodecRunner) -> None:
    with pytest.raises(CodecError) as caught:
        await runner.encode_downlink(CodecSpec("js", CHIRPSTACK_V4), f_port=1, obj={"fail": 1})
    assert str(caught.value) == "encodeDownlink returned errors: cannot do that, nor this"
    assert caught.value.kind == "script"


async def test_chirpstack_v3_decode_and_encode(runner: CodecRunner) -> None:
    decoded = await _decode(runner, CHIRPSTACK_V3, b"\x05", variables={"site": "x"})
    assert decoded == DecodeResult({"port": 7, "first": 5, "site": "x"})
    encoded = await runner.encode_downlink(CodecSpec("js", CHIRPSTACK_V3), f_port=4, obj={"on": 1})
    assert encoded == EncodeResult(b"\x04\x01", None)


async def test_ttn_v2_decoder_and_encoder(runner: CodecRunner) -> None:
    decoded = await _decode(runner, TTN_V2, b"\x01\x02\x03")
    assert decoded == DecodeResult({"port": 7, "sum": 6})
    encoded = await runner.encode_downlink(CodecSpec("js", TTN_V2), f_port=9, obj={"value": 258})
    assert encoded == EncodeResult(b"\x02\x09", None)


async def test_functions_declared_with_const_are_found(runner: CodecRunner) -> None:
    script = "const decodeUplink = (input) => ({ data: { n: input.bytes.length } });"
    assert await _decode(runner, script) == DecodeResult({"n": 2})


async def test_decode_downlink_is_the_things_stacks_downlink_decoder(runner: CodecRunner) -> None:
    script = "function decodeDownlink(input) { return { data: { cmd: input.bytes[0] } }; }"
    result = await runner.decode_downlink(CodecSpec("js", script), f_port=3, data=b"\x09")
    assert result == DecodeResult({"cmd": 9})


async def test_results_are_made_json_data(runner: CodecRunner) -> None:
    script = """
    function decodeUplink(input) {
      return { data: {
        when: new Date(Date.UTC(2026, 10, 21)),
        typed: new Uint16Array([1, 65535]),
        gone: undefined,
        holes: [undefined, 1],
        nested: { list: [{ a: null }], t: true },
        big: 12345678901234,
        small: -0.125,
      } };
    }"""
    result = await _decode(runner, script)
    assert result is not None
    assert result.object == {
        "when": "2026-11-21T00:00:00.000Z",
        "typed": [1, 65535],
        "holes": [None, 1],
        "nested": {"list": [{"a": None}], "t": True},
        "big": 12345678901234,
        "small": -0.125,
    }


async def test_encoded_bytes_may_be_a_buffer_and_negative_bytes_wrap(runner: CodecRunner) -> None:
    script = "function encodeDownlink(i) { return { bytes: [-1, 255, 0] }; }"
    assert (await runner.encode_downlink(CodecSpec("js", script), f_port=1, obj={})).data == (
        b"\xff\xff\x00"
    )
    buffer_script = "function encodeDownlink(i) { return { bytes: Buffer.from('0a0b', 'hex') }; }"
    result = await runner.encode_downlink(CodecSpec("js", buffer_script), f_port=1, obj={})
    assert result.data == b"\x0a\x0b"


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("{ bytes: [256] }", "bytes[0] is 256, not a byte"),
        ("{ bytes: [1.5] }", "bytes[0] is 1.5, not a byte"),
        ("{ bytes: ['1'] }", "bytes[0] is 1, not a byte"),
        ("{ bytes: 'abc' }", "encodeDownlink returned a string as bytes, not a list"),
        ("{}", "encodeDownlink returned no bytes"),
        ("{ bytes: [], fPort: 0 }", "encodeDownlink returned fPort 0, not 1..223"),
        ("{ bytes: [], fPort: 224 }", "encodeDownlink returned fPort 224, not 1..223"),
        ("{ bytes: new Array(256).fill(0) }", "returned 256 bytes; at most 255 fit a frame"),
        ("[1, 2]", "encodeDownlink returned an array, not an object"),
    ],
)
async def test_encoders_returning_the_wrong_shape_fail(
    runner: CodecRunner, returned: str, message: str
) -> None:
    script = f"function encodeDownlink(input) {{ return {returned}; }}"
    with pytest.raises(CodecError) as caught:
        await runner.encode_downlink(CodecSpec("js", script), f_port=1, obj={})
    assert message in str(caught.value)
    assert caught.value.kind == "output"


async def test_runtime_none_decodes_to_nothing_and_cannot_encode(runner: CodecRunner) -> None:
    assert (
        await runner.decode_uplink(CodecSpec("none"), f_port=1, data=b"\x01", recv_time=RECV_TIME)
        is None
    )
    with pytest.raises(CodecError, match="no payload codec") as caught:
        await runner.encode_downlink(CodecSpec("none"), f_port=1, obj={"a": 1})
    assert caught.value.kind == "payload"


async def test_cayenne_lpp_through_the_runner(runner: CodecRunner) -> None:
    spec = CodecSpec("cayenne_lpp")
    decoded = await runner.decode_uplink(
        spec, f_port=1, data=b"\x03\x67\x01\x10", recv_time=RECV_TIME
    )
    assert decoded == DecodeResult({"temperatureSensor": {"3": 27.2}})
    encoded = await runner.encode_downlink(spec, f_port=2, obj={"digitalOutput": {"1": 1}})
    assert encoded == EncodeResult(b"\x01\x01\x01")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"f_port": 256}, "fPort 256 is not 0..255"),
        ({"f_port": True}, "fPort True is not 0..255"),
        ({"variables": {"a": 1}}, "variable 'a' must map a string to a string"),
    ],
)
async def test_bad_arguments_are_payload_errors(
    runner: CodecRunner, call: dict[str, Any], message: str
) -> None:
    with pytest.raises(CodecError) as caught:
        await _decode(runner, CHIRPSTACK_V4, **call)
    assert message in str(caught.value)
    assert caught.value.kind == "payload"


async def test_a_downlink_object_must_be_json_data(runner: CodecRunner) -> None:
    with pytest.raises(CodecError, match=r"object.x is nan") as caught:
        await runner.encode_downlink(CodecSpec("js", TTN_V2), f_port=1, obj={"x": float("nan")})
    assert caught.value.kind == "payload"


def test_specs_are_checked_when_made() -> None:
    with pytest.raises(CodecError, match="unknown codec runtime 'lua'"):
        CodecSpec("lua")  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="needs a script"):
        CodecSpec("js", "  ")


async def test_many_concurrent_calls_all_get_their_own_answer(runner: CodecRunner) -> None:
    script = (
        "function decodeUplink(i) { return { data: { echo: i.bytes[0] * 256 + i.bytes[1] } }; }"
    )
    results = await asyncio.gather(
        *(_decode(runner, script, bytes([n >> 8, n & 0xFF])) for n in range(200))
    )
    assert [r.object["echo"] for r in results] == list(range(200))


async def test_each_worker_loads_a_script_once_and_reuses_it(runner: CodecRunner) -> None:
    script = """
    var loads = (globalThis.loads || 0) + 1;
    globalThis.loads = loads;
    function decodeUplink(i) { return { data: { loads: loads } }; }
    """
    results = [await _decode(runner, script) for _ in range(20)]
    assert {r.object["loads"] for r in results} == {1}
