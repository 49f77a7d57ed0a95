"""rxpk and stat JSON to the frame model: one test per field variant real forwarders send."""

from __future__ import annotations

import base64
import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    CRCStatus,
    FSKModulation,
    GatewayStats,
    Location,
    LocationSource,
    LoRaModulation,
    LRFHSSModulation,
    UplinkFrame,
)
from hal.semtech_udp import DropReason, PacketError, stats_from_stat, uplinks_from_rxpk
from hal.semtech_udp.timestamps import (
    TmstWidener,
    format_compact,
    format_expanded,
    parse_utc_ns,
)

GW = EUI64("0102030405060708")
PAYLOAD = bytes(range(32))
DATA = base64.b64encode(PAYLOAD).decode()

# The sx1302 forwarder's example rxpk (packet_forwarder/PROTOCOL.md), with a real payload.
SX1302 = {
    "jver": 1,
    "tmst": 3512348611,
    "time": "2020-10-01T09:30:52.592567Z",
    "tmms": 1285579871592,
    "ftime": 85224290,
    "chan": 2,
    "rfch": 0,
    "freq": 866.349812,
    "mid": 3,
    "stat": 1,
    "modu": "LORA",
    "datr": "SF7BW125",
    "codr": "4/6",
    "rssi": -35,
    "rssis": -38,
    "lsnr": 5.1,
    "foff": -3313,
    "size": 32,
    "data": DATA,
}


def convert(entry: dict[str, Any], **changes: Any) -> list[UplinkFrame]:
    entry = {**entry, **changes}
    for key in [k for k, v in entry.items() if v is None]:
        del entry[key]
    return uplinks_from_rxpk(entry, GW, uplink_id=7, ns_time_ns=123)


def one(entry: dict[str, Any], **changes: Any) -> UplinkFrame:
    frames = convert(entry, **changes)
    assert len(frames) == 1
    return frames[0]


def test_sx1302_rxpk_maps_every_field() -> None:
    frame = one(SX1302)
    assert frame.phy_payload == PAYLOAD
    assert frame.tx_info.frequency == 866_349_812
    assert frame.tx_info.modulation == LoRaModulation(125_000, 7, CodeRate.CR_4_6)
    rx = frame.rx_info
    assert (rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr) == (GW, 7, -35, 5.1)
    assert (rx.channel, rx.rf_chain, rx.board, rx.antenna) == (2, 0, 0, 0)
    assert rx.context == (3512348611).to_bytes(4, "big")
    assert rx.crc_status is CRCStatus.CRC_OK
    assert rx.gw_time_ns == 1_601_544_652_592_567_000
    assert rx.ns_time_ns == 123
    assert rx.time_since_gps_epoch_ns == 1_285_579_871_592_000_000
    # ftime replaces the sub-second part of tmms
    assert rx.fine_time_since_gps_epoch_ns == 1_285_579_871_085_224_290
    assert rx.metadata == {"jver": "1", "mid": "3", "foff": "-3313", "rssis": "-38"}


def test_legacy_rxpk_with_tmst_only() -> None:
    rx = one(SX1302, time=None, tmms=None, ftime=None, jver=None, mid=None, foff=None).rx_info
    assert rx.gw_time_ns is None
    assert rx.time_since_gps_epoch_ns is None
    assert rx.fine_time_since_gps_epoch_ns is None
    assert rx.metadata == {"rssis": "-38"}


def test_ftime_without_gps_time_is_kept_as_metadata() -> None:
    rx = one(SX1302, tmms=None).rx_info
    assert rx.fine_time_since_gps_epoch_ns is None
    assert rx.metadata["ftime"] == "85224290"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-03-31T16:21:17.528002Z", 1_364_746_877_528_002_000),
        ("2013-03-31T16:21:17.528002123Z", 1_364_746_877_528_002_123),
        ("2013-03-31T16:21:17Z", 1_364_746_877_000_000_000),
        ("2013-03-31T16:21:17.5", 1_364_746_877_500_000_000),
        ("20130331T162117.528002Z", 1_364_746_877_528_002_000),
        ("2013-03-31T18:21:17.528002+02:00", 1_364_746_877_528_002_000),
        ("2014-01-12 08:59:28 GMT", 1_389_517_168_000_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000_000),
        ("", None),
        ("yesterday", None),
        ("2013-02-30T00:00:00Z", None),
        ("2013-13-01T00:00:00Z", None),
        ("2013-03-31T24:00:00Z", None),
        ("2013-03-31T16:21:60Z", None),
        ("2013-03-31T16:21:17+25:00", None),
    ],
)
def test_time_forms(text: str, expected: int | None) -> None:
    assert parse_utc_ns(text) == expected


def test_time_formats_round_trip() -> None:
    ns = 1_364_746_877_528_002_000
    assert format_compact(ns) == "2013-03-31T16:21:17.528002Z"
    assert parse_utc_ns(format_expanded(ns)) == ns - 528_002_000


def test_unreadable_time_is_dropped_not_the_frame() -> None:
    assert one(SX1302, time="not a time").rx_info.gw_time_ns is None


def test_tmst_widening_across_the_32_bit_wrap() -> None:
    widener = TmstWidener()
    assert widener.widen(0xFFFF_FF00) == 0xFFFF_FF00
    assert widener.widen(0x0000_0100) == 0x1_0000_0100  # wrapped: the count goes on
    assert widener.widen(0x0000_00F0) == 0x1_0000_00F0  # a little earlier: reordered
    assert widener.widen(0x0000_0200) == 0x1_0000_0200
    assert widener.widen(0xFFFF_FFFF) == 0xFFFF_FFFF  # 513 µs before the last: reordered
    widener = TmstWidener()
    frames = [
        uplinks_from_rxpk({**SX1302, "tmst": t}, GW, uplink_id=1, ns_time_ns=0, widener=widener)[0]
        for t in (0xFFFF_FFFF, 5)
    ]
    assert [f.rx_info.context for f in frames] == [b"\xff\xff\xff\xff", b"\x00\x00\x00\x05"]
    assert [f.rx_info.metadata["tmst64"] for f in frames] == [str(0xFFFF_FFFF), str(0x1_0000_0005)]


def test_rsig_gives_one_frame_per_antenna() -> None:
    rsig = [
        {"ant": 0, "chan": 1, "rssic": -50, "lsnr": 7.5, "etime": "K4Nm0qJ7dE4=", "foff": -12},
        {"ant": 1, "chan": 9, "rssic": -61, "lsnr": -2.25},
    ]
    frames = convert(SX1302, rsig=rsig, rssi=None, rssis=None, lsnr=None)
    assert [(f.rx_info.antenna, f.rx_info.channel) for f in frames] == [(0, 1), (1, 9)]
    assert [(f.rx_info.rssi, f.rx_info.snr) for f in frames] == [(-50, 7.5), (-61, -2.25)]
    assert frames[0].rx_info.metadata["etime"] == "K4Nm0qJ7dE4="
    assert frames[0].rx_info.metadata["foff"] == "-12"
    assert frames[1].rx_info.metadata["foff"] == "-3313"  # the entry's value where none given
    assert {f.rx_info.uplink_id for f in frames} == {7}
    assert frames[0].phy_payload == frames[1].phy_payload == PAYLOAD


def test_empty_rsig_is_a_single_reception() -> None:
    assert len(convert(SX1302, rsig=[])) == 1


def test_signal_rssi_stands_in_when_channel_rssi_is_missing() -> None:
    assert one(SX1302, rssi=None).rx_info.rssi == -38


@pytest.mark.parametrize(
    ("freq", "hz"),
    [(868.1, 868_100_000), (923.3, 923_300_000), (867.8875, 867_887_500), (2403.0, 2_403_000_000)],
)
def test_frequency_is_exact_hz(freq: float, hz: int) -> None:
    assert one(SX1302, freq=freq).tx_info.frequency == hz


def test_fsk_numeric_datarate() -> None:
    fsk = {
        "tmst": 1,
        "freq": 868.8,
        "stat": 1,
        "modu": "FSK",
        "datr": 50000,
        "rssi": -75,
        "size": 32,
        "data": DATA,
        "chan": 9,
        "rfch": 1,
    }
    frame = one(fsk)
    assert frame.tx_info.modulation == FSKModulation(50_000)
    assert frame.rx_info.snr == 0.0
    assert one(fsk, datr="50000").tx_info.modulation == FSKModulation(50_000)


@pytest.mark.parametrize(
    ("codr", "rate"),
    [
        ("4/5", CodeRate.CR_4_5),
        ("4/8", CodeRate.CR_4_8),
        ("OFF", CodeRate.UNDEFINED),
        (None, CodeRate.UNDEFINED),
        ("4/5LI", CodeRate.CR_LI_4_5),
        ("4/6li", CodeRate.CR_LI_4_6),
        ("4/8LI", CodeRate.CR_LI_4_8),
    ],
)
def test_coding_rates(codr: str | None, rate: CodeRate) -> None:
    modulation = one(SX1302, codr=codr).tx_info.modulation
    assert isinstance(modulation, LoRaModulation)
    assert modulation.code_rate is rate


@pytest.mark.parametrize(
    ("datr", "bandwidth", "sf"),
    [
        ("SF12BW500", 500_000, 12),
        ("SF5BW250", 250_000, 5),
        ("SF12BW812", 812_500, 12),
        ("SF9BW812.5", 812_500, 9),
        ("SF7BW1625", 1_625_000, 7),
    ],
)
def test_lora_datarates(datr: str, bandwidth: int, sf: int) -> None:
    modulation = one(SX1302, datr=datr).tx_info.modulation
    assert modulation == LoRaModulation(bandwidth, sf, CodeRate.CR_4_6)


def test_lr_fhss_datarate() -> None:
    modulation = one(SX1302, datr="M0CW137", codr="1/3", hpw=8).tx_info.modulation
    assert modulation == LRFHSSModulation(137_000, CodeRate.CR_2_6, 8)


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        (1, CRCStatus.CRC_OK),
        (-1, CRCStatus.BAD_CRC),
        (0, CRCStatus.NO_CRC),
        (None, CRCStatus.NO_CRC),
    ],
)
def test_crc_status(stat: int | None, status: CRCStatus) -> None:
    assert one(SX1302, stat=stat).rx_info.crc_status is status


def test_unpadded_base64_is_accepted() -> None:
    assert one(SX1302, data=DATA.rstrip("=")).phy_payload == PAYLOAD


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"data": "not base64!"}, DropReason.BAD_BASE64),
        ({"data": "A"}, DropReason.BAD_BASE64),
        ({"data": None}, DropReason.BAD_RXPK),
        ({"data": 12}, DropReason.BAD_RXPK),
        ({"size": 31}, DropReason.SIZE_MISMATCH),
        ({"size": "32"}, DropReason.SIZE_MISMATCH),
        ({"freq": None}, DropReason.BAD_RXPK),
        ({"freq": "868.1"}, DropReason.BAD_RXPK),
        ({"freq": True}, DropReason.BAD_RXPK),
        ({"freq": -868.1}, DropReason.ABSURD_VALUE),
        ({"freq": 1e308}, DropReason.ABSURD_VALUE),
        ({"freq": float("nan")}, DropReason.ABSURD_VALUE),
        ({"rssi": 1000}, DropReason.ABSURD_VALUE),
        ({"rssi": -35.5}, DropReason.ABSURD_VALUE),
        ({"lsnr": float("inf")}, DropReason.ABSURD_VALUE),
        ({"tmst": -1}, DropReason.ABSURD_VALUE),
        ({"tmst": 1 << 32}, DropReason.ABSURD_VALUE),
        ({"ftime": 1_000_000_000}, DropReason.ABSURD_VALUE),
        ({"stat": 2}, DropReason.ABSURD_VALUE),
        ({"chan": [1]}, DropReason.BAD_RXPK),
        ({"foff": 1e12}, DropReason.ABSURD_VALUE),
        ({"datr": "SF13BW125"}, DropReason.BAD_DATARATE),
        ({"datr": "SF7BW100"}, DropReason.BAD_DATARATE),
        ({"datr": "fast"}, DropReason.BAD_DATARATE),
        ({"datr": [7]}, DropReason.BAD_DATARATE),
        ({"datr": 5}, DropReason.BAD_DATARATE),
        ({"datr": None}, DropReason.BAD_DATARATE),
        ({"codr": "5/4"}, DropReason.BAD_CODERATE),
        ({"codr": 45}, DropReason.BAD_CODERATE),
        ({"rsig": {"ant": 0}}, DropReason.BAD_RXPK),
        ({"rsig": [1, 2]}, DropReason.BAD_RXPK),
        ({"rsig": [{"ant": 0}] * 17}, DropReason.BAD_RXPK),
        ({"rsig": [{"ant": 300}]}, DropReason.ABSURD_VALUE),
    ],
)
def test_bad_fields_drop_the_entry_with_a_reason(
    changes: dict[str, Any], reason: DropReason
) -> None:
    # A None value removes the field.
    with pytest.raises(PacketError) as caught:
        convert(SX1302, **changes)
    assert caught.value.reason is reason


def test_custom_meta_is_kept_as_text_and_bounded() -> None:
    meta = {f"k{i}": f"v{i}" for i in range(40)} | {"number": 5}
    rx = one(SX1302, meta=meta).rx_info
    assert rx.metadata["k0"] == "v0"
    assert "number" not in rx.metadata
    assert sum(key.startswith("k") for key in rx.metadata) == 32


STAT = {
    "time": "2014-01-12 08:59:28 GMT",
    "lati": 46.24,
    "long": 3.2523,
    "alti": 145,
    "rxnb": 2,
    "rxok": 1,
    "rxfw": 2,
    "ackr": 100.0,
    "dwnb": 3,
    "txnb": 4,
    "temp": 23.2,
}


def test_stat_to_gateway_stats() -> None:
    assert stats_from_stat(STAT, GW) == GatewayStats(
        gateway_id=GW,
        time_ns=1_389_517_168_000_000_000,
        location=Location(46.24, 3.2523, 145.0, LocationSource.GPS),
        rx_packets_received=2,
        rx_packets_received_ok=1,
        tx_packets_received=3,
        tx_packets_emitted=4,
        metadata={"rxfw": "2", "ackr": "100.0", "temp": "23.2"},
    )


def test_stat_without_position_has_no_location() -> None:
    stats = stats_from_stat({"rxnb": 1}, GW)
    assert stats.location is None
    assert stats.time_ns is None
    assert stats.rx_packets_received == 1


@pytest.mark.parametrize(
    "stat",
    [[1], {**STAT, "lati": 91.0}, {**STAT, "rxnb": -1}, {**STAT, "temp": "hot"}],
)
def test_bad_stat(stat: object) -> None:
    with pytest.raises(PacketError) as caught:
        stats_from_stat(stat, GW)
    assert caught.value.reason is DropReason.BAD_STAT


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
rxpk_keys = st.sampled_from([*sorted(SX1302), "rsig", "meta", "hpw", "brd"])


@given(st.dictionaries(rxpk_keys, json_values, max_size=8))
def test_random_rxpk_fields_convert_or_raise_packet_error(changes: dict[str, Any]) -> None:
    entry = {**SX1302, **changes}
    try:
        frames = uplinks_from_rxpk(entry, GW, uplink_id=1, ns_time_ns=0, widener=TmstWidener())
    except PacketError:
        return
    assert frames


@given(json_values)
def test_random_json_never_escapes(value: object) -> None:
    for convert_one in (
        lambda: uplinks_from_rxpk(value, GW, uplink_id=1, ns_time_ns=0),
        lambda: stats_from_stat(value, GW),
    ):
        with contextlib.suppress(PacketError):
            convert_one()


@given(st.text(max_size=40))
def test_random_time_text_never_raises(text: str) -> None:
    parse_utc_ns(text)


@given(st.integers(0, (1 << 32) - 1), st.lists(st.integers(0, 10_000_000), max_size=20))
def test_widened_tmst_matches_the_true_count(start: int, steps: list[int]) -> None:
    widener = TmstWidener()
    true = start
    assert widener.widen(start) == start
    for step in steps:
        true += step
        assert widener.widen(true % (1 << 32)) == true
