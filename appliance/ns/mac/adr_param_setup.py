"""ADRParamSetupReq / ADRParamSetupAns (CID 0x0C, LoRaWAN 1.1): ADR_ACK_LIMIT and ADR_ACK_DELAY.

Originated for 1.1 sessions while their exponents differ from ``MACPolicy.adr_ack``, or
queued by an operator. The empty answer means the device applied them; the session records
them.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import ADRParamSetupReq, MACCommand
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged, of_type
from appliance.ns.session import DeviceSession

CID = ADRParamSetupReq.CID


def adr_param_setup_request(
    session: DeviceSession, limit_exp: int, delay_exp: int
) -> ADRParamSetupReq:
    """ADR_ACK_LIMIT = 2**limit_exp, ADR_ACK_DELAY = 2**delay_exp (both exponents 0..15)."""
    if not session.mac_version.is_1_1:
        raise InvalidValueError("ADRParamSetupReq needs a LoRaWAN 1.1 device")
    for name, value in (("limit_exp", limit_exp), ("delay_exp", delay_exp)):
        if not 0 <= value <= 15:
            raise InvalidValueError(f"{name} must be 0..15, got {value}")
    return ADRParamSetupReq(limit_exp, delay_exp)


def request(session: DeviceSession, ctx: MACContext) -> list[ADRParamSetupReq]:
    wanted = ctx.policy.adr_ack
    if wanted is None or not session.mac_version.is_1_1:
        return []
    current = (session.adr_ack_limit_exp, session.adr_ack_delay_exp)
    if current == (wanted.limit_exp, wanted.delay_exp):
        return []
    return [ADRParamSetupReq(wanted.limit_exp, wanted.delay_exp)]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    req = of_type(requests, ADRParamSetupReq)[0]
    session.adr_ack_limit_exp, session.adr_ack_delay_exp = req.limit_exp, req.delay_exp
    acknowledged(session, [req], result)
