"""The life of a network request: queued (API) -> sent (``record_sent``) -> answered or expired.

A request is sent in one downlink; the device's next uplink should carry the answer. An
uplink without it counts one failure for that CID and ends the wait (``expire_unanswered``):
requests the network derives from state are simply derived again, requests an operator
queued go back to the queue. Either way, once the CID reaches ``max_mac_command_errors``
failures it is no longer sent in this session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import (
    ADRParamSetupReq,
    BeaconFreqReq,
    DevStatusReq,
    DlChannelReq,
    DutyCycleReq,
    ForceRejoinReq,
    LinkADRReq,
    MACCommand,
    NewChannelReq,
    PingSlotChannelReq,
    RejoinParamSetupReq,
    RXParamSetupReq,
    RXTimingSetupReq,
    TxParamSetupReq,
    decode_mac_commands_strict,
)
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import MACLogCode
from appliance.ns.mac.state import (
    QUEUED,
    MACResult,
    count_error,
    encode_pending,
    errors_exhausted,
)
from appliance.ns.session import DeviceSession, PendingMACRequest

# Requests an operator may queue through the API. The others are derived from the session
# and the network's settings, and a queued copy would fight that derivation.
ON_DEMAND: Final[frozenset[type[MACCommand]]] = frozenset(
    {DevStatusReq, DutyCycleReq, ADRParamSetupReq, DlChannelReq, BeaconFreqReq, ForceRejoinReq}
)
ON_DEMAND_CIDS: Final = frozenset(cls.CID for cls in ON_DEMAND)

# Downlink commands that expect an answer; the rest of the downlink ones are answers.
REQUESTS: Final[frozenset[type[MACCommand]]] = ON_DEMAND | {
    LinkADRReq,
    RXParamSetupReq,
    NewChannelReq,
    RXTimingSetupReq,
    TxParamSetupReq,
    RejoinParamSetupReq,
    PingSlotChannelReq,
}


def queue_request(session: DeviceSession, command: MACCommand) -> None:
    """Queue an operator's request for the next downlink (replacing one with the same CID).

    Build ``command`` with the module's ``*_request`` helper, which checks it suits the device.
    """
    if type(command) not in ON_DEMAND:
        allowed = ", ".join(sorted(cls.__name__ for cls in ON_DEMAND))
        raise InvalidValueError(f"{command.name} cannot be queued (only {allowed})")
    session.pending_mac_requests[command.CID] = encode_pending([command])


def record_sent(
    session: DeviceSession,
    sent: bytes | Iterable[MACCommand],
    *,
    f_cnt_down: int,
    now_ns: int,
) -> None:
    """Called by the downlink flow once the frame is built: ``sent`` is its MAC commands
    (the FOpts or FPort 0 bytes, or the commands), ``f_cnt_down`` the frame's counter."""
    commands = (
        decode_mac_commands_strict(sent, uplink=False) if isinstance(sent, bytes) else tuple(sent)
    )
    by_cid: dict[int, list[MACCommand]] = {}
    for command in commands:
        if type(command) in REQUESTS:
            by_cid.setdefault(command.CID, []).append(command)
    for cid, group in by_cid.items():
        # ForceRejoinReq is kept too: a rejoin-request answers it (``rejoin_request_received``).
        session.pending_mac_requests[cid] = encode_pending(group, f_cnt_down)
        if cid == DevStatusReq.CID:
            session.last_device_status_request_ns = now_ns


def expire_unanswered(
    session: DeviceSession, answered: set[int], ctx: MACContext, result: MACResult
) -> None:
    """After an uplink: every sent request it did not answer is one failure."""
    for cid, pending in list(session.pending_mac_requests.items()):
        if pending.sent_at_f_cnt_down == QUEUED or cid in answered:
            continue
        del session.pending_mac_requests[cid]
        count_error(
            session,
            cid,
            ctx,
            result,
            code=MACLogCode.UNANSWERED,
            message=f"no answer to CID 0x{cid:02X} sent with FCntDown {pending.sent_at_f_cnt_down}",
        )
        if cid in ON_DEMAND_CIDS and not errors_exhausted(session, cid, ctx):
            session.pending_mac_requests[cid] = PendingMACRequest(cid, pending.payloads, QUEUED)
