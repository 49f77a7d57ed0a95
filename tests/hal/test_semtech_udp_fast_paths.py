"""The per-uplink fast paths of the Semtech UDP backend give what the careful paths give.

Each shortcut (the JSON scanner called directly, the compact-time cache, the cached
``UplinkTxInfo``, the frame objects built without their ``__init__``) is checked against the
general code it bypasses, with the values where they could part ways.
"""

from __future__ import annotations

import base64
import json
import math
import pickle
from dataclasses import FrozenInstanceError, replace
from datetime import datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    CRCStatus,
    Location,
    LoRaModulation,
    LRFHSSModulation,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.semtech_udp import DropReason, PacketError, SemtechUDPCore, timestamps, uplinks_from_rxpk
from hal.semtech_udp import rxpk as rxpk_module
from hal.semtech_udp.build import uplink_frame, uplink_rx_info
from hal.semtech_udp.core import _json_object
from hal.semtech_udp.timestamps import format_compact, parse_utc_ns

GW = EUI64("0102030405060708")
HEADER = b"\x02\x00\x00\x00" + bytes(GW)
ENTRY = {
    "tmst": 1000,
    "time": "2024-05-01T12:00:00.250000Z",
    "freq": 868.1,
    "stat": 1,
    "datr": "SF7BW125",
    "codr": "4/5",
    "rssi": -40,
    "lsnr": 9.5,
    "data": base64.b64encode(b"\x40\x01\x02").decode(),
}
RX_INFO_FIELDS: dict[str, Any] = {
    "gateway_id": GW,
    "uplink_id": 3,
    "rssi": -90,
    "snr": 7.25,
    "channel": 2,
    "rf_chain": 1,
    "board": 0,
    "antenna": 0,
    "context": b"\0\0\3\xe8",
    "crc_status": CRCStatus.CRC_OK,
    "gw_time_ns": 1,
    "ns_time_ns": 2,
    "time_since_gps_epoch_ns": 3,
    "fine_time_since_gps_epoch_ns": None,
    "location": Location(46.2, 3.25),
    "metadata": {"tmst64": "1000"},
}


def convert(**changes: Any) -> UplinkFrame:
    entry = {**ENTRY, **changes}
    (frame,) = uplinks_from_rxpk(entry, GW, uplink_id=1, ns_time_ns=0)
    return frame


# -- frame objects -----------------------------------------------------------------------------


def test_built_frames_are_the_model_types_equal_and_frozen() -> None:
    info = uplink_rx_info(*RX_INFO_FIELDS.values())
    expected = UplinkRxInfo(**RX_INFO_FIELDS)
    assert type(info) is UplinkRxInfo
    assert info == expected
    assert repr(info) == repr(expected)
    tx_info = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7))
    frame = uplink_frame(b"\x40", tx_info, info)
    assert type(frame) is UplinkFrame
    assert frame == UplinkFrame(b"\x40", tx_info, expected)
    with pytest.raises(FrozenInstanceError):
        info.rssi = 0  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        frame.phy_payload = b""  # type: ignore[misc]
    assert replace(info, rssi=-1).rssi == -1
    assert pickle.loads(pickle.dumps(frame)) == frame


# -- rxpk --------------------------------------------------------------------------------------


def test_integral_floats_and_nulls_read_as_before() -> None:
    plain = convert().rx_info
    floats = convert(tmst=1000.0, chan=0.0, rssi=-40.0).rx_info
    assert (floats.context, floats.channel, floats.rssi) == (plain.context, 0, -40)
    assert type(floats.rssi) is int
    nulls = convert(chan=None, rfch=None, brd=None).rx_info
    assert (nulls.channel, nulls.rf_chain, nulls.board) == (0, 0, 0)
    for lsnr in (None, 0, -0.0):
        snr = convert(lsnr=lsnr).rx_info.snr
        assert type(snr) is float and snr == 0.0 and math.copysign(1.0, snr) == 1.0
    assert convert(lsnr=5).rx_info.snr == 5.0
    assert type(convert(lsnr=5).rx_info.snr) is float


@pytest.mark.parametrize("field", ["chan", "rfch", "brd", "tmst", "rssi", "tmms", "ftime"])
def test_out_of_range_and_wrong_types_still_drop(field: str) -> None:
    too_low = 51 if field == "rssi" else -1  # rssi is -200..50, the others from 0
    for value, reason in ((too_low, DropReason.ABSURD_VALUE), (True, DropReason.BAD_RXPK)):
        with pytest.raises(PacketError) as caught:
            convert(**{field: value})
        assert caught.value.reason is reason


def test_tx_info_cache_keeps_values_apart() -> None:
    base = convert().tx_info
    assert convert().tx_info is base  # shared
    assert convert(freq=868).tx_info.frequency == convert(freq=868.0).tx_info.frequency
    modulation = convert(codr="4/6").tx_info.modulation
    assert isinstance(modulation, LoRaModulation) and modulation.code_rate is CodeRate.CR_4_6
    assert convert(freq=867.5).tx_info.frequency == 867_500_000


def test_true_is_not_a_step_count_even_after_1_was() -> None:
    fhss = {"datr": "M0CW137", "codr": "2/6", "hpw": 1}
    assert isinstance(convert(**fhss).tx_info.modulation, LRFHSSModulation)
    for hpw in (True, 1.0):
        with pytest.raises(PacketError) as caught:
            convert(**{**fhss, "hpw": hpw})
        assert caught.value.reason is DropReason.ABSURD_VALUE


def test_tx_info_cache_is_bounded() -> None:
    for khz in range(rxpk_module._MAX_TX_INFOS + 10):
        convert(freq=863 + khz / 1000)
        assert len(rxpk_module._tx_infos) <= rxpk_module._MAX_TX_INFOS


# -- time --------------------------------------------------------------------------------------


@given(
    st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1)),
    st.text(alphabet="0123456789\u0663_+ .Z", max_size=12),
    st.sampled_from(["Z", "z", ""]),
)
@example(datetime(2024, 5, 1), "12\u0663", "Z")
@example(datetime(2024, 5, 1), "1234567891", "Z")
@example(datetime(2024, 5, 1), "_5", "Z")
@example(datetime(2024, 5, 1), "+5", "Z")
def test_compact_time_shortcut_agrees_with_the_full_parser(
    when: datetime, fraction: str, zone: str
) -> None:
    # U+0663 is a digit to str.isdigit and int(), not to the protocol
    text = f"{when:%Y-%m-%dT%H:%M:%S}.{fraction}{zone}"
    assert parse_utc_ns(text) == timestamps._parse(text)
    assert parse_utc_ns(text) == timestamps._parse(text)  # again, from the second's cache


@given(st.integers(0, 4_102_444_800 * 10**9))
def test_compact_time_round_trips_through_the_cache(unix_ns: int) -> None:
    text = format_compact(unix_ns)
    assert parse_utc_ns(text) == unix_ns - unix_ns % 1000
    assert parse_utc_ns(text[:-1] + "001Z") == unix_ns - unix_ns % 1000 + 1


def test_time_cache_is_bounded() -> None:
    for second in range(200):
        parse_utc_ns(format_compact(second * 10**9))
        assert len(timestamps._second_starts) <= timestamps._SECOND_STARTS_MAX


# -- JSON --------------------------------------------------------------------------------------

json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)
edges = st.text(alphabet=" \t\n\r\x0b\u3000x}", max_size=3)


@given(edges, json_documents, edges)
def test_json_is_read_exactly_as_json_loads_reads_it(
    before: str, document: object, after: str
) -> None:
    text = before + json.dumps(document) + after
    try:
        expected = json.loads(text)
    except ValueError:
        expected = PacketError
    try:
        got = _json_object(HEADER + text.encode())
    except PacketError as error:
        assert error.reason is DropReason.BAD_JSON
        got = PacketError
    if expected is not PacketError and not isinstance(expected, dict):
        expected = PacketError  # valid JSON, but not the object PUSH_DATA carries
    assert repr(got) == repr(expected)


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        (b' \r\n\t{"rxpk":[]}', True),
        (b'{"rxpk":[]} \n', True),
        (b'{"rxpk":[]} x', False),
        (b'{"rxpk":[]}\x0b', False),
        (b"\xe3\x80\x80{}", False),  # U+3000 is space to Python, not to JSON
        (b"", False),
        (b"   ", False),
        (b"{}{}", False),
    ],
)
def test_push_data_whitespace_around_the_json(body: bytes, accepted: bool) -> None:
    core = SemtechUDPCore()
    core.datagram_received(HEADER + body, ("192.0.2.1", 1700), 0, 0)
    assert len(core.datagrams_to_send()) == accepted
    assert core.drop_counts == ({} if accepted else {"bad_json": 1})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (HEADER[:11], "truncated"),
        (b"\x03" + HEADER[1:] + b"{}", "bad_version"),
        (b"\x00" + HEADER[1:] + b"{}", "bad_version"),
    ],
)
def test_push_data_header_shortcut_leaves_bad_headers_to_the_parser(
    data: bytes, reason: str
) -> None:
    core = SemtechUDPCore()
    core.datagram_received(data, ("192.0.2.1", 1700), 0, 0)
    assert core.drop_counts == {reason: 1}
