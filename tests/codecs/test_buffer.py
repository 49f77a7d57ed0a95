"""The sandbox's Node-style ``Buffer``, checked against Python's own struct and codecs."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest

from appliance.codecs import CodecError, CodecRunner, CodecSpec

from .conftest import RECV_TIME

BYTES = bytes([0x01, 0xFF, 0x80, 0x00, 0x41, 0x42, 0xC3, 0xA9, 0x7F, 0x10, 0x20, 0x30])


async def _evaluate(runner: CodecRunner, expression: str, data: bytes = BYTES) -> Any:
    script = (
        "function decodeUplink(input) { var b = Buffer.from(input.bytes); "
        f"return {{ data: {{ value: ({expression}) }} }}; }}"
    )
    result = await runner.decode_uplink(
        CodecSpec("js", script), f_port=1, data=data, recv_time=RECV_TIME
    )
    assert result is not None
    return result.object["value"]


def _unpack(fmt: str, offset: int) -> Any:
    return struct.unpack_from(fmt, BYTES, offset)[0]


READS: list[tuple[str, Any]] = [
    ("b.readUInt8(1)", _unpack("B", 1)),
    ("b.readUint8(1)", _unpack("B", 1)),
    ("b.readInt8(1)", _unpack("b", 1)),
    ("b.readUInt16BE(1)", _unpack(">H", 1)),
    ("b.readUInt16LE(1)", _unpack("<H", 1)),
    ("b.readInt16BE(1)", _unpack(">h", 1)),
    ("b.readInt16LE(1)", _unpack("<h", 1)),
    ("b.readUInt32BE(0)", _unpack(">I", 0)),
    ("b.readUInt32LE(0)", _unpack("<I", 0)),
    ("b.readInt32BE(1)", _unpack(">i", 1)),
    ("b.readInt32LE(1)", _unpack("<i", 1)),
    ("b.readFloatBE(4)", _unpack(">f", 4)),
    ("b.readFloatLE(4)", _unpack("<f", 4)),
    ("b.readDoubleBE(4)", _unpack(">d", 4)),
    ("b.readDoubleLE(4)", _unpack("<d", 4)),
    ("String(b.readBigUInt64BE(0))", str(_unpack(">Q", 0))),
    ("String(b.readBigInt64LE(1))", str(_unpack("<q", 1))),
    ("b.readUIntBE(1, 3)", int.from_bytes(BYTES[1:4], "big")),
    ("b.readUIntLE(1, 3)", int.from_bytes(BYTES[1:4], "little")),
    ("b.readIntBE(1, 3)", int.from_bytes(BYTES[1:4], "big", signed=True)),
    ("b.readIntLE(0, 6)", int.from_bytes(BYTES[0:6], "little", signed=True)),
    ("b.toString('hex')", BYTES.hex()),
    ("b.toString('hex', 2, 5)", BYTES[2:5].hex()),
    ("b.toString('base64')", base64.b64encode(BYTES).decode()),
    ("b.toString('base64url')", base64.urlsafe_b64encode(BYTES).decode().rstrip("=")),
    ("b.toString('utf8', 4, 8)", BYTES[4:8].decode()),
    ("b.toString('utf8')", BYTES.decode("utf-8", "replace")),
    ("b.toString('latin1', 4, 8)", BYTES[4:8].decode("latin-1")),
    ("b.toString('ascii', 6, 8)", "".join(chr(c & 0x7F) for c in BYTES[6:8])),
    ("b.length", len(BYTES)),
    ("b.slice(1, 3).readUInt16BE(0)", _unpack(">H", 1)),
    ("b.subarray(4).toString('hex')", BYTES[4:].hex()),
    ("Buffer.isBuffer(b) && b instanceof Uint8Array", True),
    ("Buffer.isBuffer([1])", False),
    ("Buffer.from('01ff80', 'hex').readUInt8(1)", 255),
    ("Buffer.from('0g12', 'hex').length", 0),  # Node stops at the first pair that is not hex
    ("Array.from(Buffer.from('AQID', 'base64'))", [1, 2, 3]),
    ("Array.from(Buffer.from('_-8', 'base64url'))", [0xFF, 0xEF]),
    ("Array.from(Buffer.from('é€😀', 'utf8'))", list("é€😀".encode())),
    ("Buffer.from('é€😀').toString()", "é€😀"),
    ("Buffer.byteLength('é€')", len("é€".encode())),
    ("Buffer.concat([Buffer.from([1]), Buffer.from([2, 3])]).toString('hex')", "010203"),
    ("Buffer.alloc(3, 7).toString('hex')", "070707"),
    ("new Buffer([9, 8]).toString('hex')", "0908"),
    ("Buffer([9, 8]).toString('hex')", "0908"),
    ("Buffer.from([1, 2]).equals(Buffer.from([1, 2]))", True),
    ("Buffer.compare(Buffer.from([1]), Buffer.from([2]))", -1),
    ("b.toJSON().data.length", len(BYTES)),
    (
        "(function () { var w = Buffer.alloc(8); w.writeUInt16BE(0xBEEF, 0); "
        "w.writeInt16LE(-2, 2); w.writeFloatLE(1.5, 4); return w.toString('hex'); })()",
        (struct.pack(">H", 0xBEEF) + struct.pack("<h", -2) + struct.pack("<f", 1.5)).hex(),
    ),
    (
        "(function () { var w = Buffer.alloc(4); "
        "return [w.write('hi', 1), w.toString('hex')]; })()",
        [2, "00686900"],
    ),
]


@pytest.mark.parametrize(("expression", "expected"), READS, ids=[e for e, _ in READS])
async def test_buffer_behaves_as_in_node(
    runner: CodecRunner, expression: str, expected: Any
) -> None:
    assert await _evaluate(runner, expression) == expected


async def test_a_buffer_returned_as_data_comes_out_as_a_list_of_numbers(
    runner: CodecRunner,
) -> None:
    assert await _evaluate(runner, "b.subarray(0, 3)") == list(BYTES[:3])


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("b.readUInt32BE(10)", 'RangeError: The value of "offset" is out of range'),
        ("b.readUInt8(-1)", 'RangeError: The value of "offset" is out of range'),
        ("b.readUIntBE(0, 7)", 'RangeError: The value of "byteLength" is out of range'),
        ("Buffer.alloc(2).writeUInt8(300, 0)", 'RangeError: The value of "value" is out of range'),
        ("b.toString('klingon')", "TypeError: Unknown encoding: klingon"),
        ("Buffer.alloc(1e9)", "RangeError: The buffer size must be an integer"),
    ],
)
async def test_misuse_throws_as_node_does(
    runner: CodecRunner, expression: str, message: str
) -> None:
    with pytest.raises(CodecError) as caught:
        await _evaluate(runner, expression)
    assert message in str(caught.value), json.dumps(str(caught.value))
