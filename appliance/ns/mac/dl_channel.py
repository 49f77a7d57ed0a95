"""DlChannelReq / DlChannelAns (CID 0x0A): a separate RX1 frequency for one uplink channel.

Only dynamic-plan regions define it (LoRaWAN 1.0.4 section 5.7). Originated while the
session's RX1 frequencies differ from ``MACPolicy.dl_channels`` (a channel the network no
longer maps gets its own uplink frequency back), or queued by an operator. An accepted
request is recorded in ``session.rx1_frequencies``, which the downlink windows use. Answers
pair with requests by position; the device repeats them until a downlink arrives.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import DlChannelAns, DlChannelReq, MACCommand
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult, acknowledged, count_error, of_type, reject
from appliance.ns.session import DeviceSession

CID = DlChannelReq.CID


def uplink_frequency(region: Region, session: DeviceSession, ch_index: int) -> int | None:
    """The uplink frequency of one of the device's channels (None: no such channel)."""
    plan = region.channel_plan
    if not isinstance(plan, DynamicChannelPlan):
        return None
    if 0 <= ch_index < len(plan.default_channels):
        return plan.default_channels[ch_index].frequency_hz
    extra = session.extra_uplink_channels.get(ch_index)
    return None if extra is None else extra.frequency


def dl_channel_request(
    session: DeviceSession, region: Region, ch_index: int, frequency_hz: int
) -> DlChannelReq:
    """A DlChannelReq for one of the device's channels; ``InvalidValueError`` if the region or
    the channel cannot take it."""
    if not isinstance(region.channel_plan, DynamicChannelPlan):
        raise InvalidValueError(f"{region.name} has no DlChannelReq (not a dynamic channel plan)")
    if uplink_frequency(region, session, ch_index) is None:
        raise InvalidValueError(f"the device has no uplink channel {ch_index}")
    if not region.min_frequency_hz <= frequency_hz <= region.max_frequency_hz:
        raise InvalidValueError(f"{frequency_hz} Hz is outside {region.name}")
    return DlChannelReq(ch_index, frequency_hz)


def request(session: DeviceSession, ctx: MACContext) -> list[DlChannelReq]:
    region = ctx.region
    if not isinstance(region.channel_plan, DynamicChannelPlan):
        return []
    wanted = ctx.policy.dl_channels
    out: list[DlChannelReq] = []
    for ch_index in sorted(set(wanted) | set(session.rx1_frequencies)):
        own = uplink_frequency(region, session, ch_index)
        if own is None:
            continue  # not defined on the device (yet): NewChannelReq comes first
        target = wanted.get(ch_index, own)
        if session.rx1_frequencies.get(ch_index, own) != target:
            out.append(DlChannelReq(ch_index, target))
    return out[: ctx.policy.max_new_channel_requests]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    replies = of_type(answers, DlChannelAns)
    sent = of_type(requests, DlChannelReq)
    if len(replies) != len(sent):
        count_error(
            session,
            CID,
            ctx,
            result,
            code=MACLogCode.MALFORMED,
            message=f"{len(replies)} DlChannelAns for {len(sent)} DlChannelReq",
        )
        return
    accepted: list[DlChannelReq] = []
    refused: list[str] = []
    for reply, req in zip(replies, sent, strict=True):
        if reply.channel_frequency_ok and reply.uplink_frequency_exists:
            _apply(session, ctx.region, req)
            accepted.append(req)
        elif not reply.channel_frequency_ok:
            refused.append(f"channel {req.ch_index}: the device cannot use that frequency")
        else:
            refused.append(f"channel {req.ch_index}: the uplink channel does not exist")
    if refused:
        reject(session, CID, ctx, result, f"DlChannelReq refused: {'; '.join(refused)}")
    elif accepted:
        acknowledged(session, accepted, result)
    if accepted and refused:
        result.log(
            LogLevel.INFO,
            MACLogCode.INFO,
            CID,
            f"DlChannelReq accepted for channel(s) {[r.ch_index for r in accepted]}",
        )


def _apply(session: DeviceSession, region: Region, req: DlChannelReq) -> None:
    if req.frequency_hz == uplink_frequency(region, session, req.ch_index):
        session.rx1_frequencies.pop(req.ch_index, None)  # back to the default mapping
    else:
        session.rx1_frequencies[req.ch_index] = req.frequency_hz
