"""RXParamSetupReq / RXParamSetupAns (CID 0x05): RX1 DR offset, RX2 data rate and frequency.

Requested whenever the session's values differ from the network's. The device repeats its
answer in every uplink until it hears a downlink (LoRaWAN 1.0.4 section 5.4), which is why
the dispatcher asks for a downlink even when the answer is a stale repeat.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.maccommands import MACCommand, RXParamSetupAns, RXParamSetupReq
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged, of_type, reject
from appliance.ns.session import DeviceSession

CID = RXParamSetupReq.CID


def request(session: DeviceSession, ctx: MACContext) -> list[RXParamSetupReq]:
    settings = ctx.settings
    wanted = (settings.rx1_dr_offset, settings.effective_rx2_dr, settings.effective_rx2_frequency)
    if wanted == (session.rx1_dr_offset, session.rx2_dr, session.rx2_frequency):
        return []
    return [RXParamSetupReq(*wanted)]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    reply = of_type(answers, RXParamSetupAns)[0]
    req = of_type(requests, RXParamSetupReq)[0]
    if reply.rx1_dr_offset_ack and reply.rx2_data_rate_ack and reply.channel_ack:
        session.rx1_dr_offset = req.rx1_dr_offset
        session.rx2_dr = req.rx2_data_rate
        session.rx2_frequency = req.frequency_hz
        acknowledged(session, [req], result)
        return
    refused = [
        name
        for name, ok in (
            ("RX1 DR offset", reply.rx1_dr_offset_ack),
            ("RX2 data rate", reply.rx2_data_rate_ack),
            ("RX2 frequency", reply.channel_ack),
        )
        if not ok
    ]
    reject(session, CID, ctx, result, f"RXParamSetupReq refused: {', '.join(refused)}")
