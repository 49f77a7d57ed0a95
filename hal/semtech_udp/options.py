"""The backend's options (``[[backends]] kind = "semtech-udp"``), validated into one value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendConfigError
from hal.semtech_udp.core import CoreConfig

# At least one datagram of the largest size; 1 GiB is already far beyond any use on a Pi.
_MIN_RECEIVE_BUFFER: Final = 65_536
_MAX_RECEIVE_BUFFER: Final = 1 << 30


@dataclass(frozen=True, slots=True)
class SemtechUDPOptions:
    bind: str = "0.0.0.0:1700"
    allowed_gateways: tuple[EUI64, ...] = ()  # empty: gateways register themselves
    tx_ack_timeout_s: float = 1.0
    disconnect_after_s: float = 60.0
    max_queue: int = 10_000  # events waiting for the consumer; more are dropped and counted
    max_gateways: int = 1_000
    forward_crc_errors: bool = False
    lorawan_downlink_flags: bool = True
    # SO_RCVBUF asked of the kernel: datagrams that arrive while the event loop is busy wait
    # here, and what does not fit is dropped by the kernel, uncounted. 1 MiB overflowed at
    # 3,000 uplinks/s with the loop busy; the kernel caps it at net.core.rmem_max.
    receive_buffer_bytes: int = 4 << 20

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> SemtechUDPOptions:
        """Validate configuration input; errors name the option (``BackendConfigError``)."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise BackendConfigError(
                f"semtech-udp: unknown option(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        values: dict[str, Any] = {}
        if "bind" in options:
            bind = options["bind"]
            if not isinstance(bind, str):
                raise BackendConfigError("semtech-udp: bind must be text like '0.0.0.0:1700'")
            parse_bind(bind)
            values["bind"] = bind
        if "allowed_gateways" in options:
            values["allowed_gateways"] = _euis(options["allowed_gateways"])
        for name in ("tx_ack_timeout_s", "disconnect_after_s"):
            if name in options:
                values[name] = _positive_seconds(name, options[name])
        for name in ("max_queue", "max_gateways"):
            if name in options:
                value = options[name]
                if type(value) is not int or value < 1:
                    raise BackendConfigError(f"semtech-udp: {name} must be a positive integer")
                values[name] = value
        if "receive_buffer_bytes" in options:
            value = options["receive_buffer_bytes"]
            if type(value) is not int or not _MIN_RECEIVE_BUFFER <= value <= _MAX_RECEIVE_BUFFER:
                raise BackendConfigError(
                    "semtech-udp: receive_buffer_bytes must be an integer from "
                    f"{_MIN_RECEIVE_BUFFER:,} to {_MAX_RECEIVE_BUFFER:,}"
                )
            values["receive_buffer_bytes"] = value
        for name in ("forward_crc_errors", "lorawan_downlink_flags"):
            if name in options:
                if not isinstance(options[name], bool):
                    raise BackendConfigError(f"semtech-udp: {name} must be true or false")
                values[name] = options[name]
        return cls(**values)

    def core_config(self, backend_name: str) -> CoreConfig:
        return CoreConfig(
            allowed_gateways=frozenset(self.allowed_gateways),
            tx_ack_timeout_ns=round(self.tx_ack_timeout_s * 1e9),
            disconnect_after_ns=round(self.disconnect_after_s * 1e9),
            max_gateways=self.max_gateways,
            forward_crc_errors=self.forward_crc_errors,
            lorawan_downlink_flags=self.lorawan_downlink_flags,
            backend_name=backend_name,
        )


def parse_bind(bind: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` (all IPv4 interfaces) to (host, port)."""
    host, separator, port_text = bind.strip().rpartition(":")
    if not separator or not port_text.isdigit() or int(port_text) > 65_535:
        raise BackendConfigError(f"semtech-udp: bind {bind!r} is not host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "0.0.0.0", int(port_text)


def _positive_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BackendConfigError(f"semtech-udp: {name} must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise BackendConfigError(f"semtech-udp: {name} must be a positive number of seconds")
    return float(value)


def _euis(value: object) -> tuple[EUI64, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise BackendConfigError("semtech-udp: allowed_gateways must be a list of EUIs")
    try:
        return tuple(EUI64(item) for item in value)
    except InvalidValueError as error:
        raise BackendConfigError(f"semtech-udp: allowed_gateways: {error}") from None
