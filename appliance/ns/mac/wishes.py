"""What the network wants of its devices, computed once per settings and policy, and the quick
check that a session already has all of it.

Deriving the requests of a downlink (``origination``) asks thirteen questions of every
session, and almost every uplink of a settled device gets thirteen "nothing" answers. The
wanted values depend only on the network settings and MAC policy (and the region they name),
which live as long as the server, so they are computed once here; ``settled`` then compares
the session with them in a few attribute reads. It only ever answers for the requests it
knows to be unwanted: when in doubt it says no, and the full derivation runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.ns.mac import channel_mask, dev_status, tx_param_setup
from appliance.ns.mac.context import MACContext, MACPolicy
from appliance.ns.network import NetworkSettings
from appliance.ns.session import DeviceSession, ExtraChannel

_CACHE_LIMIT: Final = 64  # settings/policy pairs remembered (a server has one)


@dataclass(frozen=True, slots=True)
class Wishes:
    extra_channels: Mapping[int, ExtraChannel]  # NewChannelReq: exactly these, numbered
    # LinkADRReq's channel mask once the device holds ``extra_channels`` (None: no opinion);
    # also sorted, the form a session usually holds.
    channels: frozenset[int] | None
    channels_in_order: tuple[int, ...] | None
    rx_params: tuple[int, int, int]  # RXParamSetupReq: RX1 DR offset, RX2 DR, RX2 frequency
    rx1_delay_s: int  # RXTimingSetupReq
    tx_params: tuple[bool, bool, int] | None  # TxParamSetupReq (None: never originated)
    dl_channels: bool  # DlChannelReq may be due (a dynamic plan)


def _compute(settings: NetworkSettings, policy: MACPolicy) -> Wishes:
    region = settings.region
    wanted = channel_mask.wanted_channels_holding_extras(region, settings)
    tx = policy.tx_params
    return Wishes(
        extra_channels=dict(channel_mask.wanted_extra_channels(region, settings)),
        channels=None if wanted is None else frozenset(wanted),
        channels_in_order=wanted,
        rx_params=(
            settings.rx1_dr_offset,
            settings.effective_rx2_dr,
            settings.effective_rx2_frequency,
        ),
        rx1_delay_s=settings.rx1_delay_s,
        tx_params=(
            None
            if tx is None or not region.tx_param_setup_req
            else (tx.uplink_dwell_time_400ms, tx.downlink_dwell_time_400ms, tx.max_eirp_index)
        ),
        dl_channels=isinstance(region.channel_plan, DynamicChannelPlan),
    )


_cache: dict[tuple[int, int], tuple[NetworkSettings, MACPolicy, Wishes]] = {}


def wishes_of(settings: NetworkSettings, policy: MACPolicy) -> Wishes:
    """The wishes of ``settings`` and ``policy`` (remembered by identity: both are frozen)."""
    key = (id(settings), id(policy))
    cached = _cache.get(key)
    if cached is not None and cached[0] is settings and cached[1] is policy:
        return cached[2]
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    wishes = _compute(settings, policy)
    _cache[key] = (settings, policy, wishes)
    return wishes


def settled(session: DeviceSession, ctx: MACContext, wishes: Wishes) -> bool:
    """True when none of the derived requests is due, ADR's LinkADRReq aside (the algorithm
    runs per uplink). False also means "not sure": derive them one by one then."""
    policy = ctx.policy
    if session.extra_uplink_channels != wishes.extra_channels:
        return False  # NewChannelReq
    channels = session.enabled_uplink_channels
    if (
        wishes.channels is not None
        and channels != wishes.channels_in_order
        and frozenset(channels) != wishes.channels
    ):
        return False  # LinkADRReq for the channel mask
    if (session.rx1_dr_offset, session.rx2_dr, session.rx2_frequency) != wishes.rx_params:
        return False  # RXParamSetupReq
    if session.rx1_delay_s != wishes.rx1_delay_s:
        return False  # RXTimingSetupReq
    if dev_status.due(session, ctx):
        return False
    if wishes.tx_params is not None and tx_param_setup.supported(session, ctx):
        current = (
            session.uplink_dwell_time_400ms,
            session.downlink_dwell_time_400ms,
            session.uplink_max_eirp_index,
        )
        if current != wishes.tx_params:
            return False
    if wishes.dl_channels and (policy.dl_channels or session.rx1_frequencies):
        return False
    if policy.max_duty_cycle is not None and policy.max_duty_cycle != session.max_duty_cycle:
        return False
    if (
        policy.ping_slot is not None or policy.beacon_frequency is not None
    ) and ctx.profile.supports_class_b:
        return False  # PingSlotChannelReq or BeaconFreqReq may be due: not worth a shortcut
    return not (session.mac_version.is_1_1 and _1_1_requests_possible(session, policy))


def _1_1_requests_possible(session: DeviceSession, policy: MACPolicy) -> bool:
    """RejoinParamSetupReq, ADRParamSetupReq or ForceRejoinReq may be due."""
    rejoin = policy.rejoin
    if rejoin is not None and not (
        session.rejoin_request_enabled
        and session.rejoin_max_count_n == rejoin.max_count_n
        and session.rejoin_max_time_n == rejoin.max_time_n
    ):
        return True
    ack = policy.adr_ack
    if ack is not None and (session.adr_ack_limit_exp, session.adr_ack_delay_exp) != (
        ack.limit_exp,
        ack.delay_exp,
    ):
        return True
    force = policy.force_rejoin
    return (
        force is not None
        and session.pending_rejoin_session is None
        and max(session.f_cnt_up, session.n_f_cnt_down, session.a_f_cnt_down) >= force.at_f_cnt
    )
