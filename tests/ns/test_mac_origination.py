"""Which requests the network sends: state vs. wishes, periodic DevStatusReq on a fake
clock, error-count stopping, exclusions, operator-queued requests and their retries."""

from __future__ import annotations

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import (
    ADRParamSetupReq,
    BeaconFreqReq,
    DevStatusAns,
    DevStatusReq,
    DlChannelReq,
    DutyCycleReq,
    ForceRejoinReq,
    LinkADRReq,
    LinkCheckAns,
    NewChannelReq,
    PingSlotChannelReq,
    RejoinParamSetupReq,
    RXParamSetupAns,
    RXParamSetupReq,
    RXTimingSetupReq,
    TxParamSetupReq,
    encode_mac_commands,
)
from appliance.lorawan.regions import get_region
from appliance.ns.mac import (
    QUEUED,
    ADRAckParams,
    ForceRejoin,
    MACEvent,
    MACPolicy,
    PingSlotChannel,
    RejoinParams,
    TxParams,
    adr_param_setup_request,
    beacon_freq_request,
    dl_channel_request,
    duty_cycle_request,
    force_rejoin_request,
    handle_uplink_mac_commands,
    pending_requests,
    queue_request,
    record_sent,
    rejoin_request_received,
)
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import ExtraChannel, PendingMACRequest
from tests.ns.test_mac_support import DAY_NS, SENT_AT, make_ctx, make_session, send

V1_1 = MACVersion.LORAWAN_1_1_0
EU868 = get_region("EU868")


def test_a_device_matching_every_wish_gets_no_request() -> None:
    assert pending_requests(make_session(), make_ctx()) == []


# --- DevStatusReq on a fake clock -------------------------------------------------------------


def test_dev_status_is_asked_at_once_when_never_asked() -> None:
    session = make_session(last_device_status_request_ns=None)
    assert pending_requests(session, make_ctx(now_ns=5)) == [DevStatusReq()]


@pytest.mark.parametrize(
    ("per_day", "elapsed_ns", "due"),
    [
        (1, DAY_NS - 1, False),
        (1, DAY_NS, True),
        (4, DAY_NS // 4 - 1, False),
        (4, DAY_NS // 4, True),
        (0, 10 * DAY_NS, False),  # 0: never
    ],
)
def test_dev_status_period(per_day: int, elapsed_ns: int, due: bool) -> None:
    start = 1_000 * DAY_NS
    session = make_session(last_device_status_request_ns=start)
    ctx = make_ctx(now_ns=start + elapsed_ns, profile={"device_status_req_interval": per_day})
    assert (pending_requests(session, ctx) == [DevStatusReq()]) is due


def test_the_period_restarts_when_the_request_is_sent_not_when_it_is_chosen() -> None:
    session = make_session(last_device_status_request_ns=None)
    t0 = 7 * DAY_NS
    assert pending_requests(session, make_ctx(now_ns=t0)) == [DevStatusReq()]
    # It did not fit in that downlink: still due at the next one.
    assert pending_requests(session, make_ctx(now_ns=t0 + 1)) == [DevStatusReq()]
    record_sent(session, [DevStatusReq()], f_cnt_down=3, now_ns=t0 + 1)
    assert session.last_device_status_request_ns == t0 + 1
    # Unanswered: retried at the next downlink rather than a day later.
    handle_uplink_mac_commands(session, [], make_ctx(now_ns=t0 + 2))
    assert pending_requests(session, make_ctx(now_ns=t0 + 3)) == [DevStatusReq()]
    record_sent(session, [DevStatusReq()], f_cnt_down=4, now_ns=t0 + 3)
    handle_uplink_mac_commands(session, [DevStatusAns(200, 5)], make_ctx(now_ns=t0 + 4))
    assert pending_requests(session, make_ctx(now_ns=t0 + 3 + DAY_NS - 1)) == []
    assert pending_requests(session, make_ctx(now_ns=t0 + 3 + DAY_NS)) == [DevStatusReq()]


# --- requests derived from state ---------------------------------------------------------------


def test_rx_param_setup_when_the_network_settings_differ() -> None:
    ctx = make_ctx(settings={"rx1_dr_offset": 1, "rx2_dr": 3})
    assert pending_requests(make_session(), ctx) == [RXParamSetupReq(1, 3, 869_525_000)]


def test_rx_timing_setup_when_the_delay_differs() -> None:
    ctx = make_ctx(settings={"rx1_delay_s": 3})
    assert pending_requests(make_session(), ctx) == [RXTimingSetupReq(3)]


def test_new_channels_for_the_network_extras_and_deletion_of_unwanted_ones() -> None:
    session = make_session(
        extra_uplink_channels={
            3: ExtraChannel(867_100_000, 0, 5),  # as wanted
            4: ExtraChannel(867_900_000, 0, 5),  # wrong frequency
            7: ExtraChannel(868_800_000, 0, 5),  # not wanted at all
        },
        enabled_uplink_channels=(0, 1, 2, 3, 4, 7),
    )
    ctx = make_ctx(settings={"extra_channels": (867_100_000, 867_300_000, 867_500_000)})
    assert pending_requests(session, ctx) == [
        NewChannelReq(4, 867_300_000, 0, 5),
        NewChannelReq(5, 867_500_000, 0, 5),
        NewChannelReq(7, 0, 0, 0),
    ]


def test_new_channel_requests_are_limited_per_downlink() -> None:
    ctx = make_ctx(
        settings={"extra_channels": tuple(867_100_000 + i * 200_000 for i in range(5))},
        policy=MACPolicy(max_new_channel_requests=2),
    )
    assert [c.ch_index for c in pending_requests(make_session(), ctx)] == [3, 4]  # type: ignore[attr-defined]


def test_new_channel_and_link_adr_never_travel_together() -> None:
    # The device has an unwanted channel enabled (LinkADRReq would disable it) and a wanted
    # one missing (NewChannelReq): channels first, the mask in a later downlink.
    session = make_session(enabled_uplink_channels=(0, 1, 2, 9))
    ctx = make_ctx(settings={"extra_channels": (867_100_000,)})
    assert pending_requests(session, ctx) == [NewChannelReq(3, 867_100_000, 0, 5)]
    session.mac_command_error_count[NewChannelReq.CID] = 3
    assert pending_requests(session, ctx) == [LinkADRReq(0, 0, 0x0007, 0, 1)]


def test_tx_param_setup_only_where_devices_implement_it() -> None:
    policy = MACPolicy(tx_params=TxParams(True, False, 5))
    wanted = [TxParamSetupReq(False, True, 5)]
    assert pending_requests(make_session("AS923"), make_ctx("AS923", policy=policy)) == wanted
    old = make_session("AS923", MACVersion.LORAWAN_1_0_1)
    assert pending_requests(old, make_ctx("AS923", policy=policy)) == []
    assert pending_requests(make_session(), make_ctx(policy=policy)) == []  # EU868
    done = make_session(
        "AS923",
        uplink_dwell_time_400ms=True,
        downlink_dwell_time_400ms=False,
        uplink_max_eirp_index=5,
    )
    assert pending_requests(done, make_ctx("AS923", policy=policy)) == []


def test_rejoin_param_setup_for_1_1_sessions_until_applied() -> None:
    policy = MACPolicy(rejoin=RejoinParams(max_count_n=5, max_time_n=4))
    wanted = [RejoinParamSetupReq(max_time_n=4, max_count_n=5)]
    assert pending_requests(make_session(version=V1_1), make_ctx(policy=policy)) == wanted
    assert pending_requests(make_session(), make_ctx(policy=policy)) == []
    applied = make_session(
        version=V1_1, rejoin_request_enabled=True, rejoin_max_count_n=5, rejoin_max_time_n=4
    )
    assert pending_requests(applied, make_ctx(policy=policy)) == []


def test_ping_slot_channel_for_class_b_devices() -> None:
    policy = MACPolicy(ping_slot=PingSlotChannel(data_rate=3, frequency=869_525_000))
    class_b = make_ctx(policy=policy, profile={"supports_class_b": True})
    assert pending_requests(make_session(), class_b) == [PingSlotChannelReq(869_525_000, 3)]
    assert pending_requests(make_session(), make_ctx(policy=policy)) == []


def test_duty_cycle_until_the_device_applies_the_network_cap() -> None:
    policy = MACPolicy(max_duty_cycle=7)
    assert pending_requests(make_session(), make_ctx(policy=policy)) == [DutyCycleReq(7)]
    assert pending_requests(make_session(max_duty_cycle=7), make_ctx(policy=policy)) == []
    assert pending_requests(make_session(max_duty_cycle=7), make_ctx()) == []  # no opinion


def test_adr_param_setup_for_1_1_sessions_until_applied() -> None:
    policy = MACPolicy(adr_ack=ADRAckParams(limit_exp=8, delay_exp=4))
    wanted = [ADRParamSetupReq(8, 4)]
    assert pending_requests(make_session(version=V1_1), make_ctx(policy=policy)) == wanted
    assert pending_requests(make_session(), make_ctx(policy=policy)) == []  # 1.0.x
    applied = make_session(version=V1_1, adr_ack_limit_exp=8, adr_ack_delay_exp=4)
    assert pending_requests(applied, make_ctx(policy=policy)) == []
    defaults = MACPolicy(adr_ack=ADRAckParams(limit_exp=6, delay_exp=5))
    assert pending_requests(make_session(version=V1_1), make_ctx(policy=defaults)) == []


def test_dl_channel_moves_defined_channels_and_moves_them_back() -> None:
    policy = MACPolicy(dl_channels={1: 869_100_000, 9: 869_300_000})  # 9 is not defined
    ctx = make_ctx(policy=policy)
    assert pending_requests(make_session(), ctx) == [DlChannelReq(1, 869_100_000)]
    applied = make_session(rx1_frequencies={1: 869_100_000})
    assert pending_requests(applied, ctx) == []
    # No longer wanted: back to the channel's own frequency.
    assert pending_requests(applied, make_ctx()) == [DlChannelReq(1, 868_300_000)]
    assert pending_requests(make_session("US915"), make_ctx("US915", policy=policy)) == []


def test_beacon_frequency_for_class_b_devices() -> None:
    policy = MACPolicy(beacon_frequency=869_100_000)
    class_b = make_ctx(policy=policy, profile={"supports_class_b": True})
    assert pending_requests(make_session(), class_b) == [BeaconFreqReq(869_100_000)]
    assert pending_requests(make_session(beacon_frequency=869_100_000), class_b) == []
    assert pending_requests(make_session(), make_ctx(policy=policy)) == []  # class A only


def test_force_rejoin_when_the_counters_reach_the_threshold() -> None:
    policy = MACPolicy(force_rejoin=ForceRejoin(at_f_cnt=1000, rejoin_type=2, period=1))
    ctx = make_ctx(policy=policy)
    assert pending_requests(make_session(version=V1_1, f_cnt_up=999, dr=4), ctx) == []
    due = make_session(version=V1_1, n_f_cnt_down=1000, dr=4)
    assert pending_requests(due, ctx) == [
        ForceRejoinReq(period=1, max_retries=0, rejoin_type=2, data_rate=4)
    ]
    assert pending_requests(make_session(f_cnt_up=5000), ctx) == []  # 1.0.x cannot rejoin
    under_way = make_session(version=V1_1, f_cnt_up=5000, pending_rejoin_session=make_session())
    assert pending_requests(under_way, ctx) == []
    send(due, *pending_requests(due, ctx))
    assert pending_requests(due, ctx) == []  # awaiting the rejoin-request


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: MACPolicy(max_duty_cycle=16), "max_duty_cycle"),
        (lambda: ADRAckParams(limit_exp=16, delay_exp=0), "limit_exp"),
        (lambda: ForceRejoin(at_f_cnt=0), "at_f_cnt"),
        (lambda: ForceRejoin(at_f_cnt=10, rejoin_type=1), "rejoin_type"),
        (lambda: ForceRejoin(at_f_cnt=10, period=8), "period"),
    ],
)
def test_policy_values_are_checked(build: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        build()  # type: ignore[operator]


def test_priority_order() -> None:
    session = make_session(version=V1_1, last_device_status_request_ns=None)
    ctx = make_ctx(
        settings={"rx1_delay_s": 2, "rx1_dr_offset": 1},
        policy=MACPolicy(rejoin=RejoinParams(1, 1)),
    )
    kinds = [type(c).__name__ for c in pending_requests(session, ctx)]
    assert kinds == ["DevStatusReq", "RejoinParamSetupReq", "RXParamSetupReq", "RXTimingSetupReq"]


def test_policy_disabled_means_no_requests() -> None:
    session = make_session(last_device_status_request_ns=None)
    assert pending_requests(session, make_ctx(policy=MACPolicy(enabled=False))) == []


# --- error counts and pending requests ---------------------------------------------------------


def test_a_request_stops_after_max_mac_command_errors() -> None:
    session = make_session()
    ctx = make_ctx(settings={"rx1_delay_s": 3, "max_mac_command_errors": 2})
    for _ in range(2):
        assert pending_requests(session, ctx) == [RXTimingSetupReq(3)]
        send(session, RXTimingSetupReq(3))
        handle_uplink_mac_commands(session, [], ctx)  # no answer: one failure each
    assert session.mac_command_error_count == {RXTimingSetupReq.CID: 2}
    assert pending_requests(session, ctx) == []


def test_a_cid_awaiting_its_answer_is_not_sent_again() -> None:
    session = make_session()
    ctx = make_ctx(settings={"rx1_delay_s": 3})
    send(session, RXTimingSetupReq(3))
    assert pending_requests(session, ctx) == []  # e.g. a Class C downlink before the uplink


def test_record_sent_keeps_requests_only_and_reads_bytes_too() -> None:
    session = make_session()
    frame = encode_mac_commands([LinkCheckAns(3, 1), DutyCycleReq(2), DevStatusReq()])
    record_sent(session, frame, f_cnt_down=42, now_ns=99)
    assert sorted(session.pending_mac_requests) == [DutyCycleReq.CID, DevStatusReq.CID]
    assert session.pending_mac_requests[DutyCycleReq.CID].sent_at_f_cnt_down == 42
    assert session.last_device_status_request_ns == 99


# --- operator requests -------------------------------------------------------------------------


def test_queued_requests_follow_the_derived_ones_and_win_over_their_cid() -> None:
    session = make_session(last_device_status_request_ns=None)
    queue_request(session, duty_cycle_request(4))
    queue_request(session, DevStatusReq())
    ctx = make_ctx(settings={"rx1_delay_s": 2})
    assert pending_requests(session, ctx) == [RXTimingSetupReq(2), DutyCycleReq(4), DevStatusReq()]


def test_an_unanswered_queued_request_is_retried() -> None:
    session = make_session()
    queue_request(session, duty_cycle_request(4))
    ctx = make_ctx()
    send(session, *pending_requests(session, ctx))
    handle_uplink_mac_commands(session, [], ctx)
    assert session.pending_mac_requests[DutyCycleReq.CID].sent_at_f_cnt_down == QUEUED
    assert pending_requests(session, ctx) == [DutyCycleReq(4)]


def test_force_rejoin_is_answered_by_a_rejoin_request_not_a_mac_command() -> None:
    session = make_session(version=V1_1)
    queue_request(session, force_rejoin_request(session, EU868, rejoin_type=2, data_rate=3))
    ctx = make_ctx()
    sent = pending_requests(session, ctx)
    assert sent == [ForceRejoinReq(period=0, max_retries=0, rejoin_type=2, data_rate=3)]
    send(session, *sent)
    assert session.pending_mac_requests[ForceRejoinReq.CID].sent_at_f_cnt_down == SENT_AT
    assert rejoin_request_received(session)
    assert session.pending_mac_requests == {}
    assert not rejoin_request_received(session)  # nothing pending any more


def test_a_data_uplink_instead_of_the_forced_rejoin_is_a_failure_and_it_is_sent_again() -> None:
    session = make_session(version=V1_1)
    queue_request(session, force_rejoin_request(session, EU868, rejoin_type=0, data_rate=3))
    ctx = make_ctx()
    send(session, *pending_requests(session, ctx))
    result = handle_uplink_mac_commands(session, [], ctx)
    assert [getattr(e, "code", None) for e in result.events] == ["unanswered"]
    assert session.mac_command_error_count == {ForceRejoinReq.CID: 1}
    assert pending_requests(session, ctx) == [ForceRejoinReq(0, 0, 0, 3)]


def test_only_operator_commands_can_be_queued() -> None:
    with pytest.raises(InvalidValueError, match="cannot be queued"):
        queue_request(make_session(), RXTimingSetupReq(2))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: duty_cycle_request(16), "0..15"),
        (lambda: adr_param_setup_request(make_session(), 6, 5), "1.1"),
        (lambda: adr_param_setup_request(make_session(version=V1_1), 16, 5), "limit_exp"),
        (lambda: force_rejoin_request(make_session(), EU868, data_rate=0), "1.1"),
        (
            lambda: force_rejoin_request(
                make_session(version=V1_1), EU868, rejoin_type=1, data_rate=0
            ),
            "rejoin_type",
        ),
        (
            lambda: force_rejoin_request(make_session(version=V1_1), EU868, data_rate=12),
            "reserved",
        ),
        (lambda: dl_channel_request(make_session(), EU868, 5, 868_100_000), "no uplink channel 5"),
        (lambda: dl_channel_request(make_session(), EU868, 1, 915_000_000), "outside"),
        (
            lambda: dl_channel_request(make_session("US915"), get_region("US915"), 1, 923_300_000),
            "dynamic",
        ),
        (
            lambda: beacon_freq_request(DeviceProfile("p", "EU868"), EU868, 869_525_000),
            "Class B",
        ),
    ],
)
def test_operator_requests_are_checked(build: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        build()  # type: ignore[operator]


def test_operator_request_builders() -> None:
    session = make_session(version=V1_1)
    assert adr_param_setup_request(session, 6, 5) == ADRParamSetupReq(6, 5)
    assert dl_channel_request(session, EU868, 1, 869_525_000) == DlChannelReq(1, 869_525_000)
    class_b = DeviceProfile("p", "EU868", supports_class_b=True)
    assert beacon_freq_request(class_b, EU868, 0) == BeaconFreqReq(0)


def test_a_corrupt_queued_request_is_dropped_and_reported() -> None:
    session = make_session()
    session.pending_mac_requests[DutyCycleReq.CID] = PendingMACRequest(0x04, (b"\x04",), QUEUED)
    events: list[MACEvent] = []
    assert pending_requests(session, make_ctx(), events=events) == []
    assert session.pending_mac_requests == {}
    assert [str(getattr(e, "code", "")) for e in events] == ["malformed"]


def test_a_pending_entry_holding_another_cid_is_reported() -> None:
    session = make_session()
    session.pending_mac_requests[RXParamSetupReq.CID] = PendingMACRequest(0x05, (b"\x04\x01",), 3)
    result = handle_uplink_mac_commands(session, [RXParamSetupAns(True, True, True)], make_ctx())
    assert [str(getattr(e, "code", "")) for e in result.events] == ["malformed"]


def test_ping_slot_channel_already_set_is_not_sent() -> None:
    policy = MACPolicy(ping_slot=PingSlotChannel(data_rate=3, frequency=0))
    session = make_session(ping_slot_dr=3, ping_slot_frequency=0)
    ctx = make_ctx(policy=policy, profile={"supports_class_b": True})
    assert pending_requests(session, ctx) == []


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TxParams(False, False, 16), "max_eirp_index"),
        (lambda: RejoinParams(max_count_n=16, max_time_n=0), "max_count_n"),
        (
            lambda: force_rejoin_request(make_session(version=V1_1), EU868, data_rate=0, period=8),
            "period",
        ),
        (
            lambda: force_rejoin_request(
                make_session("US915", V1_1), get_region("US915"), data_rate=8
            ),
            "not an uplink",
        ),
        (
            lambda: beacon_freq_request(
                DeviceProfile("p", "EU868", supports_class_b=True), EU868, 915_000_000
            ),
            "outside",
        ),
    ],
)
def test_settings_are_checked(build: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        build()  # type: ignore[operator]
