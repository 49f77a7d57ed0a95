"""DutyCycleReq / DutyCycleAns (CID 0x04): cap the device's aggregated duty cycle.

Originated while the session's cap differs from the network's ``MACPolicy.max_duty_cycle``,
or queued by an operator. The answer carries no status: receiving it means the device applied
the cap, which the session then records.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import DutyCycleReq, MACCommand
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged, of_type
from appliance.ns.session import DeviceSession

CID = DutyCycleReq.CID


def duty_cycle_request(max_duty_cycle: int) -> DutyCycleReq:
    """Aggregated duty cycle 1 / 2**max_duty_cycle (0: no limit beyond the regional one)."""
    if not 0 <= max_duty_cycle <= 15:
        raise InvalidValueError(f"max_duty_cycle must be 0..15, got {max_duty_cycle}")
    return DutyCycleReq(max_duty_cycle)


def request(session: DeviceSession, ctx: MACContext) -> list[DutyCycleReq]:
    wanted = ctx.policy.max_duty_cycle
    if wanted is None or wanted == session.max_duty_cycle:
        return []
    return [DutyCycleReq(wanted)]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    req = of_type(requests, DutyCycleReq)[0]
    session.max_duty_cycle = req.max_duty_cycle
    acknowledged(session, [req], result)
