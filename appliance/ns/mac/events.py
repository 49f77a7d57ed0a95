"""What the MAC engine reports besides answers: small frozen values the caller turns into
integration events (``status``, ``log``) and storage updates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.lorawan.maccommands import MACCommand


class LogLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class MACLogCode(StrEnum):
    """Why a MAC command produced a ``log`` event; metric labels use these names."""

    UNEXPECTED_ANSWER = "unexpected_answer"  # an answer with no pending request
    REJECTED = "rejected"  # the device refused (part of) a request
    UNANSWERED = "unanswered"  # an uplink came without the answer to a request
    GIVING_UP = "giving_up"  # the error count reached the maximum: the request stops
    MALFORMED = "malformed"  # answers that do not match the requests, corrupt pending state
    UNSUPPORTED = "unsupported"  # a command this network server does not handle
    MISSING_METADATA = "missing_metadata"  # the uplink lacked what the answer needs
    ADR_ERROR = "adr_error"  # the ADR algorithm could not run or answered nonsense
    INFO = "info"  # a noteworthy but normal outcome


@dataclass(frozen=True, slots=True)
class MACLog:
    level: LogLevel
    code: MACLogCode
    cid: int | None
    message: str


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """From DevStatusAns. ``battery_level_percent`` is None on external power or when the
    device cannot measure it; ``margin`` is the SNR (dB) of the DevStatusReq's reception."""

    battery: int
    margin: int
    external_power: bool
    battery_level_percent: float | None


@dataclass(frozen=True, slots=True)
class DeviceClassChanged:
    """From DeviceModeInd: the class ("A" or "C") the device now operates in."""

    device_class: str


@dataclass(frozen=True, slots=True)
class RequestAcknowledged:
    """The device accepted these requests (one CID); the session already holds the outcome."""

    cid: int
    requests: tuple[MACCommand, ...]


MACEvent = MACLog | DeviceStatus | DeviceClassChanged | RequestAcknowledged
