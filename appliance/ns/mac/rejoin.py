"""Rejoin commands of LoRaWAN 1.1: RejoinParamSetupReq/Ans (CID 0x0F) and ForceRejoinReq (0x0E).

RejoinParamSetupReq is sent while the session's rejoin settings differ from the policy's.
ForceRejoinReq is sent when the session's frame counters reach ``MACPolicy.force_rejoin``'s
threshold (fresh keys before they run out), or when an operator queues it. The device
answers it with a rejoin-request, not a MAC command: the rejoin flow calls
``rejoin_request_received``, which settles the pending request. A data uplink that comes
while it is still pending counts as one failure, like any unanswered request, and the
request is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import (
    ForceRejoinReq,
    MACCommand,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
)
from appliance.lorawan.regions import Region
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import QUEUED, MACResult, acknowledged, of_type
from appliance.ns.session import DeviceSession

CID = RejoinParamSetupReq.CID
FORCE_CID = ForceRejoinReq.CID
REJOIN_TYPES = (0, 2)  # type 1 is never forced: 0 and 1 on the wire both ask for type 0


def request(session: DeviceSession, ctx: MACContext) -> list[RejoinParamSetupReq]:
    wanted = ctx.policy.rejoin
    if wanted is None or not session.mac_version.is_1_1:
        return []
    if (
        session.rejoin_request_enabled
        and session.rejoin_max_count_n == wanted.max_count_n
        and session.rejoin_max_time_n == wanted.max_time_n
    ):
        return []
    return [RejoinParamSetupReq(max_time_n=wanted.max_time_n, max_count_n=wanted.max_count_n)]


def force_request(session: DeviceSession, ctx: MACContext) -> list[ForceRejoinReq]:
    wanted = ctx.policy.force_rejoin
    if wanted is None or not session.mac_version.is_1_1:
        return []
    if session.pending_rejoin_session is not None:
        return []  # a rejoin is under way: its session takes over with the next uplink
    highest = max(session.f_cnt_up, session.n_f_cnt_down, session.a_f_cnt_down)
    if highest < wanted.at_f_cnt:
        return []
    data_rate = session.dr if wanted.data_rate is None else wanted.data_rate
    return [
        ForceRejoinReq(
            period=wanted.period,
            max_retries=wanted.max_retries,
            rejoin_type=wanted.rejoin_type,
            data_rate=data_rate,
        )
    ]


def rejoin_request_received(session: DeviceSession) -> bool:
    """A valid rejoin-request arrived: a ForceRejoinReq sent to the device is answered.
    True when one was pending (its error count is reset)."""
    pending = session.pending_mac_requests.get(FORCE_CID)
    if pending is None or pending.sent_at_f_cnt_down == QUEUED:
        return False
    del session.pending_mac_requests[FORCE_CID]
    session.mac_command_error_count.pop(FORCE_CID, None)
    return True


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    reply = of_type(answers, RejoinParamSetupAns)[0]
    req = of_type(requests, RejoinParamSetupReq)[0]
    session.rejoin_request_enabled = True
    session.rejoin_max_count_n = req.max_count_n
    session.rejoin_max_time_n = req.max_time_n
    if not reply.time_ok:
        # Not a failure: the device still rejoins by count (LoRaWAN 1.1 section 5.13).
        result.log(
            LogLevel.INFO,
            MACLogCode.INFO,
            CID,
            "RejoinParamSetupReq: the device applies the count limit only",
        )
    acknowledged(session, [req], result)


def force_rejoin_request(
    session: DeviceSession,
    region: Region,
    *,
    rejoin_type: int = 0,
    data_rate: int,
    period: int = 0,
    max_retries: int = 0,
) -> ForceRejoinReq:
    """Order a LoRaWAN 1.1 device to rejoin; ``InvalidValueError`` when it cannot be sent."""
    if not session.mac_version.is_1_1:
        raise InvalidValueError("ForceRejoinReq needs a LoRaWAN 1.1 device")
    if rejoin_type not in REJOIN_TYPES:
        raise InvalidValueError(f"rejoin_type must be 0 or 2, got {rejoin_type}")
    if not region.data_rate(data_rate).uplink:
        raise InvalidValueError(f"DR{data_rate} is not an uplink data rate of {region.name}")
    for name, value in (("period", period), ("max_retries", max_retries)):
        if not 0 <= value <= 7:
            raise InvalidValueError(f"{name} must be 0..7, got {value}")
    return ForceRejoinReq(
        period=period, max_retries=max_retries, rejoin_type=rejoin_type, data_rate=data_rate
    )
