"""Frames between the codec runner and its sandbox processes: a 4-byte big-endian length, then
that many bytes of UTF-8 JSON. One request, one response, in turn."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

MAX_FRAME = 16 * 1024 * 1024
HEADER = 4


class WireError(Exception):
    """The other side sent something that is not a frame, or went away."""


def script_hash(script: str) -> str:
    """The key a script's loaded runtime is cached under, on both sides of the pipe."""
    return hashlib.sha256(script.encode("utf-8", "surrogatepass")).hexdigest()


def pack(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    if len(body) > MAX_FRAME:
        raise WireError(f"a frame of {len(body)} bytes is over the {MAX_FRAME}-byte limit")
    return len(body).to_bytes(HEADER, "big") + body


def pack_result_json(json_text: str) -> bytes:
    """``{"result": <json_text>}`` framed, without decoding and encoding the result again."""
    body = b'{"result":' + json_text.encode() + b"}"
    if len(body) > MAX_FRAME:
        raise WireError(f"a frame of {len(body)} bytes is over the {MAX_FRAME}-byte limit")
    return len(body).to_bytes(HEADER, "big") + body


def body_length(header: bytes) -> int:
    length = int.from_bytes(header, "big")
    if length > MAX_FRAME:
        raise WireError(f"a frame of {length} bytes is over the {MAX_FRAME}-byte limit")
    return length


def unpack(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"a frame is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise WireError("a frame is not a JSON object")
    return message


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from a blocking ``fd``, or ``None`` at end of file."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def read_frame(fd: int) -> dict[str, Any] | None:
    """The next message from a blocking ``fd``, or ``None`` at end of file."""
    header = read_exactly(fd, HEADER)
    if header is None:
        return None
    body = read_exactly(fd, body_length(header))
    return None if body is None else unpack(body)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
