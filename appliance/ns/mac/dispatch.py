"""The uplink side: one handler per uplink command, chosen by its class.

Commands are grouped by CID in order of first appearance (several LinkADRAns answer one
LinkADRReq block, several NewChannelAns pair with NewChannelReqs). Device-initiated commands
go to their handler; answers are matched with the pending request of their CID first, and an
answer without one is reported and dropped. Sent requests left unanswered by this uplink
then count as failures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from appliance.lorawan.errors import MACCommandError
from appliance.lorawan.maccommands import (
    ADRParamSetupAns,
    BeaconFreqAns,
    BeaconTimingReq,
    DeviceModeInd,
    DeviceTimeReq,
    DevStatusAns,
    DlChannelAns,
    DutyCycleAns,
    LinkADRAns,
    LinkCheckReq,
    MACCommand,
    NewChannelAns,
    PingSlotChannelAns,
    PingSlotInfoReq,
    RejoinParamSetupAns,
    RekeyInd,
    ResetInd,
    RXParamSetupAns,
    RXTimingSetupAns,
    TxParamSetupAns,
)
from appliance.ns.mac import (
    adr_param_setup,
    beacon,
    dev_status,
    device_mode,
    device_time,
    dl_channel,
    duty_cycle,
    link_adr,
    link_check,
    new_channel,
    ping_slot,
    rejoin,
    rekey,
    reset,
    rx_param_setup,
    rx_timing_setup,
    tx_param_setup,
)
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.pending import expire_unanswered
from appliance.ns.mac.state import QUEUED, MACResult, decode_pending
from appliance.ns.session import DeviceSession

IndicationHandler = Callable[[DeviceSession, Sequence[MACCommand], MACContext, MACResult], None]
AnswerHandler = Callable[
    [DeviceSession, Sequence[MACCommand], Sequence[MACCommand], MACContext, MACResult], None
]

INDICATIONS: Final[dict[type[MACCommand], IndicationHandler]] = {
    ResetInd: reset.handle,
    LinkCheckReq: link_check.handle,
    RekeyInd: rekey.handle,
    DeviceTimeReq: device_time.handle,
    PingSlotInfoReq: ping_slot.handle_info,
    BeaconTimingReq: beacon.handle_timing,
    DeviceModeInd: device_mode.handle,
}

ANSWERS: Final[dict[type[MACCommand], AnswerHandler]] = {
    LinkADRAns: link_adr.handle_answer,
    DutyCycleAns: duty_cycle.handle_answer,
    RXParamSetupAns: rx_param_setup.handle_answer,
    DevStatusAns: dev_status.handle_answer,
    NewChannelAns: new_channel.handle_answer,
    RXTimingSetupAns: rx_timing_setup.handle_answer,
    TxParamSetupAns: tx_param_setup.handle_answer,
    DlChannelAns: dl_channel.handle_answer,
    ADRParamSetupAns: adr_param_setup.handle_answer,
    RejoinParamSetupAns: rejoin.handle_answer,
    PingSlotChannelAns: ping_slot.handle_channel_answer,
    BeaconFreqAns: beacon.handle_answer,
}

# Answers the device repeats in every uplink until it receives a downlink.
STICKY: Final[frozenset[type[MACCommand]]] = frozenset(
    {RXParamSetupAns, RXTimingSetupAns, DlChannelAns}
)


def _blocks(commands: Iterable[MACCommand]) -> dict[type[MACCommand], list[MACCommand]]:
    blocks: dict[type[MACCommand], list[MACCommand]] = {}
    for command in commands:
        blocks.setdefault(type(command), []).append(command)
    return blocks


def handle_uplink_mac_commands(
    session: DeviceSession, commands: Iterable[MACCommand], ctx: MACContext
) -> MACResult:
    """Handle the MAC commands of one new uplink (FOpts or FPort 0, already decoded).

    Call once per uplink, not for NbTrans repeats: every call also ends the wait for the
    requests sent before it.
    """
    result = MACResult()
    if not ctx.policy.enabled:
        return result
    answered: set[int] = set()
    for cls, block in _blocks(commands).items():
        if cls in STICKY:
            result.downlink_needed = True
        indication = INDICATIONS.get(cls)
        if indication is not None:
            indication(session, block, ctx, result)
            continue
        handler = ANSWERS.get(cls)
        if handler is None:
            result.log(
                LogLevel.WARNING,
                MACLogCode.UNSUPPORTED,
                cls.CID,
                f"{cls.__name__} ({'uplink' if cls.UPLINK else 'downlink'}) is not handled",
            )
            continue
        if _answer(session, block, handler, ctx, result):
            answered.add(cls.CID)
    expire_unanswered(session, answered, ctx, result)
    return result


def _answer(
    session: DeviceSession,
    block: list[MACCommand],
    handler: AnswerHandler,
    ctx: MACContext,
    result: MACResult,
) -> bool:
    """Match ``block`` with its pending request; True when there was one."""
    cls = type(block[0])
    pending = session.pending_mac_requests.get(cls.CID)
    if pending is None or pending.sent_at_f_cnt_down == QUEUED:
        result.log(
            LogLevel.INFO,
            MACLogCode.UNEXPECTED_ANSWER,
            cls.CID,
            f"{cls.__name__} without a pending request: ignored",
        )
        return False
    del session.pending_mac_requests[cls.CID]
    try:
        requests = decode_pending(pending)
    except MACCommandError as error:
        result.log(LogLevel.ERROR, MACLogCode.MALFORMED, cls.CID, f"pending request: {error}")
        return True
    handler(session, block, requests, ctx, result)
    return True
