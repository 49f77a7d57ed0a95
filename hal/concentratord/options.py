"""The backend's options (``[[backends]] kind = "concentratord"``), validated into one value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from hal.backend import BackendConfigError


class WireProtocol(StrEnum):
    """How Concentratord frames its ZeroMQ messages."""

    AUTO = "auto"  # find out at start (see docs/concentratord.md)
    SINGLE_FRAME = "single-frame"  # 4.5.0 and later: one gw.Event / gw.Command protobuf
    MULTI_FRAME = "multi-frame"  # before 4.5.0: [type, protobuf] multipart messages


@dataclass(frozen=True, slots=True)
class ConcentratordOptions:
    event_url: str = "ipc:///tmp/concentratord_event"
    command_url: str = "ipc:///tmp/concentratord_command"
    protocol: WireProtocol = WireProtocol.AUTO
    command_timeout_s: float = 1.0  # per command; a downlink without reply is INTERNAL_ERROR
    # How long start() keeps asking for the gateway ID, so the appliance may start a little
    # before Concentratord does (both are systemd services).
    start_timeout_s: float = 10.0
    max_queue: int = 10_000  # events waiting for the consumer; more are dropped and counted

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> ConcentratordOptions:
        """Validate configuration input; errors name the option (``BackendConfigError``)."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise BackendConfigError(
                f"concentratord: unknown option(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        values: dict[str, Any] = {}
        for name in ("event_url", "command_url"):
            if name in options:
                values[name] = _url(name, options[name])
        if "protocol" in options:
            values["protocol"] = _protocol(options["protocol"])
        for name in ("command_timeout_s", "start_timeout_s"):
            if name in options:
                values[name] = _positive_seconds(name, options[name])
        if "max_queue" in options:
            value = options["max_queue"]
            if type(value) is not int or value < 1:
                raise BackendConfigError("concentratord: max_queue must be a positive integer")
            values["max_queue"] = value
        return cls(**values)


def _url(name: str, value: object) -> str:
    if not isinstance(value, str) or "://" not in value:
        raise BackendConfigError(
            f"concentratord: {name} must be a ZeroMQ endpoint like 'ipc:///tmp/concentratord_"
            f"{name.removesuffix('_url')}', got {value!r}"
        )
    return value


def _protocol(value: object) -> WireProtocol:
    for protocol in WireProtocol:
        if value == protocol.value:
            return protocol
    choices = ", ".join(repr(protocol.value) for protocol in WireProtocol)
    raise BackendConfigError(f"concentratord: protocol must be one of {choices}, got {value!r}")


def _positive_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BackendConfigError(f"concentratord: {name} must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise BackendConfigError(f"concentratord: {name} must be a positive number of seconds")
    return float(value)
