"""Every MAC command, each direction: object <-> wire bytes, RFU handling, JSON, validation.

Vectors marked "brocaar" come from brocaar/lorawan mac_commands_test.go, "chirpstack" from
chirpstack/chirpstack lrwn/src/maccommand.rs (its test module); the others are worked out from
the layouts in LoRaWAN 1.0.4 / 1.1 section 5 (frequencies: Hz / 100 as 24-bit little-endian).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance.lorawan.errors import InvalidValueError, MACCommandError
from appliance.lorawan.maccommands import (
    ALL_COMMAND_CLASSES,
    MAX_FREQUENCY_HZ,
    ADRParamSetupAns,
    ADRParamSetupReq,
    BeaconFreqAns,
    BeaconFreqReq,
    BeaconTimingAns,
    BeaconTimingReq,
    DeviceModeConf,
    DeviceModeInd,
    DeviceTimeAns,
    DeviceTimeReq,
    DevStatusAns,
    DevStatusReq,
    DlChannelAns,
    DlChannelReq,
    DutyCycleAns,
    DutyCycleReq,
    ForceRejoinReq,
    LinkADRAns,
    LinkADRReq,
    LinkCheckAns,
    LinkCheckReq,
    MACCommand,
    NewChannelAns,
    NewChannelReq,
    PingSlotChannelAns,
    PingSlotChannelReq,
    PingSlotInfoAns,
    PingSlotInfoReq,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
    RekeyConf,
    RekeyInd,
    ResetConf,
    ResetInd,
    RXParamSetupAns,
    RXParamSetupReq,
    RXTimingSetupAns,
    RXTimingSetupReq,
    TxParamSetupAns,
    TxParamSetupReq,
    decode_mac_commands,
    encode_mac_commands,
)

UPLINK_VECTORS: list[tuple[MACCommand, str]] = [
    (ResetInd(minor=1), "01 01"),  # chirpstack
    (LinkCheckReq(), "02"),  # chirpstack
    (LinkADRAns(power_ack=False, data_rate_ack=False, channel_mask_ack=True), "03 01"),  # brocaar
    (LinkADRAns(power_ack=False, data_rate_ack=True, channel_mask_ack=False), "03 02"),  # brocaar
    (LinkADRAns(power_ack=True, data_rate_ack=False, channel_mask_ack=False), "03 04"),  # brocaar
    (LinkADRAns(power_ack=True, data_rate_ack=True, channel_mask_ack=True), "03 07"),  # brocaar
    (DutyCycleAns(), "04"),
    (
        RXParamSetupAns(rx1_dr_offset_ack=True, rx2_data_rate_ack=False, channel_ack=True),
        "05 05",
    ),  # chirpstack
    (RXParamSetupAns(rx1_dr_offset_ack=False, rx2_data_rate_ack=True, channel_ack=False), "05 02"),
    (DevStatusAns(battery=0, margin=-30), "06 00 22"),  # brocaar
    (DevStatusAns(battery=255, margin=30), "06 ff 1e"),  # brocaar
    (DevStatusAns(battery=127, margin=-1), "06 7f 3f"),  # brocaar
    (DevStatusAns(battery=127, margin=0), "06 7f 00"),  # brocaar
    (DevStatusAns(battery=1, margin=-32), "06 01 20"),
    (DevStatusAns(battery=254, margin=31), "06 fe 1f"),
    (NewChannelAns(data_rate_range_ok=False, channel_frequency_ok=False), "07 00"),  # brocaar
    (NewChannelAns(data_rate_range_ok=False, channel_frequency_ok=True), "07 01"),  # brocaar
    (NewChannelAns(data_rate_range_ok=True, channel_frequency_ok=False), "07 02"),  # brocaar
    (NewChannelAns(data_rate_range_ok=True, channel_frequency_ok=True), "07 03"),  # brocaar
    (RXTimingSetupAns(), "08"),  # chirpstack
    (TxParamSetupAns(), "09"),
    (DlChannelAns(uplink_frequency_exists=False, channel_frequency_ok=True), "0a 01"),  # brocaar
    (DlChannelAns(uplink_frequency_exists=True, channel_frequency_ok=False), "0a 02"),  # brocaar
    (DlChannelAns(uplink_frequency_exists=True, channel_frequency_ok=True), "0a 03"),  # brocaar
    (RekeyInd(minor=1), "0b 01"),  # brocaar
    (ADRParamSetupAns(), "0c"),
    (DeviceTimeReq(), "0d"),
    (RejoinParamSetupAns(time_ok=True), "0f 01"),  # brocaar
    (RejoinParamSetupAns(time_ok=False), "0f 00"),
    (PingSlotInfoReq(periodicity=3), "10 03"),  # brocaar
    (PingSlotInfoReq(periodicity=7), "10 07"),
    (PingSlotChannelAns(data_rate_ok=True, channel_frequency_ok=False), "11 02"),  # brocaar
    (PingSlotChannelAns(data_rate_ok=False, channel_frequency_ok=True), "11 01"),  # brocaar
    (PingSlotChannelAns(data_rate_ok=True, channel_frequency_ok=True), "11 03"),  # brocaar
    (BeaconTimingReq(), "12"),
    (BeaconFreqAns(beacon_frequency_ok=True), "13 01"),  # brocaar
    (BeaconFreqAns(beacon_frequency_ok=False), "13 00"),  # brocaar
    (DeviceModeInd(device_class=2), "20 02"),
    (DeviceModeInd(device_class=0), "20 00"),
]

DOWNLINK_VECTORS: list[tuple[MACCommand, str]] = [
    (ResetConf(minor=1), "01 01"),  # chirpstack
    (LinkCheckAns(margin=10, gw_count=15), "02 0a 0f"),  # brocaar
    (LinkCheckAns(margin=123, gw_count=234), "02 7b ea"),  # brocaar
    (
        LinkADRReq(data_rate=1, tx_power=2, ch_mask=0x0004, ch_mask_cntl=4, nb_trans=5),
        "03 12 04 00 45",
    ),  # brocaar
    # Channels 1, 2 and 13 (indexes 0, 1, 12) -> mask bytes 03 10: brocaar's ChMask test.
    (
        LinkADRReq(data_rate=5, tx_power=0, ch_mask=0x1003, ch_mask_cntl=0, nb_trans=1),
        "03 50 03 10 01",
    ),
    (
        LinkADRReq(data_rate=15, tx_power=15, ch_mask=0xFFFF, ch_mask_cntl=7, nb_trans=15),
        "03 ff ff ff 7f",
    ),
    (LinkADRReq(data_rate=0, tx_power=0, ch_mask=0, ch_mask_cntl=0, nb_trans=0), "03 00 00 00 00"),
    (DutyCycleReq(max_duty_cycle=13), "04 0d"),  # brocaar
    (DutyCycleReq(max_duty_cycle=0), "04 00"),
    (
        RXParamSetupReq(rx1_dr_offset=3, rx2_data_rate=11, frequency_hz=26_265_700),
        "05 3b 01 02 04",
    ),  # brocaar
    # EU868 RX2 default: 869.525 MHz, DR0.
    (RXParamSetupReq(rx1_dr_offset=0, rx2_data_rate=0, frequency_hz=869_525_000), "05 00 d2 ad 84"),
    (
        RXParamSetupReq(rx1_dr_offset=7, rx2_data_rate=15, frequency_hz=MAX_FREQUENCY_HZ),
        "05 7f ff ff ff",
    ),
    (DevStatusReq(), "06"),  # chirpstack
    (
        NewChannelReq(ch_index=3, frequency_hz=26_265_700, min_dr=10, max_dr=5),
        "07 03 01 02 04 5a",
    ),  # brocaar
    (NewChannelReq(ch_index=3, frequency_hz=867_100_000, min_dr=0, max_dr=5), "07 03 18 4f 84 50"),
    (NewChannelReq(ch_index=255, frequency_hz=0, min_dr=0, max_dr=0), "07 ff 00 00 00 00"),
    (
        NewChannelReq(ch_index=15, frequency_hz=MAX_FREQUENCY_HZ, min_dr=15, max_dr=15),
        "07 0f ff ff ff ff",
    ),
    (RXTimingSetupReq(delay=15), "08 0f"),  # brocaar
    (RXTimingSetupReq(delay=0), "08 00"),
    (
        TxParamSetupReq(
            downlink_dwell_time_400ms=False, uplink_dwell_time_400ms=False, max_eirp=15
        ),
        "09 0f",
    ),  # chirpstack
    (
        TxParamSetupReq(downlink_dwell_time_400ms=False, uplink_dwell_time_400ms=True, max_eirp=15),
        "09 1f",
    ),  # chirpstack
    (
        TxParamSetupReq(downlink_dwell_time_400ms=True, uplink_dwell_time_400ms=False, max_eirp=0),
        "09 20",
    ),
    (DlChannelReq(ch_index=0, frequency_hz=868_100_000), "0a 00 28 76 84"),  # brocaar
    (DlChannelReq(ch_index=1, frequency_hz=868_200_000), "0a 01 10 7a 84"),  # brocaar
    (RekeyConf(minor=1), "0b 01"),  # brocaar
    (ADRParamSetupReq(limit_exp=10, delay_exp=15), "0c af"),  # brocaar
    (DeviceTimeAns(gps_seconds=1, fraction=0), "0d 01 00 00 00 00"),  # brocaar
    (DeviceTimeAns(gps_seconds=1, fraction=2), "0d 01 00 00 00 02"),  # brocaar
    (DeviceTimeAns(gps_seconds=1_300_000_000, fraction=128), "0d 00 6d 7c 4d 80"),
    (DeviceTimeAns(gps_seconds=2**32 - 1, fraction=255), "0d ff ff ff ff ff"),
    (ForceRejoinReq(period=3, max_retries=4, rejoin_type=2, data_rate=5), "0e 25 1c"),  # brocaar
    (ForceRejoinReq(period=7, max_retries=7, rejoin_type=7, data_rate=15), "0e 7f 3f"),
    (RejoinParamSetupReq(max_time_n=14, max_count_n=15), "0f ef"),  # brocaar
    (PingSlotInfoAns(), "10"),
    (PingSlotChannelReq(frequency_hz=868_100_000, data_rate=5), "11 28 76 84 05"),  # brocaar
    (PingSlotChannelReq(frequency_hz=869_525_000, data_rate=3), "11 d2 ad 84 03"),
    (BeaconTimingAns(delay=0x1234, channel=3), "12 34 12 03"),
    (BeaconTimingAns(delay=0xFFFF, channel=0), "12 ff ff 00"),
    (BeaconFreqReq(frequency_hz=868_100_000), "13 28 76 84"),  # brocaar
    (BeaconFreqReq(frequency_hz=0), "13 00 00 00"),
    (DeviceModeConf(device_class=2), "20 02"),
]

ALL_VECTORS = [*UPLINK_VECTORS, *DOWNLINK_VECTORS]


def _id(vector: tuple[MACCommand, str]) -> str:
    return f"{vector[0].name}-{vector[1].replace(' ', '')}"


@pytest.mark.parametrize("vector", ALL_VECTORS, ids=_id)
def test_vector_encodes(vector: tuple[MACCommand, str]) -> None:
    command, wire = vector
    assert command.to_bytes() == bytes.fromhex(wire)
    assert encode_mac_commands([command]) == bytes.fromhex(wire)
    assert len(command.payload()) == command.PAYLOAD_SIZE


@pytest.mark.parametrize("vector", ALL_VECTORS, ids=_id)
def test_vector_decodes(vector: tuple[MACCommand, str]) -> None:
    command, wire = vector
    data = bytes.fromhex(wire)
    parsed = decode_mac_commands(data, uplink=command.UPLINK)
    assert parsed.commands == (command,)
    assert parsed.complete
    assert type(command).from_payload(data[1:]) == command


def test_vectors_cover_every_command_in_its_direction() -> None:
    assert {type(c) for c, _ in UPLINK_VECTORS} == {c for c in ALL_COMMAND_CLASSES if c.UPLINK}
    assert {type(c) for c, _ in DOWNLINK_VECTORS} == {
        c for c in ALL_COMMAND_CLASSES if not c.UPLINK
    }


@pytest.mark.parametrize(
    ("uplink", "wire", "expected"),
    [
        # Bits the specification marks RFU are ignored, not an error.
        (False, "04 ff", DutyCycleReq(max_duty_cycle=15)),
        (False, "03 00 00 00 ff", LinkADRReq(0, 0, 0, ch_mask_cntl=7, nb_trans=15)),
        (False, "05 ff 00 00 00", RXParamSetupReq(7, 15, 0)),
        (False, "08 f3", RXTimingSetupReq(delay=3)),
        (False, "09 c5", TxParamSetupReq(False, False, 5)),
        (False, "0e 85 c0", ForceRejoinReq(period=0, max_retries=0, rejoin_type=0, data_rate=5)),
        (False, "11 00 00 00 f2", PingSlotChannelReq(frequency_hz=0, data_rate=2)),
        (False, "01 f1", ResetConf(minor=1)),
        (True, "06 05 ff", DevStatusAns(battery=5, margin=-1)),
        (True, "06 05 df", DevStatusAns(battery=5, margin=31)),
        (True, "03 f8", LinkADRAns(False, False, False)),
        (True, "10 fd", PingSlotInfoReq(periodicity=5)),
        (True, "0b f1", RekeyInd(minor=1)),
        (True, "13 fe", BeaconFreqAns(beacon_frequency_ok=False)),
        (True, "0f fe", RejoinParamSetupAns(time_ok=False)),
        # RFU class values are carried through, for the network server to reject.
        (True, "20 01", DeviceModeInd(device_class=1)),
    ],
)
def test_rfu_bits_are_ignored(uplink: bool, wire: str, expected: MACCommand) -> None:
    assert decode_mac_commands(bytes.fromhex(wire), uplink=uplink).commands == (expected,)


@pytest.mark.parametrize("cls", ALL_COMMAND_CLASSES, ids=lambda cls: cls.__name__)
def test_class_constants(cls: type[MACCommand]) -> None:
    assert cls.name == cls.__name__
    assert cls.name.endswith(("Req", "Ans", "Ind", "Conf"))
    assert 0x01 <= cls.CID <= 0x7F
    assert isinstance(cls.UPLINK, bool)


@pytest.mark.parametrize("cls", ALL_COMMAND_CLASSES, ids=lambda cls: cls.__name__)
def test_from_payload_rejects_wrong_length(cls: type[MACCommand]) -> None:
    with pytest.raises(MACCommandError, match=f"{cls.__name__} payload must be"):
        cls.from_payload(bytes(cls.PAYLOAD_SIZE + 1))
    if cls.PAYLOAD_SIZE:
        with pytest.raises(MACCommandError):
            cls.from_payload(bytes(cls.PAYLOAD_SIZE - 1))


@pytest.mark.parametrize("vector", ALL_VECTORS, ids=_id)
def test_json_is_serialisable_and_names_the_command(vector: tuple[MACCommand, str]) -> None:
    command, _ = vector
    out = command.to_json()
    assert out["cid"] == command.CID
    assert out["name"] == command.name
    assert all(key == key.lower() for key in out)
    json.dumps(out)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            LinkADRReq(data_rate=5, tx_power=1, ch_mask=0x0007, ch_mask_cntl=0, nb_trans=1),
            {
                "cid": 3,
                "name": "LinkADRReq",
                "data_rate": 5,
                "tx_power": 1,
                "ch_mask": 7,
                "ch_mask_cntl": 0,
                "nb_trans": 1,
                "enabled_channels": [0, 1, 2],
            },
        ),
        (
            DevStatusAns(battery=0, margin=-7),
            {
                "cid": 6,
                "name": "DevStatusAns",
                "battery": 0,
                "margin": -7,
                "external_power": True,
                "battery_level": None,
            },
        ),
        (LinkCheckReq(), {"cid": 2, "name": "LinkCheckReq"}),
        (
            LinkCheckAns(margin=20, gw_count=3),
            {"cid": 2, "name": "LinkCheckAns", "margin": 20, "gw_count": 3},
        ),
        (
            NewChannelReq(ch_index=3, frequency_hz=867_100_000, min_dr=0, max_dr=5),
            {
                "cid": 7,
                "name": "NewChannelReq",
                "ch_index": 3,
                "frequency_hz": 867_100_000,
                "min_dr": 0,
                "max_dr": 5,
            },
        ),
        (
            DeviceTimeAns(gps_seconds=10, fraction=64),
            {
                "cid": 13,
                "name": "DeviceTimeAns",
                "gps_seconds": 10,
                "fraction": 64,
                "gps_time": 10.25,
            },
        ),
        (
            TxParamSetupReq(
                downlink_dwell_time_400ms=True, uplink_dwell_time_400ms=True, max_eirp=4
            ),
            {
                "cid": 9,
                "name": "TxParamSetupReq",
                "downlink_dwell_time_400ms": True,
                "uplink_dwell_time_400ms": True,
                "max_eirp": 4,
                "max_eirp_dbm": 14,
            },
        ),
        (
            DeviceModeInd(device_class=2),
            {"cid": 32, "name": "DeviceModeInd", "device_class": 2, "device_class_name": "C"},
        ),
        (
            DeviceModeConf(device_class=7),
            {"cid": 32, "name": "DeviceModeConf", "device_class": 7, "device_class_name": "RFU"},
        ),
    ],
    ids=lambda value: value.name if isinstance(value, MACCommand) else "",
)
def test_json(command: MACCommand, expected: dict[str, Any]) -> None:
    assert command.to_json() == expected


def test_derived_values() -> None:
    assert DutyCycleReq(max_duty_cycle=0).duty_cycle == 1.0
    assert DutyCycleReq(max_duty_cycle=7).duty_cycle == 1 / 128
    assert RXTimingSetupReq(delay=0).delay_seconds == 1
    assert RXTimingSetupReq(delay=1).delay_seconds == 1
    assert RXTimingSetupReq(delay=15).delay_seconds == 15
    assert TxParamSetupReq(False, False, 0).max_eirp_dbm == 8
    assert TxParamSetupReq(False, False, 15).max_eirp_dbm == 36
    assert ADRParamSetupReq(limit_exp=6, delay_exp=5).adr_ack_limit == 64
    assert ADRParamSetupReq(limit_exp=6, delay_exp=5).adr_ack_delay == 32
    assert (
        ForceRejoinReq(period=2, max_retries=0, rejoin_type=0, data_rate=0).min_period_seconds
        == 128
    )
    assert RejoinParamSetupReq(max_time_n=0, max_count_n=0).max_time_seconds == 1024
    assert RejoinParamSetupReq(max_time_n=0, max_count_n=0).max_count == 16
    assert PingSlotInfoReq(periodicity=0).ping_period_seconds == 1
    assert PingSlotInfoReq(periodicity=7).ping_period_seconds == 128
    assert BeaconTimingAns(delay=100, channel=0).delay_ms == 3000
    assert DevStatusAns(battery=255, margin=0).battery_level is None
    assert DevStatusAns(battery=1, margin=0).battery_level == 0.0
    assert DevStatusAns(battery=254, margin=0).battery_level == 1.0
    assert DeviceModeInd(device_class=0).device_class_name == "A"
    assert LinkCheckReq().direction == "uplink"
    assert LinkCheckAns(margin=0, gw_count=1).direction == "downlink"


def test_link_adr_channel_helpers() -> None:
    every = LinkADRReq(data_rate=0, tx_power=0, ch_mask=0xFFFF, ch_mask_cntl=0, nb_trans=1)
    assert every.channels == (True,) * 16
    assert every.enabled_channels == tuple(range(16))
    some = LinkADRReq(data_rate=0, tx_power=0, ch_mask=0x8001, ch_mask_cntl=0, nb_trans=1)
    assert some.enabled_channels == (0, 15)
    assert some.channels == (True, *(False,) * 14, True)
    assert LinkADRReq.mask_of([0, 1, 12]) == 0x1003
    assert LinkADRReq.mask_of(range(16)) == 0xFFFF
    assert LinkADRReq.mask_of([]) == 0
    with pytest.raises(InvalidValueError, match=r"0\.\.15, got 16"):
        LinkADRReq.mask_of([16])


def test_device_time_from_gps_time() -> None:
    assert DeviceTimeAns.from_gps_time(1 + 2 / 256) == DeviceTimeAns(gps_seconds=1, fraction=2)
    assert DeviceTimeAns.from_gps_time(10.999) == DeviceTimeAns(gps_seconds=10, fraction=255)
    assert DeviceTimeAns.from_gps_time(0) == DeviceTimeAns(gps_seconds=0, fraction=0)
    assert DeviceTimeAns(gps_seconds=3, fraction=128).gps_time == 3.5
    for bad in (-0.5, float("nan"), float("inf"), 2.0**32):
        with pytest.raises(InvalidValueError, match="DeviceTimeAns"):
            DeviceTimeAns.from_gps_time(bad)


def test_commands_are_frozen_hashable_and_slotted() -> None:
    command = LinkCheckAns(margin=1, gw_count=2)
    with pytest.raises(AttributeError):
        command.margin = 3  # type: ignore[misc]
    assert not hasattr(command, "__dict__")
    assert len({command, LinkCheckAns(margin=1, gw_count=2)}) == 1
    # Same CID and payload, different direction: not equal.
    reset_ind: MACCommand = ResetInd(minor=1)
    assert reset_ind != ResetConf(minor=1)
    assert reset_ind != RekeyInd(minor=1)
