"""The quick "nothing to ask" path of ``pending_requests`` against the full derivation: for
sessions near and far from what the network wants, under every kind of policy, both give the
same requests and the same events."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.lorawan.regions import get_region
from appliance.ns.mac import (
    ADRAckParams,
    ForceRejoin,
    MACPolicy,
    MACResult,
    PingSlotChannel,
    RejoinParams,
    TxParams,
    UplinkMeta,
    origination,
    pending_requests,
)
from appliance.ns.mac.channel_mask import wanted_channels_holding_extras, wanted_extra_channels
from appliance.ns.mac.wishes import settled, wishes_of
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import MACVersion
from appliance.ns.session import DeviceSession, ExtraChannel, UplinkHistoryEntry
from tests.ns.test_mac_support import DAY_NS, make_ctx, make_session

V1_1 = MACVersion.LORAWAN_1_1_0
REGIONS = ("EU868", "US915", "AU915", "AS923", "CN470-20A")
EXTRAS = (867_100_000, 867_300_000, 867_500_000)


@st.composite
def cases(draw: st.DrawFn) -> tuple[DeviceSession, Any]:
    region_name = draw(st.sampled_from(REGIONS))
    region = get_region(region_name)
    settings_changes: dict[str, Any] = {
        "adr_disabled": draw(st.booleans()),
        "rx1_dr_offset": draw(st.sampled_from([0, 1])),
        "rx1_delay_s": draw(st.sampled_from([1, 2])),
    }
    if region_name == "EU868":
        settings_changes["extra_channels"] = draw(st.sampled_from([(), EXTRAS[:2], EXTRAS]))
    if region_name == "US915":
        settings_changes["enabled_sub_band"] = draw(st.sampled_from([None, 2]))
    network = NetworkSettings(region_name=region_name, **settings_changes)
    policy = MACPolicy(
        tx_params=draw(st.none() | st.just(TxParams(True, True, 5))),
        rejoin=draw(st.none() | st.just(RejoinParams(3, 4))),
        ping_slot=draw(st.none() | st.just(PingSlotChannel(3))),
        max_duty_cycle=draw(st.none() | st.sampled_from([0, 2])),
        adr_ack=draw(st.none() | st.just(ADRAckParams(6, 5))),
        dl_channels=draw(st.sampled_from([{}, {1: 869_100_000}])),
        beacon_frequency=draw(st.none() | st.sampled_from([0, 869_525_000])),
        force_rejoin=draw(st.none() | st.just(ForceRejoin(1000))),
    )
    version = draw(st.sampled_from([MACVersion.LORAWAN_1_0_1, MACVersion.LORAWAN_1_0_3, V1_1]))
    session = make_session(region.name, version)
    # Start from the settled state, then move a few fields (one in five) away from it.
    session.extra_uplink_channels = dict(wanted_extra_channels(region, network))
    session.enabled_uplink_channels = wanted_channels_holding_extras(region, network) or ()
    session.rx1_dr_offset = network.rx1_dr_offset
    session.rx2_dr = network.effective_rx2_dr
    session.rx2_frequency = network.effective_rx2_frequency
    session.rx1_delay_s = network.rx1_delay_s
    session.max_duty_cycle = policy.max_duty_cycle or 0
    session.rejoin_request_enabled = True
    session.rejoin_max_count_n, session.rejoin_max_time_n = 3, 4
    session.adr_ack_limit_exp, session.adr_ack_delay_exp = 6, 5
    session.rx1_frequencies = dict(policy.dl_channels)
    session.ping_slot_dr = 3
    session.beacon_frequency = policy.beacon_frequency or 0
    session.uplink_dwell_time_400ms = session.downlink_dwell_time_400ms = True
    session.uplink_max_eirp_index = 5
    session.f_cnt_up = 5
    session.last_device_status_request_ns = DAY_NS
    moved = st.integers(0, 4).map(lambda n: n == 0)
    if draw(moved):
        session.extra_uplink_channels[draw(st.integers(3, 7))] = ExtraChannel(868_900_000, 0, 5)
    if draw(moved):
        session.enabled_uplink_channels = tuple(draw(st.lists(st.integers(0, 15), max_size=4)))
    if draw(moved):
        session.enabled_uplink_channels = tuple(reversed(session.enabled_uplink_channels))
    if draw(moved):
        session.rx2_dr = 3
    if draw(moved):
        session.rx1_delay_s = 5
    if draw(moved):
        session.last_device_status_request_ns = draw(st.sampled_from([None, 0]))
    if draw(moved):
        session.max_duty_cycle = 1
    if draw(moved):
        session.rejoin_request_enabled = False
    if draw(moved):
        session.adr_ack_limit_exp = 7
    if draw(moved):
        session.rx1_frequencies = draw(st.sampled_from([{}, {1: 869_300_000}, {0: 869_100_000}]))
    if draw(moved):
        session.ping_slot_dr = 0
    if draw(moved):
        session.beacon_frequency = 868_100_000
    if draw(moved):
        session.f_cnt_up = 2000
    if draw(moved):
        session.uplink_max_eirp_index = 7
    session.adr = draw(st.booleans())
    snr = draw(st.sampled_from([-18.0, 10.0]))
    session.uplink_history.clear()
    for f_cnt in range(draw(st.sampled_from([0, 20]))):
        session.add_uplink_history(UplinkHistoryEntry(f_cnt, snr, -80, 0, 1))
    ctx = make_ctx(
        region.name,
        now_ns=draw(st.sampled_from([DAY_NS // 2, 2 * DAY_NS])),
        uplink=draw(st.none() | st.just(UplinkMeta(dr=0, max_snr=snr))),
        profile={
            "supports_class_b": draw(st.booleans()),
            "device_status_req_interval": draw(st.sampled_from([0, 1])),
        },
        settings=settings_changes,
        policy=policy,
    )
    assert ctx.settings == network
    return session, ctx


@settings(max_examples=400)
@given(cases())
def test_the_quick_path_derives_what_the_full_one_does(case: tuple[DeviceSession, Any]) -> None:
    session, ctx = case
    full_session = copy.deepcopy(session)
    events: list[Any] = []
    quick = pending_requests(session, ctx, events=events)
    scratch = MACResult()
    assert quick == origination._choose(full_session, ctx, scratch)
    assert events == scratch.events
    assert session == full_session


def test_a_settled_session_is_recognised() -> None:
    session, ctx = make_session(), make_ctx()
    assert settled(session, ctx, wishes_of(ctx.settings, ctx.policy))
    session.rx1_delay_s = 3
    assert not settled(session, ctx, wishes_of(ctx.settings, ctx.policy))


def test_wishes_are_remembered_per_settings_and_policy_objects() -> None:
    network, policy = NetworkSettings(), MACPolicy()
    assert wishes_of(network, policy) is wishes_of(network, policy)
    assert wishes_of(NetworkSettings(rx1_delay_s=2), policy).rx1_delay_s == 2
