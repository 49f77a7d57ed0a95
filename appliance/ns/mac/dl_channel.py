"""DlChannelReq / DlChannelAns (CID 0x0A): a separate RX1 frequency for one uplink channel.

Only dynamic-plan regions define it (LoRaWAN 1.0.4 section 5.6). Sent on demand (API): the
session does not record per-channel RX1 frequencies, so the acknowledgement is reported as an
event for the caller to keep. The answer is repeated until a downlink arrives.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import DlChannelAns, DlChannelReq, MACCommand
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.state import MACResult, acknowledged, of_type, reject
from appliance.ns.session import DeviceSession

CID = DlChannelReq.CID


def dl_channel_request(
    session: DeviceSession, region: Region, ch_index: int, frequency_hz: int
) -> DlChannelReq:
    """A DlChannelReq for one of the device's channels; ``InvalidValueError`` if the region or
    the channel cannot take it."""
    plan = region.channel_plan
    if not isinstance(plan, DynamicChannelPlan):
        raise InvalidValueError(f"{region.name} has no DlChannelReq (not a dynamic channel plan)")
    defined = set(range(len(plan.default_channels))) | set(session.extra_uplink_channels)
    if ch_index not in defined:
        raise InvalidValueError(f"the device has no uplink channel {ch_index}")
    if not region.min_frequency_hz <= frequency_hz <= region.max_frequency_hz:
        raise InvalidValueError(f"{frequency_hz} Hz is outside {region.name}")
    return DlChannelReq(ch_index, frequency_hz)


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    reply = of_type(answers, DlChannelAns)[0]
    if reply.channel_frequency_ok and reply.uplink_frequency_exists:
        acknowledged(session, requests, result)
        return
    problem = (
        "the device cannot use that frequency"
        if not reply.channel_frequency_ok
        else "the uplink channel does not exist on the device"
    )
    reject(session, CID, ctx, result, f"DlChannelReq refused: {problem}")
