"""The exceptions of the codec layer, in one place.

    CodecError        decoding or encoding one payload failed (a ``log`` event, never a crash)
    RepositoryError   a path given to a device-repository import is not such a repository

A ``CodecError`` always carries a one-line message fit for a ``log`` event, and a ``kind`` that
says what went wrong without parsing the message:

    payload   the bytes or object handed to the codec do not fit it (bad Cayenne LPP, bad fPort)
    script    the script does not load, lacks the function, throws, or returns ``errors``
    output    the script returned something that is not the documented shape or not JSON data
    timeout   the script ran past its time limit
    memory    the script ran past its memory limit
    worker    the sandbox process died or hung and was replaced
    busy      too many codec calls are waiting; this one was refused at once
    closed    the runner was closed
"""

from __future__ import annotations

from typing import Literal

CodecErrorKind = Literal[
    "payload", "script", "output", "timeout", "memory", "worker", "busy", "closed"
]

_MAX_MESSAGE = 300


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """``text`` on one line, whitespace collapsed, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class CodecError(Exception):
    """Decoding or encoding a payload failed; ``str(error)`` is one line."""

    def __init__(self, message: str, *, kind: CodecErrorKind = "script") -> None:
        self.message = one_line(message)
        self.kind: CodecErrorKind = kind
        super().__init__(self.message)


class RepositoryError(Exception):
    """The directory is not a device repository of the expected layout (one line)."""
