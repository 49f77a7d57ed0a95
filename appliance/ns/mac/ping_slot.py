"""Class B ping slots: PingSlotInfoReq/Ans (CID 0x10) and PingSlotChannelReq/Ans (CID 0x11).

PingSlotInfoReq announces the device's periodicity: 2**(7 - periodicity) ping slots per
beacon period (Class B section of LoRaWAN 1.0.4 and 1.1). PingSlotChannelReq is sent to
Class B devices while the session's ping-slot DR or frequency differ from the policy's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from appliance.lorawan.maccommands import (
    MACCommand,
    PingSlotChannelAns,
    PingSlotChannelReq,
    PingSlotInfoAns,
    PingSlotInfoReq,
)
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged, of_type, reject
from appliance.ns.session import DeviceSession

CHANNEL_CID = PingSlotChannelReq.CID
MAX_PERIODICITY: Final = 7


def handle_info(
    session: DeviceSession, commands: Sequence[MACCommand], ctx: MACContext, result: MACResult
) -> None:
    info = of_type(commands, PingSlotInfoReq)[0]
    session.ping_slot_nb = 1 << (MAX_PERIODICITY - info.periodicity)
    result.answer(PingSlotInfoAns())


def request_channel(session: DeviceSession, ctx: MACContext) -> list[PingSlotChannelReq]:
    wanted = ctx.policy.ping_slot
    if wanted is None or not ctx.profile.supports_class_b:
        return []
    if (session.ping_slot_dr, session.ping_slot_frequency) == (wanted.data_rate, wanted.frequency):
        return []
    return [PingSlotChannelReq(frequency_hz=wanted.frequency, data_rate=wanted.data_rate)]


def handle_channel_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    reply = of_type(answers, PingSlotChannelAns)[0]
    req = of_type(requests, PingSlotChannelReq)[0]
    if reply.data_rate_ok and reply.channel_frequency_ok:
        session.ping_slot_dr = req.data_rate
        session.ping_slot_frequency = req.frequency_hz
        acknowledged(session, [req], result)
        return
    refused = "data rate" if not reply.data_rate_ok else "frequency"
    if not (reply.data_rate_ok or reply.channel_frequency_ok):
        refused = "data rate and frequency"
    reject(session, CHANNEL_CID, ctx, result, f"PingSlotChannelReq refused: {refused}")
