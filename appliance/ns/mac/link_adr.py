"""LinkADRReq / LinkADRAns (CID 0x03): data rate, TX power, NbTrans and channel mask.

Requests come from two wishes merged into one block: the channel mask the network wants
(``channel_mask``) and the ADR algorithm's answer. Every command of a block carries the same
DR, TX power and NbTrans, so whichever one the device takes them from (the last, per
LoRaWAN 1.0.4 section 5.3) they agree. Answers are judged over the whole block: the device
applies all of it or none (section 5.3), so one NACK anywhere means nothing changed, except
that a device with ADR off may refuse DR and power yet take the mask and NbTrans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import LinkADRAns, LinkADRReq, MACCommand
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.ns.adr import ADRRequest, ADRResult, required_snr_db
from appliance.ns.mac import channel_mask
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult, acknowledged, of_type, reject
from appliance.ns.network import NetworkSettings
from appliance.ns.session import DeviceSession

CID = LinkADRReq.CID
MAX_NB_TRANS = 15  # four bits on the wire


def max_tx_power_index(region: Region, session: DeviceSession) -> int:
    """The weakest TX power the device is known to support (0 in the session: not learnt)."""
    if session.max_supported_tx_power_index:
        return session.max_supported_tx_power_index
    return len(region.tx_power_backoff_db) - 1


def network_max_dr(region: Region, settings: NetworkSettings) -> int:
    """The network's ``max_dr``, by default the highest DR of the region's default channels."""
    if settings.max_dr is not None:
        return settings.max_dr
    cached = _DEFAULT_MAX_DR.get(region.name)
    if cached is None:  # building the 72 channels of a fixed plan is too slow per uplink
        plan = region.channel_plan
        if isinstance(plan, FixedChannelPlan):
            channels = plan.uplink_channels()
        elif isinstance(plan, DynamicChannelPlan):
            channels = plan.default_channels
        else:
            channels = plan.join_channels()
        cached = _DEFAULT_MAX_DR[region.name] = max(c.max_data_rate for c in channels)
    return cached


_DEFAULT_MAX_DR: dict[str, int] = {}


def adr_request(session: DeviceSession, ctx: MACContext) -> ADRRequest | None:
    """The ADR algorithm's input for the uplink being answered (None without an uplink)."""
    if ctx.uplink is None:
        return None
    region = ctx.region
    return ADRRequest(
        region=region,
        adr_enabled=session.adr,
        dr=ctx.uplink.dr,
        tx_power_index=session.tx_power_index,
        nb_trans=session.nb_trans,
        min_dr=ctx.settings.min_dr,
        max_dr=network_max_dr(region, ctx.settings),
        max_tx_power_index=max_tx_power_index(region, session),
        installation_margin_db=ctx.settings.installation_margin_db,
        required_snr_db=required_snr_db(region, ctx.uplink.dr),
        uplink_history=tuple(session.uplink_history),
        variables=dict(ctx.device_variables),
    )


def _check_result(region: Region, session: DeviceSession, result: ADRResult) -> str | None:
    """Why an algorithm's answer cannot be sent, or None when it is sound."""
    try:
        if not region.data_rate(result.dr).uplink:
            return f"DR{result.dr} is not an uplink data rate of {region.name}"
    except InvalidValueError as error:
        return str(error)
    if not 0 <= result.tx_power_index <= max_tx_power_index(region, session):
        return f"TX power index {result.tx_power_index} is beyond what the device supports"
    if not 1 <= result.nb_trans <= MAX_NB_TRANS:
        return f"NbTrans {result.nb_trans} is not 1..{MAX_NB_TRANS}"
    return None


def adr_target(
    session: DeviceSession, ctx: MACContext, result: MACResult
) -> tuple[int, int, int] | None:
    """(DR, TX power, NbTrans) when ADR wants a change, else None (problems are logged in
    ``result``)."""
    if ctx.settings.adr_disabled:
        return None
    request = adr_request(session, ctx)
    if request is None:
        return None
    decision = ctx.adr.decide(ctx.profile.adr_algorithm, request)
    if decision.error is not None:
        result.log(LogLevel.ERROR, MACLogCode.ADR_ERROR, CID, decision.error)
        return None
    wanted = decision.result
    if wanted.tx_power_index < session.min_supported_tx_power_index:
        # The device refused a stronger power before: stay at the strongest it takes.
        wanted = replace(wanted, tx_power_index=session.min_supported_tx_power_index)
    if wanted == ADRResult.unchanged(request):
        return None
    problem = _check_result(ctx.region, session, wanted)
    if problem is not None:
        result.log(LogLevel.ERROR, MACLogCode.ADR_ERROR, CID, f"ADR answer refused: {problem}")
        return None
    return wanted.dr, wanted.tx_power_index, wanted.nb_trans


def _current_block(session: DeviceSession) -> list[channel_mask.MaskBlock]:
    """A mask that changes nothing: the device's enabled channels of their first block."""
    if not session.enabled_uplink_channels:
        return []
    block = min(session.enabled_uplink_channels) // channel_mask.BLOCK
    in_block = [
        c - block * channel_mask.BLOCK
        for c in session.enabled_uplink_channels
        if c // channel_mask.BLOCK == block
    ]
    return [(block, LinkADRReq.mask_of(in_block))]


def request(session: DeviceSession, ctx: MACContext, result: MACResult) -> list[LinkADRReq]:
    """The LinkADRReq block to send now (empty when nothing differs)."""
    region = ctx.region
    wanted = channel_mask.wanted_channels(region, ctx.settings, session)
    blocks = (
        []
        if wanted is None
        else channel_mask.mask_blocks(region, session.enabled_uplink_channels, wanted)
    )
    return request_for(session, blocks, adr_target(session, ctx, result))


def request_for(
    session: DeviceSession,
    blocks: list[channel_mask.MaskBlock],
    target: tuple[int, int, int] | None,
) -> list[LinkADRReq]:
    """The LinkADRReq block for a channel-mask change (``blocks``) and an ADR ``target``."""
    if not blocks and target is None:
        return []
    dr, tx_power, nb_trans = target or (session.dr, session.tx_power_index, session.nb_trans)
    if not blocks:
        blocks = _current_block(session)
    return [LinkADRReq(dr, tx_power, mask, cntl, nb_trans) for cntl, mask in blocks]


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    replies = of_type(answers, LinkADRAns)
    sent = of_type(requests, LinkADRReq)
    mask_ack = all(a.channel_mask_ack for a in replies)
    dr_ack = all(a.data_rate_ack for a in replies)
    power_ack = all(a.power_ack for a in replies)
    last = sent[-1]
    if mask_ack and ((dr_ack and power_ack) or not session.adr):
        try:
            channels = channel_mask.apply_mask_blocks(ctx.region, session, sent)
        except InvalidValueError as error:
            result.log(LogLevel.ERROR, MACLogCode.MALFORMED, CID, f"LinkADRReq block: {error}")
            return
        session.enabled_uplink_channels = channels
        # A device with ADR off must take the mask but may refuse DR and power
        # (LoRaWAN 1.0.4 section 4.3.1.1): keep whatever it refused.
        new = (
            last.data_rate if dr_ack else session.dr,
            last.tx_power if power_ack else session.tx_power_index,
            last.nb_trans,
        )
        if new != (session.dr, session.tx_power_index, session.nb_trans):
            # The history was measured with other settings: ADR must start afresh.
            session.uplink_history.clear()
        session.dr, session.tx_power_index, session.nb_trans = new
        acknowledged(session, sent, result)
        return
    refused = ", ".join(
        name
        for name, ok in (("channel mask", mask_ack), ("data rate", dr_ack), ("TX power", power_ack))
        if not ok
    )
    reject(session, CID, ctx, result, f"LinkADRReq refused: {refused}")
    if not power_ack:
        _learn_power_limit(session, last.tx_power)


def _learn_power_limit(session: DeviceSession, refused_index: int) -> None:
    if refused_index > 0:
        # The device cannot go that low: remember one step stronger as its limit; a further
        # refusal lowers it again (ChirpStack's approach).
        session.max_supported_tx_power_index = refused_index - 1
    else:
        # Some firmware (RN2483 1.0.3) refuses TXPower 0 although the specification says to
        # ACK and use its maximum; ChirpStack then falls back to index 1, and ADR keeps to it.
        session.min_supported_tx_power_index = 1
        session.tx_power_index = 1
