"""Basics Station protocol core: EUI forms, clocks, and uplink messages both ways."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance.lorawan.errors import FrameError, InvalidValueError
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import get_region
from hal.basic_station import (
    StationDataRates,
    StationMessageError,
    UplinkContext,
    format_id6,
    message_from_phy_payload,
    parse_eui,
    phy_payload_from_message,
    uplink_frame_from_message,
)
from hal.basic_station.emulator import uplink_message
from hal.basic_station.timing import (
    fine_timestamp_ns,
    gps_ns_to_unix_ns,
    make_xtime,
    rctx_radio_unit,
    unix_ns_to_gps_ns,
    xtime_micros,
    xtime_radio_unit,
    xtime_session,
)
from hal.model import CodeRate, CRCStatus, FSKModulation, LoRaModulation
from tests.lorawan.vectors import vector

GATEWAY = EUI64("0102030405060708")
EU868 = StationDataRates(get_region("EU868"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1:2:3:4", 0x0001_0002_0003_0004),
        ("::0", 0),
        ("::1", 1),
        ("::2:1", 0x2_0001),
        ("4::1", 0x0004_0000_0000_0001),
        ("4:3::", 0x0004_0003_0000_0000),
        ("12::34", 0x0012_0000_0000_0034),
        ("1::2:3", 0x0001_0000_0002_0003),
        ("EF-CD-AB-89-67-45-23-01", 0xEFCD_AB89_6745_2301),
        ("ef-cd-ab-89-67-45-23-01", 0xEFCD_AB89_6745_2301),
        ("efcdab8967452301", 0xEFCD_AB89_6745_2301),
        ("01:02:03:04:05:06:07:08", 0x0102_0304_0506_0708),
        ("123456", 0x123456),  # Station reads missing digits as leading zeros
        (" 1:2:3:4 ", 0x0001_0002_0003_0004),
        (0x0102030405060708, 0x0102030405060708),
        (-1, 0xFFFF_FFFF_FFFF_FFFF),  # a JSON int64 read as unsigned, as Station does
    ],
)
def test_eui_forms(text: object, value: int) -> None:
    assert int(parse_eui(text)) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "::",
        "12:::34",
        "1:2:3:4:5:6:7:8:9:0",
        ":12:34",
        "1::2::3",
        "12345:1:2",
        "1-2:3",
        "xyz",
        "0102030405060708090a",
        True,
        None,
        1.5,
        1 << 64,
        "1::2:3:4",
        "g:1:2:3",
    ],
)
def test_eui_refusals(text: object) -> None:
    with pytest.raises(InvalidValueError):
        parse_eui(text)


@pytest.mark.parametrize(
    ("value", "id6"),
    [
        (0x0000000000000000, "::0"),
        (0x0000000000000001, "::1"),
        (0x0000000000020001, "::2:1"),
        (0x0004000000000001, "4::1"),
        (0x0004000300000000, "4:3::"),
        (0x0004000000000000, "4::"),
        (0x0000000300020000, "0:3:2:0"),  # the last five: Station's selftest_ujenc.c
        (0x0102030405060708, "102:304:506:708"),
    ],
)
def test_id6_formatting_matches_station(value: int, id6: str) -> None:
    assert format_id6(EUI64(value)) == id6
    assert int(parse_eui(id6)) == value


def test_xtime_fields() -> None:
    xtime = make_xtime(radio_unit=3, session=0x5A, micros=123_456_789)
    assert xtime == (3 << 56) | (0x5A << 48) | 123_456_789
    assert (xtime_radio_unit(xtime), xtime_session(xtime), xtime_micros(xtime)) == (
        3,
        0x5A,
        123_456_789,
    )
    assert rctx_radio_unit(0x83) == 3
    for bad in ((128, 1, 0), (0, 0, 0), (0, 1, 1 << 48)):
        with pytest.raises(ValueError, match=r"xtime|radio"):
            make_xtime(*bad)


def test_gps_time_round_trip() -> None:
    # 2017-01-01T00:00:00Z is 1167264018 s of GPS time (18 leap seconds since 1980).
    assert unix_ns_to_gps_ns(1_483_228_800 * 10**9) == 1_167_264_018 * 10**9
    assert gps_ns_to_unix_ns(1_167_264_018 * 10**9) == 1_483_228_800 * 10**9


@pytest.mark.parametrize(
    ("gpstime_us", "fts", "expected_ns"),
    [
        (1_000_000_500_000, 500_000_123, 1_000_000 * 10**9 + 500_000_123),
        (1_000_000_000_010, 999_999_900, 999_999 * 10**9 + 999_999_900),  # previous second
        (1_000_000_999_990, 100, 1_000_001 * 10**9 + 100),  # next second
    ],
)
def test_fine_timestamp(gpstime_us: int, fts: int, expected_ns: int) -> None:
    assert fine_timestamp_ns(gpstime_us, fts) == expected_ns


def test_station_selftest_vector_both_ways() -> None:
    inputs, expected = vector("basicstation_frame_to_json")
    for kind in ("jreq", "updf", "jacc", "propdf"):
        frame = bytes.fromhex(inputs[f"{kind}_frame"])
        message = message_from_phy_payload(frame)
        assert expected[f"{kind}_json_fragment"] in json.dumps(message, separators=(",", ":"))
        if kind != "jacc":  # a join-accept is a downlink: never rebuilt as an uplink
            assert phy_payload_from_message(json.loads(json.dumps(message))) == frame


# (message fields, wire bytes): both directions are checked.
UPLINK_LAYOUTS: list[tuple[dict[str, Any], str]] = [
    (
        {
            "msgtype": "updf",
            "MHdr": 64,
            "DevAddr": -1061461,
            "FCtrl": 1,
            "FCnt": 62707,
            "FOpts": "FF",
            "FPort": 32,
            "FRMPayload": "2122",
            "MIC": -1549622880,
        },
        "40abcdefff01f3f4ff202122a0a1a2a3",
    ),
    (
        {
            "msgtype": "updf",
            "MHdr": 128,
            "DevAddr": 0x26011BDA,
            "FCtrl": 0x80,
            "FCnt": 1,
            "FOpts": "",
            "FPort": -1,
            "FRMPayload": "",
            "MIC": 0x01020304,
        },
        "80da1b012680010004030201",
    ),
    (
        {
            "msgtype": "updf",
            "MHdr": 64,
            "DevAddr": 1,
            "FCtrl": 0x03,
            "FCnt": 0xFFFF,
            "FOpts": "020304",
            "FPort": 0,
            "FRMPayload": "",
            "MIC": -1,
        },
        "400100000003ffff02030400ffffffff",
    ),
    (
        {
            "msgtype": "jreq",
            "MHdr": 0,
            "JoinEui": "EF-CD-AB-89-67-45-23-01",
            "DevEui": "EF-FD-EB-F9-E7-F5-E3-F1",
            "DevNonce": 61936,
            "MIC": -1549622880,
        },
        "000123456789abcdeff1e3f5e7f9ebfdeff0f1a0a1a2a3",
    ),
    (
        {
            "msgtype": "rejoin",
            "MHdr": 192,
            "JoinEui": "00-00-00-00-00-00-00-01",
            "DevEui": "70-B3-D5-7E-D0-00-00-01",
            "DevNonce": 2,
            "MIC": 5,
        },
        "c00100000000000000010000d07ed5b370020005000000",
    ),
    (
        {"msgtype": "propdf", "FRMPayload": "E0010203"},
        "e0010203",
    ),
]


@pytest.mark.parametrize(("fields", "wire"), UPLINK_LAYOUTS)
def test_uplink_layouts_both_ways(fields: dict[str, Any], wire: str) -> None:
    assert phy_payload_from_message(fields) == bytes.fromhex(wire)
    assert message_from_phy_payload(bytes.fromhex(wire)) == fields


def test_other_eui_spellings_and_forms_are_read() -> None:
    fields = dict(UPLINK_LAYOUTS[3][0])
    fields["JoinEUI"] = "1:2:3:4"  # Station's alternative key, ID6 form
    del fields["JoinEui"]
    assert phy_payload_from_message(fields)[1:9] == EUI64("0001000200030004").to_wire()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"DevAddr": "1"}, "bad_field:DevAddr"),
        ({"DevAddr": 1 << 32}, "bad_field:DevAddr"),
        ({"DevAddr": True}, "bad_field:DevAddr"),
        ({"DevAddr": 1.0}, "bad_field:DevAddr"),
        ({"FCnt": 65536}, "bad_field:FCnt"),
        ({"FOpts": "F"}, "bad_field:FOpts"),
        ({"FOpts": "F F"}, "bad_field:FOpts"),
        ({"FOpts": ""}, "bad_field:FOpts"),  # FOptsLen says 1
        ({"FPort": -1}, "bad_field:FRMPayload"),  # payload without a port
        ({"FPort": 256}, "bad_field:FPort"),
        ({"MHdr": 0}, "bad_field:MHdr"),
        ({"MHdr": 256}, "bad_field:MHdr"),
        ({"MIC": None}, "bad_field:MIC"),
        ({"FRMPayload": "00" * 300}, "bad_field:FRMPayload"),
        ({"FRMPayload": "00" * 242}, "bad_field:FRMPayload"),  # whole frame over 255 bytes
        ({"FRMPayload": ["00"]}, "bad_field:FRMPayload"),
    ],
)
def test_bad_data_fields_are_named(change: dict[str, Any], reason: str) -> None:
    message = {**UPLINK_LAYOUTS[0][0], **change}
    with pytest.raises(StationMessageError) as caught:
        phy_payload_from_message(message)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"msgtype": "updf"}, "missing_field:MHdr"),
        ({**UPLINK_LAYOUTS[3][0], "JoinEui": "zz"}, "bad_field:JoinEui"),
        ({**UPLINK_LAYOUTS[3][0], "DevEui": None}, "missing_field:DevEui"),
        ({**UPLINK_LAYOUTS[3][0], "DevNonce": -1}, "bad_field:DevNonce"),
        ({"msgtype": "propdf", "FRMPayload": ""}, "bad_field:FRMPayload"),
        ({"msgtype": "propdf", "FRMPayload": "40"}, "bad_field:FRMPayload"),
        ({"msgtype": "dnmsg"}, "unknown_msgtype"),
    ],
)
def test_bad_join_and_proprietary_fields(message: dict[str, Any], reason: str) -> None:
    with pytest.raises(StationMessageError) as caught:
        phy_payload_from_message(message)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "frame",
    ["", "40", "4001020304", "0001", "c0" + "00" * 18, "41" + "00" * 15, "40000000000f00000000"],
)
def test_frames_station_would_drop(frame: str) -> None:
    with pytest.raises(FrameError):
        message_from_phy_payload(bytes.fromhex(frame))


def test_uplink_frame_carries_radio_metadata() -> None:
    phy = bytes.fromhex(UPLINK_LAYOUTS[0][1])
    xtime = make_xtime(1, 7, 5_000_000)
    message = uplink_message(
        phy,
        data_rate=5,
        frequency_hz=868_300_000,
        xtime=xtime,
        rctx=1,
        gpstime_us=1_300_000_000_250_000,
        fts=250_000_042,
        rssi=-71.6,
        snr=7.25,
        rxtime=1_700_000_000.5,
    )
    frame = uplink_frame_from_message(
        message,
        gateway_id=GATEWAY,
        rates=EU868,
        uplink_id=42,
        ns_time_ns=123,
        channel_of={868_300_000: 6},
    )
    assert frame.phy_payload == phy
    assert frame.tx_info.frequency == 868_300_000
    assert frame.tx_info.modulation == LoRaModulation(125_000, 7, CodeRate.CR_4_5)
    rx = frame.rx_info
    assert (rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr, rx.channel, rx.board) == (
        GATEWAY,
        42,
        -72,
        7.25,
        6,
        1,
    )
    assert rx.crc_status is CRCStatus.CRC_OK
    assert UplinkContext.from_bytes(rx.context) == UplinkContext(rctx=1, xtime=xtime)
    assert rx.gw_time_ns == 1_700_000_000_500_000_000
    assert rx.ns_time_ns == 123
    assert rx.time_since_gps_epoch_ns == 1_300_000_000_250_000_000
    assert rx.fine_time_since_gps_epoch_ns == 1_300_000_000 * 10**9 + 250_000_042


def test_uplink_frame_without_optional_timing() -> None:
    phy = bytes.fromhex(UPLINK_LAYOUTS[3][1])
    message = uplink_message(phy, data_rate=7, frequency_hz=868_800_000)
    del message["upinfo"]["fts"], message["upinfo"]["rxtime"]
    frame = uplink_frame_from_message(
        message, gateway_id=GATEWAY, rates=EU868, uplink_id=0, ns_time_ns=0, channel_of={}
    )
    assert frame.tx_info.modulation == FSKModulation(50_000)
    rx = frame.rx_info
    assert rx.gw_time_ns is rx.time_since_gps_epoch_ns is rx.fine_time_since_gps_epoch_ns is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"DR": 8}, "bad_field:DR"),  # LR-FHSS: Station cannot receive it
        ({"DR": 16}, "bad_field:DR"),
        ({"Freq": 0}, "bad_field:Freq"),
        ({"upinfo": []}, "bad_field:upinfo"),
        ({"upinfo": {"xtime": -5}}, "bad_field:xtime"),
        ({"upinfo": {"rssi": "strong"}}, "bad_field:rssi"),
        ({"upinfo": {"snr": float("nan")}}, "bad_field:snr"),
        ({"upinfo": {"fts": 10**9}}, "bad_field:fts"),
        ({"upinfo": {"rxtime": -1}}, "bad_field:rxtime"),
    ],
)
def test_bad_radio_metadata_is_named(change: dict[str, Any], reason: str) -> None:
    message = (
        uplink_message(bytes.fromhex(UPLINK_LAYOUTS[0][1]), data_rate=0, frequency_hz=868_100_000)
        | change
    )
    with pytest.raises(StationMessageError) as caught:
        uplink_frame_from_message(
            message, gateway_id=GATEWAY, rates=EU868, uplink_id=0, ns_time_ns=0, channel_of={}
        )
    assert caught.value.reason == reason
