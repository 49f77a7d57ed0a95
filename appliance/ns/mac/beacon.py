"""Class B beacon commands: BeaconFreqReq/Ans (CID 0x13) and the deprecated BeaconTimingReq.

BeaconFreqReq is sent to Class B devices while the session's beacon frequency differs from
``MACPolicy.beacon_frequency`` (0: the region's default), or when an operator queues it; an
acceptance is recorded in the session. BeaconTimingReq (LoRaWAN 1.0 Class B draft, replaced
by DeviceTimeReq) is not answered.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import BeaconFreqAns, BeaconFreqReq, MACCommand
from appliance.lorawan.regions import Region
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult, acknowledged, of_type, reject
from appliance.ns.profile import DeviceProfile
from appliance.ns.session import DeviceSession

CID = BeaconFreqReq.CID


def beacon_freq_request(profile: DeviceProfile, region: Region, frequency_hz: int) -> BeaconFreqReq:
    """Move the device's beacon to ``frequency_hz`` (0: back to the region's default)."""
    if not profile.supports_class_b:
        raise InvalidValueError(f"device profile {profile.name!r} does not support Class B")
    if frequency_hz and not region.min_frequency_hz <= frequency_hz <= region.max_frequency_hz:
        raise InvalidValueError(f"{frequency_hz} Hz is outside {region.name}")
    return BeaconFreqReq(frequency_hz)


def request(session: DeviceSession, ctx: MACContext) -> list[BeaconFreqReq]:
    wanted = ctx.policy.beacon_frequency
    if wanted is None or not ctx.profile.supports_class_b or wanted == session.beacon_frequency:
        return []
    return [BeaconFreqReq(wanted)]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    reply = of_type(answers, BeaconFreqAns)[0]
    req = of_type(requests, BeaconFreqReq)[0]
    if reply.beacon_frequency_ok:
        session.beacon_frequency = req.frequency_hz
        acknowledged(session, [req], result)
    else:
        reject(session, CID, ctx, result, "BeaconFreqReq refused: frequency")


def handle_timing(
    session: DeviceSession, commands: Sequence[MACCommand], ctx: MACContext, result: MACResult
) -> None:
    result.log(
        LogLevel.INFO,
        MACLogCode.UNSUPPORTED,
        commands[0].CID,
        "BeaconTimingReq is deprecated (use DeviceTimeReq); not answered",
    )
