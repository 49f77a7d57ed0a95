"""The downlink side: which requests the network sends, given the session and its wishes.

Derived requests compare the session (what the device was last confirmed to use) with what
the network wants, in ChirpStack's order: channels, channel mask and ADR, device status,
rejoin, ping slot, RX parameters, RX timing, TX parameters; then what ChirpStack leaves to
operators: duty cycle, ADR back-off, RX1 frequencies, beacon frequency and a forced rejoin.
Requests queued by an operator come after them. A CID is left out while a sent request of it
awaits its answer, once it has failed ``max_mac_command_errors`` times, and NewChannelReq and
LinkADRReq never travel together: a mask that names a channel being (re)defined in the same
frame is ambiguous.
"""

from __future__ import annotations

from typing import Final

from appliance.lorawan.errors import MACCommandError
from appliance.lorawan.maccommands import LinkADRReq, MACCommand, NewChannelReq
from appliance.ns.mac import (
    adr_param_setup,
    beacon,
    dev_status,
    dl_channel,
    duty_cycle,
    link_adr,
    new_channel,
    ping_slot,
    rejoin,
    rx_param_setup,
    rx_timing_setup,
    tx_param_setup,
)
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACEvent, MACLogCode
from appliance.ns.mac.state import QUEUED, MACResult, decode_pending, errors_exhausted
from appliance.ns.mac.wishes import settled, wishes_of
from appliance.ns.session import DeviceSession

_EXCLUSIVE: Final = frozenset({LinkADRReq.CID, NewChannelReq.CID})


def _derived(session: DeviceSession, ctx: MACContext, scratch: MACResult) -> list[list[MACCommand]]:
    groups: list[list[MACCommand]] = [
        list(new_channel.request(session, ctx)),
        list(link_adr.request(session, ctx, scratch)),
        list(dev_status.request(session, ctx)),
        list(rejoin.request(session, ctx)),
        list(ping_slot.request_channel(session, ctx)),
        list(rx_param_setup.request(session, ctx)),
        list(rx_timing_setup.request(session, ctx)),
        list(tx_param_setup.request(session, ctx)),
        list(duty_cycle.request(session, ctx)),
        list(adr_param_setup.request(session, ctx)),
        list(dl_channel.request(session, ctx)),
        list(beacon.request(session, ctx)),
        list(rejoin.force_request(session, ctx)),
    ]
    # A CID with any pending entry is either awaiting its answer or queued by an operator,
    # whose explicit request wins over the derived one.
    return [g for g in groups if g and g[0].CID not in session.pending_mac_requests]


def _queued(session: DeviceSession, scratch: MACResult) -> list[list[MACCommand]]:
    groups: list[list[MACCommand]] = []
    for cid in sorted(session.pending_mac_requests):
        pending = session.pending_mac_requests[cid]
        if pending.sent_at_f_cnt_down != QUEUED:
            continue
        try:
            groups.append(list(decode_pending(pending)))
        except MACCommandError as error:
            del session.pending_mac_requests[cid]
            scratch.log(LogLevel.ERROR, MACLogCode.MALFORMED, cid, f"queued request: {error}")
    return groups


def pending_requests(
    session: DeviceSession, ctx: MACContext, *, events: list[MACEvent] | None = None
) -> list[MACCommand]:
    """The requests to send in the next downlink, highest priority first.

    Nothing is recorded as sent: the downlink flow calls ``record_sent`` with what fitted.
    Problems met on the way (an ADR plug-in failing) are appended to ``events``.
    """
    if not ctx.policy.enabled:
        return []
    scratch = MACResult()
    if not session.pending_mac_requests and settled(
        session, ctx, wishes_of(ctx.settings, ctx.policy)
    ):
        # The common case: nothing queued or awaited, nothing derived but perhaps ADR's
        # (what ``_choose`` would find, without asking each request module).
        adr = link_adr.request_for(session, [], link_adr.adr_target(session, ctx, scratch))
        chosen: list[MACCommand] = (
            [] if not adr or errors_exhausted(session, LinkADRReq.CID, ctx) else list(adr)
        )
    else:
        chosen = _choose(session, ctx, scratch)
    if events is not None:
        events += scratch.events
    return chosen


def _choose(session: DeviceSession, ctx: MACContext, scratch: MACResult) -> list[MACCommand]:
    chosen: list[MACCommand] = []
    chosen_cids: set[int] = set()
    for group in _derived(session, ctx, scratch) + _queued(session, scratch):
        cid = group[0].CID
        if errors_exhausted(session, cid, ctx):
            continue
        if cid in _EXCLUSIVE and chosen_cids & (_EXCLUSIVE - {cid}):
            continue
        chosen += group
        chosen_cids.add(cid)
    return chosen
