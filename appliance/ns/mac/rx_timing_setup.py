"""RXTimingSetupReq / RXTimingSetupAns (CID 0x08): the delay before the RX1 window.

The answer carries no status: receiving it means the device applied the delay. Like
RXParamSetupAns it is repeated until a downlink arrives (LoRaWAN 1.0.4 section 5.7).
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.maccommands import MACCommand, RXTimingSetupReq
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged, of_type
from appliance.ns.session import DeviceSession

CID = RXTimingSetupReq.CID


def request(session: DeviceSession, ctx: MACContext) -> list[RXTimingSetupReq]:
    wanted = ctx.settings.rx1_delay_s
    return [] if session.rx1_delay_s == wanted else [RXTimingSetupReq(wanted)]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    req = of_type(requests, RXTimingSetupReq)[0]
    session.rx1_delay_s = req.delay_seconds
    acknowledged(session, [req], result)
