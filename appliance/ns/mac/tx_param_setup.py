"""TxParamSetupReq / TxParamSetupAns (CID 0x09): dwell-time limits and maximum EIRP.

Only regions whose devices implement it (AS923, AU915: ``Region.tx_param_setup_req``) and
devices from LoRaWAN 1.0.2 on, the version that introduced the command. The answer carries no
status: receiving it means the device applied the settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.maccommands import MACCommand, TxParamSetupReq
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged, of_type
from appliance.ns.profile import MACVersion
from appliance.ns.session import DeviceSession

CID = TxParamSetupReq.CID


def supported(session: DeviceSession, ctx: MACContext) -> bool:
    return ctx.region.tx_param_setup_req and session.mac_version.at_least(MACVersion.LORAWAN_1_0_2)


def request(session: DeviceSession, ctx: MACContext) -> list[TxParamSetupReq]:
    wanted = ctx.policy.tx_params
    if wanted is None or not supported(session, ctx):
        return []
    current = (
        session.uplink_dwell_time_400ms,
        session.downlink_dwell_time_400ms,
        session.uplink_max_eirp_index,
    )
    target = (
        wanted.uplink_dwell_time_400ms,
        wanted.downlink_dwell_time_400ms,
        wanted.max_eirp_index,
    )
    if current == target:
        return []
    return [
        TxParamSetupReq(
            downlink_dwell_time_400ms=wanted.downlink_dwell_time_400ms,
            uplink_dwell_time_400ms=wanted.uplink_dwell_time_400ms,
            max_eirp=wanted.max_eirp_index,
        )
    ]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    req = of_type(requests, TxParamSetupReq)[0]
    session.uplink_dwell_time_400ms = req.uplink_dwell_time_400ms
    session.downlink_dwell_time_400ms = req.downlink_dwell_time_400ms
    session.uplink_max_eirp_index = req.max_eirp
    acknowledged(session, [req], result)
