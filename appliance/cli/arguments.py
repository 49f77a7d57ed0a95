"""Argument types and the parser class shared by the commands."""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from typing import NoReturn

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, AESKey


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (and exit code 2, as argparse's)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def aes_key(text: str) -> AESKey:
    try:
        return AESKey(text)
    except InvalidValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def eui64(text: str) -> EUI64:
    try:
        return EUI64(text)
    except InvalidValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def bounded_int(low: int, high: int) -> argparse._ActionType:
    """An int in ``low..high``, accepting decimal or 0x-prefixed hex."""

    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}..{high}, got {value}")
        return value

    return parse


def frame_bytes(text: str, *, force_base64: bool = False) -> bytes:
    """Hex (spaces and colons allowed) or, when it is not hex, base64 as gateways send it."""
    cleaned = "".join(text.split()).replace(":", "")
    if not force_base64:
        if cleaned.lower().startswith("0x"):
            cleaned = cleaned[2:]
        try:
            return bytes.fromhex(cleaned)
        except ValueError:
            pass
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        what = "base64" if force_base64 else "hex or base64"
        raise ValueError(f"not {what}: {text!r}") from None
