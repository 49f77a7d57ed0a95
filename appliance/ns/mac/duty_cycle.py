"""DutyCycleReq / DutyCycleAns (CID 0x04): cap the device's aggregated duty cycle.

Sent on demand (API); the answer carries no status, so receiving it is the acknowledgement,
reported as an event since the session has no field for the device's duty-cycle cap.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import DutyCycleReq, MACCommand
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged
from appliance.ns.session import DeviceSession

CID = DutyCycleReq.CID


def duty_cycle_request(max_duty_cycle: int) -> DutyCycleReq:
    """Aggregated duty cycle 1 / 2**max_duty_cycle (0: no limit beyond the regional one)."""
    if not 0 <= max_duty_cycle <= 15:
        raise InvalidValueError(f"max_duty_cycle must be 0..15, got {max_duty_cycle}")
    return DutyCycleReq(max_duty_cycle)


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    acknowledged(session, requests, result)
