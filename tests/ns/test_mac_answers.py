"""Answers to the network's requests, one scenario per outcome (ChirpStack-style tables):
stored session and pending requests, the uplink's commands, the expected session, answers
and events. LinkADRAns has its own file."""

from __future__ import annotations

import pytest

from appliance.lorawan.maccommands import (
    ADRParamSetupAns,
    ADRParamSetupReq,
    BeaconFreqAns,
    BeaconFreqReq,
    DevStatusAns,
    DevStatusReq,
    DlChannelAns,
    DlChannelReq,
    DutyCycleAns,
    DutyCycleReq,
    NewChannelAns,
    NewChannelReq,
    PingSlotChannelAns,
    PingSlotChannelReq,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
    RXParamSetupAns,
    RXParamSetupReq,
    RXTimingSetupAns,
    RXTimingSetupReq,
    TxParamSetupAns,
    TxParamSetupReq,
)
from appliance.ns.mac import (
    QUEUED,
    DeviceStatus,
    MACPolicy,
    RequestAcknowledged,
    handle_uplink_mac_commands,
)
from appliance.ns.profile import MACVersion
from appliance.ns.session import ExtraChannel, PendingMACRequest
from tests.ns.test_mac_support import Scenario, check, make_ctx, make_session, run, send

V1_1 = MACVersion.LORAWAN_1_1_0
RX_PARAM = RXParamSetupReq(rx1_dr_offset=2, rx2_data_rate=3, frequency_hz=869_525_000)
NEW_4 = NewChannelReq(3, 867_100_000, 0, 5)
NEW_5 = NewChannelReq(4, 867_300_000, 0, 5)
PING = PingSlotChannelReq(frequency_hz=869_525_000, data_rate=3)

SCENARIOS = [
    Scenario(
        "RXParamSetupAns ACK applies the request and clears the error count",
        (RXParamSetupAns(True, True, True),),
        session={"mac_command_error_count": {0x05: 1}},
        pending=(RX_PARAM,),
        expect_session={
            "rx1_dr_offset": 2,
            "rx2_dr": 3,
            "rx2_frequency": 869_525_000,
            "mac_command_error_count": {},
            "pending_mac_requests": {},
        },
        expect_events=(RequestAcknowledged(0x05, (RX_PARAM,)),),
        expect_downlink=True,  # sticky: the device repeats it until it hears a downlink
    ),
    Scenario(
        "RXParamSetupAns NACK changes nothing and counts an error",
        (RXParamSetupAns(True, False, True),),
        pending=(RX_PARAM,),
        expect_session={"rx1_dr_offset": 0, "rx2_dr": 0, "mac_command_error_count": {0x05: 1}},
        expect_log_codes=("rejected",),
        expect_downlink=True,
    ),
    Scenario(
        "a repeated RXParamSetupAns with nothing pending is ignored but still wants a downlink",
        (RXParamSetupAns(True, True, True),),
        expect_session={"rx1_dr_offset": 0, "mac_command_error_count": {}},
        expect_log_codes=("unexpected_answer",),
        expect_downlink=True,
    ),
    Scenario(
        "RXTimingSetupAns applies the delay",
        (RXTimingSetupAns(),),
        pending=(RXTimingSetupReq(3),),
        expect_session={"rx1_delay_s": 3},
        expect_events=(RequestAcknowledged(0x08, (RXTimingSetupReq(3),)),),
        expect_downlink=True,
    ),
    Scenario(
        "RXTimingSetupReq delay 0 means one second",
        (RXTimingSetupAns(),),
        session={"rx1_delay_s": 5},
        pending=(RXTimingSetupReq(0),),
        expect_session={"rx1_delay_s": 1},
        expect_events=(RequestAcknowledged(0x08, (RXTimingSetupReq(0),)),),
    ),
    Scenario(
        "TxParamSetupAns applies dwell times and max EIRP",
        (TxParamSetupAns(),),
        region="AS923",
        pending=(TxParamSetupReq(True, True, 5),),
        expect_session={
            "uplink_dwell_time_400ms": True,
            "downlink_dwell_time_400ms": True,
            "uplink_max_eirp_index": 5,
        },
        expect_events=(RequestAcknowledged(0x09, (TxParamSetupReq(True, True, 5),)),),
        expect_downlink=False,
    ),
    Scenario(
        "DutyCycleAns is the acknowledgement: the session records the cap",
        (DutyCycleAns(),),
        pending=(DutyCycleReq(7),),
        expect_session={"max_duty_cycle": 7},
        expect_events=(RequestAcknowledged(0x04, (DutyCycleReq(7),)),),
        expect_downlink=False,
    ),
    Scenario(
        "DevStatusAns becomes a status event",
        (DevStatusAns(battery=128, margin=-3),),
        pending=(DevStatusReq(),),
        expect_events=(
            DeviceStatus(battery=128, margin=-3, external_power=False, battery_level_percent=50.2),
            RequestAcknowledged(0x06, (DevStatusReq(),)),
        ),
    ),
    Scenario(
        "DevStatusAns on external power",
        (DevStatusAns(battery=0, margin=20),),
        pending=(DevStatusReq(),),
        expect_events=(
            DeviceStatus(battery=0, margin=20, external_power=True, battery_level_percent=None),
            RequestAcknowledged(0x06, (DevStatusReq(),)),
        ),
    ),
    Scenario(
        "DevStatusAns of a device that cannot measure",
        (DevStatusAns(battery=255, margin=0),),
        pending=(DevStatusReq(),),
        expect_events=(
            DeviceStatus(battery=255, margin=0, external_power=False, battery_level_percent=None),
            RequestAcknowledged(0x06, (DevStatusReq(),)),
        ),
    ),
    Scenario(
        "NewChannelAns accepts both channels: defined and enabled",
        (NewChannelAns(True, True), NewChannelAns(True, True)),
        pending=(NEW_4, NEW_5),
        expect_session={
            "extra_uplink_channels": {
                3: ExtraChannel(867_100_000, 0, 5),
                4: ExtraChannel(867_300_000, 0, 5),
            },
            "enabled_uplink_channels": (0, 1, 2, 3, 4),
        },
        expect_events=(RequestAcknowledged(0x07, (NEW_4, NEW_5)),),
    ),
    Scenario(
        "NewChannelAns refuses one channel: the other is kept, one error counted",
        (NewChannelAns(True, True), NewChannelAns(False, True)),
        pending=(NEW_4, NEW_5),
        expect_session={
            "extra_uplink_channels": {3: ExtraChannel(867_100_000, 0, 5)},
            "enabled_uplink_channels": (0, 1, 2, 3),
            "mac_command_error_count": {0x07: 1},
        },
        expect_log_codes=("rejected", "info"),
    ),
    Scenario(
        "NewChannelAns count mismatch: nothing applied",
        (NewChannelAns(True, True),),
        pending=(NEW_4, NEW_5),
        expect_session={"extra_uplink_channels": {}, "mac_command_error_count": {0x07: 1}},
        expect_log_codes=("malformed",),
    ),
    Scenario(
        "NewChannelReq with frequency 0 deletes the channel",
        (NewChannelAns(True, True),),
        session={
            "extra_uplink_channels": {3: ExtraChannel(867_100_000, 0, 5)},
            "enabled_uplink_channels": (0, 1, 2, 3),
        },
        pending=(NewChannelReq(3, 0, 0, 0),),
        expect_session={"extra_uplink_channels": {}, "enabled_uplink_channels": (0, 1, 2)},
        expect_events=(RequestAcknowledged(0x07, (NewChannelReq(3, 0, 0, 0),)),),
    ),
    Scenario(
        "DlChannelAns ACK: the channel's RX1 frequency moves",
        (DlChannelAns(uplink_frequency_exists=True, channel_frequency_ok=True),),
        pending=(DlChannelReq(1, 869_525_000),),
        expect_session={"rx1_frequencies": {1: 869_525_000}},
        expect_events=(RequestAcknowledged(0x0A, (DlChannelReq(1, 869_525_000),)),),
        expect_downlink=True,
    ),
    Scenario(
        "DlChannelAns NACK",
        (DlChannelAns(uplink_frequency_exists=False, channel_frequency_ok=True),),
        pending=(DlChannelReq(1, 869_525_000),),
        expect_session={"mac_command_error_count": {0x0A: 1}, "rx1_frequencies": {}},
        expect_log_codes=("rejected",),
        expect_downlink=True,
    ),
    Scenario(
        "DlChannelAns back to the uplink frequency: the default mapping again",
        (DlChannelAns(uplink_frequency_exists=True, channel_frequency_ok=True),),
        session={"rx1_frequencies": {1: 869_525_000}},
        pending=(DlChannelReq(1, 868_300_000),),
        expect_session={"rx1_frequencies": {}},
        expect_events=(RequestAcknowledged(0x0A, (DlChannelReq(1, 868_300_000),)),),
    ),
    Scenario(
        "DlChannelAns pair with their requests: one accepted, one refused",
        (DlChannelAns(True, True), DlChannelAns(True, False)),
        pending=(DlChannelReq(0, 869_100_000), DlChannelReq(1, 869_300_000)),
        expect_session={"rx1_frequencies": {0: 869_100_000}, "mac_command_error_count": {0x0A: 1}},
        expect_log_codes=("rejected", "info"),
    ),
    Scenario(
        "DlChannelAns count mismatch: nothing applied",
        (DlChannelAns(True, True),),
        pending=(DlChannelReq(0, 869_100_000), DlChannelReq(1, 869_300_000)),
        expect_session={"rx1_frequencies": {}, "mac_command_error_count": {0x0A: 1}},
        expect_log_codes=("malformed",),
    ),
    Scenario(
        "NewChannelReq redefining a channel puts its RX1 back on the default mapping",
        (NewChannelAns(True, True),),
        session={"rx1_frequencies": {3: 869_100_000}},
        pending=(NEW_4,),
        expect_session={"rx1_frequencies": {}},
        expect_events=(RequestAcknowledged(0x07, (NEW_4,)),),
    ),
    Scenario(
        "ADRParamSetupAns is the acknowledgement: the session records the exponents",
        (ADRParamSetupAns(),),
        version=V1_1,
        pending=(ADRParamSetupReq(8, 3),),
        expect_session={"adr_ack_limit_exp": 8, "adr_ack_delay_exp": 3},
        expect_events=(RequestAcknowledged(0x0C, (ADRParamSetupReq(8, 3),)),),
    ),
    Scenario(
        "RejoinParamSetupAns enables rejoin requests",
        (RejoinParamSetupAns(time_ok=True),),
        version=V1_1,
        pending=(RejoinParamSetupReq(max_time_n=4, max_count_n=5),),
        expect_session={
            "rejoin_request_enabled": True,
            "rejoin_max_time_n": 4,
            "rejoin_max_count_n": 5,
        },
        expect_events=(RequestAcknowledged(0x0F, (RejoinParamSetupReq(4, 5),)),),
    ),
    Scenario(
        "RejoinParamSetupAns without the time limit is still an acceptance",
        (RejoinParamSetupAns(time_ok=False),),
        version=V1_1,
        pending=(RejoinParamSetupReq(max_time_n=4, max_count_n=5),),
        expect_session={"rejoin_request_enabled": True, "mac_command_error_count": {}},
        expect_events=(RequestAcknowledged(0x0F, (RejoinParamSetupReq(4, 5),)),),
        expect_log_codes=("info",),
    ),
    Scenario(
        "PingSlotChannelAns ACK",
        (PingSlotChannelAns(data_rate_ok=True, channel_frequency_ok=True),),
        pending=(PING,),
        expect_session={"ping_slot_dr": 3, "ping_slot_frequency": 869_525_000},
        expect_events=(RequestAcknowledged(0x11, (PING,)),),
    ),
    Scenario(
        "PingSlotChannelAns NACK",
        (PingSlotChannelAns(data_rate_ok=False, channel_frequency_ok=False),),
        pending=(PING,),
        expect_session={"ping_slot_dr": 0, "mac_command_error_count": {0x11: 1}},
        expect_log_codes=("rejected",),
    ),
    Scenario(
        "BeaconFreqAns ACK: the session records the frequency",
        (BeaconFreqAns(beacon_frequency_ok=True),),
        pending=(BeaconFreqReq(869_100_000),),
        expect_session={"beacon_frequency": 869_100_000},
        expect_events=(RequestAcknowledged(0x13, (BeaconFreqReq(869_100_000),)),),
    ),
    Scenario(
        "BeaconFreqAns NACK",
        (BeaconFreqAns(beacon_frequency_ok=False),),
        pending=(BeaconFreqReq(869_100_000),),
        expect_session={"mac_command_error_count": {0x13: 1}, "beacon_frequency": 0},
        expect_log_codes=("rejected",),
    ),
    Scenario(
        "the error that reaches max_mac_command_errors also says the request stops",
        (RXParamSetupAns(False, False, False),),
        session={"mac_command_error_count": {0x05: 2}},
        pending=(RX_PARAM,),
        expect_session={"mac_command_error_count": {0x05: 3}},
        expect_log_codes=("rejected", "giving_up"),
    ),
    Scenario(
        "an uplink without the answer: one failure, the wait ends",
        (),
        pending=(RXTimingSetupReq(3),),
        expect_session={
            "rx1_delay_s": 1,
            "mac_command_error_count": {0x08: 1},
            "pending_mac_requests": {},
        },
        expect_log_codes=("unanswered",),
        expect_downlink=False,
    ),
    Scenario(
        "an unanswered operator request goes back to the queue",
        (),
        pending=(DutyCycleReq(7),),
        expect_session={
            "mac_command_error_count": {0x04: 1},
            "pending_mac_requests": {0x04: PendingMACRequest(0x04, (b"\x04\x07",), QUEUED)},
        },
        expect_log_codes=("unanswered",),
    ),
    Scenario(
        "an unanswered operator request at the maximum is dropped",
        (),
        session={"mac_command_error_count": {0x04: 2}},
        pending=(DutyCycleReq(7),),
        expect_session={"mac_command_error_count": {0x04: 3}, "pending_mac_requests": {}},
        expect_log_codes=("unanswered", "giving_up"),
    ),
    Scenario(
        "two answers, two requests: each matched with its own",
        (DutyCycleAns(), RXTimingSetupAns()),
        pending=(DutyCycleReq(1), RXTimingSetupReq(2)),
        expect_session={"rx1_delay_s": 2, "pending_mac_requests": {}},
        expect_events=(
            RequestAcknowledged(0x04, (DutyCycleReq(1),)),
            RequestAcknowledged(0x08, (RXTimingSetupReq(2),)),
        ),
    ),
    Scenario(
        "MAC commands disabled: nothing is handled",
        (RXTimingSetupAns(),),
        pending=(RXTimingSetupReq(3),),
        ctx={"policy": MACPolicy(enabled=False)},
        expect_session={"rx1_delay_s": 1, "mac_command_error_count": {}},
        expect_downlink=False,
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_answer(scenario: Scenario) -> None:
    session, result = run(scenario)
    check(scenario, session, result)


def test_an_answer_to_a_request_still_queued_is_unexpected() -> None:
    session = make_session()
    session.pending_mac_requests[0x04] = PendingMACRequest(0x04, (b"\x04\x07",), QUEUED)
    result = handle_uplink_mac_commands(session, [DutyCycleAns()], make_ctx())
    assert [str(e.code) for e in result.events if hasattr(e, "code")] == ["unexpected_answer"]
    assert session.pending_mac_requests[0x04].sent_at_f_cnt_down == QUEUED


def test_corrupt_pending_bytes_are_reported_not_raised() -> None:
    session = make_session()
    session.pending_mac_requests[0x05] = PendingMACRequest(0x05, (b"\x05\x01",), 3)
    result = handle_uplink_mac_commands(session, [RXParamSetupAns(True, True, True)], make_ctx())
    assert [str(e.code) for e in result.events if hasattr(e, "code")] == ["malformed"]
    assert session.pending_mac_requests == {}


def test_a_later_request_replaces_the_pending_one_of_its_cid() -> None:
    session = make_session()
    send(session, RXTimingSetupReq(2))
    send(session, RXTimingSetupReq(4), f_cnt_down=11)
    handle_uplink_mac_commands(session, [RXTimingSetupAns()], make_ctx())
    assert session.rx1_delay_s == 4
