"""Commands the device starts: LinkCheckReq, DeviceTimeReq, ResetInd, RekeyInd, DeviceModeInd,
PingSlotInfoReq (and the deprecated BeaconTimingReq), as scenario tables."""

from __future__ import annotations

import pytest

from appliance.lorawan.maccommands import (
    BeaconTimingReq,
    DeviceModeConf,
    DeviceModeInd,
    DeviceTimeAns,
    DeviceTimeReq,
    LinkCheckAns,
    LinkCheckReq,
    PingSlotInfoAns,
    PingSlotInfoReq,
    RekeyConf,
    RekeyInd,
    ResetConf,
    ResetInd,
    RXTimingSetupReq,
)
from appliance.ns.mac import DeviceClassChanged, UplinkMeta
from appliance.ns.profile import MACVersion
from appliance.ns.session import ExtraChannel, UplinkHistoryEntry
from tests.ns.test_mac_support import Scenario, check, run

V1_1 = MACVersion.LORAWAN_1_1_0
GPS_NOW = 1_400_000_000.5


def _uplink(dr: int = 0, snr: float | None = -5.0, gateways: int = 3) -> dict[str, object]:
    return {"uplink": UplinkMeta(dr=dr, max_snr=snr, gateway_count=gateways, gps_time_s=GPS_NOW)}


ABP = {"supports_otaa": False, "abp_rx1_delay_s": 2, "abp_rx1_dr_offset": 1, "abp_rx2_dr": 3}

SCENARIOS = [
    Scenario(
        "LinkCheckReq at SF12: margin over the -20 dB floor, gateway count",
        (LinkCheckReq(),),
        ctx=_uplink(dr=0, snr=-5.0, gateways=3),
        expect_answers=(LinkCheckAns(margin=15, gw_count=3),),
        expect_downlink=True,
    ),
    Scenario(
        "LinkCheckReq below the floor: margin 0",
        (LinkCheckReq(),),
        ctx=_uplink(dr=5, snr=-9.0, gateways=1),
        expect_answers=(LinkCheckAns(margin=0, gw_count=1),),
    ),
    Scenario(
        "LinkCheckReq margin rounds down to whole dB",
        (LinkCheckReq(),),
        ctx=_uplink(dr=5, snr=2.9, gateways=1),
        expect_answers=(LinkCheckAns(margin=10, gw_count=1),),
    ),
    Scenario(
        "LinkCheckReq on FSK: margin 0, the gateway count still tells it is heard",
        (LinkCheckReq(),),
        ctx=_uplink(dr=7, snr=30.0, gateways=2),
        expect_answers=(LinkCheckAns(margin=0, gw_count=2),),
    ),
    Scenario(
        "LinkCheckReq counts are capped to what the fields carry",
        (LinkCheckReq(),),
        ctx=_uplink(dr=0, snr=400.0, gateways=300),
        expect_answers=(LinkCheckAns(margin=254, gw_count=255),),
    ),
    Scenario(
        "LinkCheckReq twice in one uplink: one answer",
        (LinkCheckReq(), LinkCheckReq()),
        ctx=_uplink(),
        expect_answers=(LinkCheckAns(margin=15, gw_count=3),),
    ),
    Scenario(
        "LinkCheckReq without uplink metadata is not answered",
        (LinkCheckReq(),),
        expect_log_codes=("missing_metadata",),
        expect_downlink=False,
    ),
    Scenario(
        "DeviceTimeReq: GPS time of the uplink in 1/256 s",
        (DeviceTimeReq(),),
        ctx=_uplink(),
        expect_answers=(DeviceTimeAns(gps_seconds=1_400_000_000, fraction=128),),
    ),
    Scenario(
        "DeviceTimeReq without a reception time is not answered",
        (DeviceTimeReq(),),
        ctx={"uplink": UplinkMeta(dr=0)},
        expect_log_codes=("missing_metadata",),
        expect_downlink=False,
    ),
    Scenario(
        "answers keep the order of the requests",
        (DeviceTimeReq(), LinkCheckReq()),
        ctx=_uplink(),
        expect_answers=(
            DeviceTimeAns(gps_seconds=1_400_000_000, fraction=128),
            LinkCheckAns(margin=15, gw_count=3),
        ),
    ),
    Scenario(
        "ResetInd from an ABP device: back to its boot settings",
        (ResetInd(minor=1),),
        version=V1_1,
        session={
            "rx1_delay_s": 5,
            "rx1_dr_offset": 3,
            "rx2_dr": 0,
            "nb_trans": 3,
            "tx_power_index": 4,
            "max_supported_tx_power_index": 5,
            "extra_uplink_channels": {3: ExtraChannel(867_100_000, 0, 5)},
            "enabled_uplink_channels": (0, 1, 2, 3),
            "uplink_history": [UplinkHistoryEntry(1, 1.0, -90, 4, 1)],
        },
        pending=(RXTimingSetupReq(5),),
        ctx={"profile": ABP},
        expect_session={
            "rx1_delay_s": 2,
            "rx1_dr_offset": 1,
            "rx2_dr": 3,
            "rx2_frequency": 869_525_000,
            "nb_trans": 1,
            "tx_power_index": 0,
            "max_supported_tx_power_index": 0,
            "extra_uplink_channels": {},
            "enabled_uplink_channels": (0, 1, 2),
            "uplink_history": [],
            "pending_mac_requests": {},
            "mac_command_error_count": {},  # the pending request vanished with the reset
        },
        expect_answers=(ResetConf(minor=1),),
    ),
    Scenario(
        "ResetInd on CN470: the device's own channel plan is left as it is",
        (ResetInd(minor=1),),
        region="CN470-20A",
        version=V1_1,
        session={"enabled_uplink_channels": (0, 1, 2, 3)},
        ctx={"profile": ABP},
        expect_session={"enabled_uplink_channels": (0, 1, 2, 3), "rx1_delay_s": 2},
        expect_answers=(ResetConf(minor=1),),
    ),
    Scenario(
        "ResetInd from a device newer than the server: the server's minor",
        (ResetInd(minor=2),),
        version=V1_1,
        ctx={"profile": ABP},
        expect_answers=(ResetConf(minor=1),),
    ),
    Scenario(
        "ResetInd from an OTAA device: answered, the session kept",
        (ResetInd(minor=1),),
        version=V1_1,
        session={"rx1_delay_s": 5, "nb_trans": 2},
        expect_session={"rx1_delay_s": 5, "nb_trans": 1},
        expect_answers=(ResetConf(minor=1),),
        expect_log_codes=("info",),
    ),
    Scenario(
        "RekeyInd from a 1.1 session: RekeyConf",
        (RekeyInd(minor=1),),
        version=V1_1,
        expect_answers=(RekeyConf(minor=1),),
    ),
    Scenario(
        "RekeyInd from a 1.0 session is ignored",
        (RekeyInd(minor=1),),
        expect_log_codes=("unsupported",),
        expect_downlink=False,
    ),
    Scenario(
        "DeviceModeInd Class C: confirmed and reported",
        (DeviceModeInd(device_class=2),),
        version=V1_1,
        ctx={"profile": {"supports_class_c": True}},
        expect_answers=(DeviceModeConf(device_class=2),),
        expect_events=(DeviceClassChanged("C"),),
    ),
    Scenario(
        "DeviceModeInd Class C from a profile without Class C: confirmed, noted",
        (DeviceModeInd(device_class=2),),
        version=V1_1,
        expect_answers=(DeviceModeConf(device_class=2),),
        expect_events=(DeviceClassChanged("C"),),
        expect_log_codes=("info",),
    ),
    Scenario(
        "DeviceModeInd with a reserved class is not confirmed",
        (DeviceModeInd(device_class=1),),
        version=V1_1,
        expect_log_codes=("malformed",),
        expect_downlink=False,
    ),
    Scenario(
        "PingSlotInfoReq: 2**(7 - periodicity) slots per beacon period",
        (PingSlotInfoReq(periodicity=3),),
        expect_session={"ping_slot_nb": 16},
        expect_answers=(PingSlotInfoAns(),),
    ),
    Scenario(
        "BeaconTimingReq (deprecated) is not answered",
        (BeaconTimingReq(),),
        expect_log_codes=("unsupported",),
        expect_downlink=False,
    ),
    Scenario(
        "a downlink-direction command in an uplink list is reported",
        (LinkCheckAns(margin=1, gw_count=1),),
        expect_log_codes=("unsupported",),
        expect_downlink=False,
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_indication(scenario: Scenario) -> None:
    session, result = run(scenario)
    check(scenario, session, result)
