"""NewChannelReq / NewChannelAns (CID 0x07): extra uplink channels of dynamic-plan regions.

The network's ``extra_channels`` are numbered after the region's default channels. A channel
missing from the session or defined differently is (re)created; one the network no longer
wants is deleted with frequency 0 (LoRaWAN 1.0.4 section 5.6), which also takes it out of
the device's channel mask. Fixed plans (US915, AU915) and CN470 have no NewChannelReq.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.maccommands import MACCommand, NewChannelAns, NewChannelReq
from appliance.ns.mac.channel_mask import wanted_extra_channels
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult, acknowledged, count_error, of_type, reject
from appliance.ns.session import DeviceSession, ExtraChannel

CID = NewChannelReq.CID


def request(session: DeviceSession, ctx: MACContext) -> list[NewChannelReq]:
    wanted = wanted_extra_channels(ctx.region, ctx.settings)
    out = [
        NewChannelReq(index, channel.frequency, channel.min_dr, channel.max_dr)
        for index, channel in sorted(wanted.items())
        if session.extra_uplink_channels.get(index) != channel
    ]
    out += [
        NewChannelReq(index, 0, 0, 0)
        for index in sorted(session.extra_uplink_channels)
        if index not in wanted
    ]
    return out[: ctx.policy.max_new_channel_requests]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    replies = of_type(answers, NewChannelAns)
    sent = of_type(requests, NewChannelReq)
    if len(replies) != len(sent):
        # Answers pair with requests by position only; with a count mismatch nobody can
        # tell which channel was accepted.
        count_error(
            session,
            CID,
            ctx,
            result,
            code=MACLogCode.MALFORMED,
            message=f"{len(replies)} NewChannelAns for {len(sent)} NewChannelReq",
        )
        return
    accepted: list[NewChannelReq] = []
    refused: list[int] = []
    for reply, req in zip(replies, sent, strict=True):
        if reply.channel_frequency_ok and reply.data_rate_range_ok:
            _apply(session, req)
            accepted.append(req)
        else:
            refused.append(req.ch_index)
    if refused:
        reject(session, CID, ctx, result, f"NewChannelReq refused for channel(s) {refused}")
    elif accepted:
        acknowledged(session, accepted, result)
    if accepted and refused:
        result.log(
            LogLevel.INFO,
            MACLogCode.INFO,
            CID,
            f"NewChannelReq accepted for channel(s) {[r.ch_index for r in accepted]}",
        )


def _apply(session: DeviceSession, req: NewChannelReq) -> None:
    # A (re)defined or deleted channel listens for RX1 on the default mapping again
    # (LoRaWAN 1.0.4 section 5.7: DlChannelReq changes only a channel as it stands).
    session.rx1_frequencies.pop(req.ch_index, None)
    enabled = set(session.enabled_uplink_channels)
    if req.frequency_hz == 0:
        session.extra_uplink_channels.pop(req.ch_index, None)
        enabled.discard(req.ch_index)
    else:
        session.extra_uplink_channels[req.ch_index] = ExtraChannel(
            req.frequency_hz, req.min_dr, req.max_dr
        )
        enabled.add(req.ch_index)  # a created channel starts enabled
    session.enabled_uplink_channels = tuple(sorted(enabled))
