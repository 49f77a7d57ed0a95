"""Shared bookkeeping: the result being built, pending requests and error counters.

Pending requests live in ``session.pending_mac_requests`` (one entry per CID, the encoded
commands). An entry whose ``sent_at_f_cnt_down`` is ``QUEUED`` was asked for by the API and
waits for a downlink; any other value is the downlink counter of the frame that carried it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from appliance.lorawan.errors import MACCommandError
from appliance.lorawan.maccommands import MACCommand, decode_mac_commands_strict
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import (
    LogLevel,
    MACEvent,
    MACLog,
    MACLogCode,
    RequestAcknowledged,
)
from appliance.ns.session import DeviceSession, PendingMACRequest

QUEUED: Final = -1

C = TypeVar("C", bound=MACCommand)


@dataclass(slots=True)
class MACResult:
    """What handling an uplink's MAC commands produced; the session was changed in place.

    ``downlink_needed`` is also True when no answer is due but the device must hear a
    downlink to stop repeating a "sticky" answer (RXParamSetupAns, RXTimingSetupAns,
    DlChannelAns: LoRaWAN 1.0.4 sections 5.4, 5.6 and 5.7).
    """

    answers: list[MACCommand] = field(default_factory=list)
    events: list[MACEvent] = field(default_factory=list)
    downlink_needed: bool = False

    def answer(self, command: MACCommand) -> None:
        self.answers.append(command)
        self.downlink_needed = True

    def log(self, level: LogLevel, code: MACLogCode, cid: int | None, message: str) -> None:
        self.events.append(MACLog(level, code, cid, message))


def of_type(commands: Iterable[MACCommand], cls: type[C]) -> list[C]:
    return [command for command in commands if isinstance(command, cls)]


def encode_pending(
    commands: Sequence[MACCommand], sent_at_f_cnt_down: int = QUEUED
) -> PendingMACRequest:
    return PendingMACRequest(
        commands[0].CID, tuple(c.to_bytes() for c in commands), sent_at_f_cnt_down
    )


def decode_pending(pending: PendingMACRequest) -> tuple[MACCommand, ...]:
    """The requests of a pending entry; ``MACCommandError`` if the stored bytes are corrupt."""
    commands = decode_mac_commands_strict(b"".join(pending.payloads), uplink=False)
    if not commands or any(pending.cid != c.CID for c in commands):
        raise MACCommandError(f"pending entry for CID 0x{pending.cid:02X} holds other commands")
    return commands


def errors_exhausted(session: DeviceSession, cid: int, ctx: MACContext) -> bool:
    return session.mac_command_error_count.get(cid, 0) >= ctx.settings.max_mac_command_errors


def count_error(
    session: DeviceSession,
    cid: int,
    ctx: MACContext,
    result: MACResult,
    *,
    code: MACLogCode,
    message: str,
) -> None:
    """One more failure of the request ``cid``; at the maximum the network stops sending it
    for the rest of the session (a rejoin starts a fresh session with fresh counters)."""
    count = session.mac_command_error_count.get(cid, 0) + 1
    session.mac_command_error_count[cid] = count
    result.log(LogLevel.WARNING, code, cid, message)
    if count == ctx.settings.max_mac_command_errors:
        result.log(
            LogLevel.WARNING,
            MACLogCode.GIVING_UP,
            cid,
            f"CID 0x{cid:02X} failed {count} times: no longer sent in this session",
        )


def acknowledged(session: DeviceSession, requests: Sequence[MACCommand], result: MACResult) -> None:
    """The device accepted ``requests``: reset the CID's error count and report it."""
    cid = requests[0].CID
    session.mac_command_error_count.pop(cid, None)
    result.events.append(RequestAcknowledged(cid, tuple(requests)))


def reject(
    session: DeviceSession, cid: int, ctx: MACContext, result: MACResult, message: str
) -> None:
    """The device refused a request: one failure of its CID."""
    count_error(session, cid, ctx, result, code=MACLogCode.REJECTED, message=message)
