"""Semtech UDP forwarder-side JSON: rxpk/stat out (read back by the hal's server-side parser),
txpk in (written by the hal's server-side builder), TX_ACK errors, and tmst <-> context."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance.bridge.udp_json import (
    TxpkError,
    downlink_item,
    push_payload,
    rxpk,
    stat,
    tx_ack_payload,
)
from appliance.bridge.udp_timing import TimingMap
from hal.model import (
    CodeRate,
    CRCStatus,
    Delay,
    DownlinkItem,
    DownlinkTxInfo,
    FSKModulation,
    GatewayStats,
    GPSEpoch,
    Immediately,
    Location,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.semtech_udp import stats_from_stat, tx_ack_status, txpk_json, uplinks_from_rxpk
from tests.bridge.helpers import GW, T0, uplink

COUNTER = TimingMap().timing_for


def test_rxpk_reads_back_as_the_same_reception() -> None:
    frame = uplink(f_cnt=5)
    frame = UplinkFrame(
        frame.phy_payload,
        frame.tx_info,
        UplinkRxInfo(
            gateway_id=GW,
            rssi=-101,
            snr=-7.25,
            channel=3,
            rf_chain=1,
            context=(123_456_789).to_bytes(4, "big"),
            crc_status=CRCStatus.CRC_OK,
            gw_time_ns=T0 + 528_002_000,
            time_since_gps_epoch_ns=1_398_600_018_000_000_000,
            fine_time_since_gps_epoch_ns=1_398_600_018_123_456_789,
            metadata={"delayed": "true", "mid": "8"},
        ),
    )
    entry = rxpk(frame, tmst=123_456_789)
    document = json.loads(push_payload([entry]))
    (back,) = uplinks_from_rxpk(document["rxpk"][0], GW, uplink_id=1, ns_time_ns=None)
    assert back.phy_payload == frame.phy_payload
    assert back.tx_info == frame.tx_info
    rx = back.rx_info
    assert (rx.rssi, rx.snr, rx.channel, rx.rf_chain) == (-101, -7.25, 3, 1)
    assert rx.context == frame.rx_info.context
    assert rx.gw_time_ns == frame.rx_info.gw_time_ns
    assert rx.time_since_gps_epoch_ns == frame.rx_info.time_since_gps_epoch_ns
    assert rx.fine_time_since_gps_epoch_ns == frame.rx_info.fine_time_since_gps_epoch_ns
    assert rx.metadata["delayed"] == "true"
    assert entry["meta"] == {"delayed": "true", "mid": "8"}


def test_fsk_rxpk_and_missing_gateway_time() -> None:
    frame = UplinkFrame(
        b"\x40" + bytes(11),
        UplinkTxInfo(868_800_000, FSKModulation(50_000, 25_000)),
        UplinkRxInfo(gateway_id=GW, ns_time_ns=T0, crc_status=CRCStatus.BAD_CRC),
    )
    entry = rxpk(frame, tmst=7)
    assert (entry["modu"], entry["datr"], entry["stat"], entry["freq"]) == (
        "FSK",
        50_000,
        -1,
        868.8,
    )
    assert entry["time"].startswith("2026-")  # the appliance's reception time stands in


def test_stat_reads_back() -> None:
    stats = GatewayStats(
        GW,
        time_ns=T0,
        location=Location(52.5, 13.4, 35.0),
        rx_packets_received=10,
        rx_packets_received_ok=8,
        tx_packets_received=3,
        tx_packets_emitted=2,
    )
    entry = stat(stats, now_ns=T0, ack_ratio=0.5)
    back = stats_from_stat(entry, GW)
    assert (back.rx_packets_received, back.rx_packets_received_ok) == (10, 8)
    assert (back.tx_packets_received, back.tx_packets_emitted) == (3, 2)
    assert back.location is not None and back.location.latitude == 52.5
    assert back.time_ns == T0
    assert entry["ackr"] == 50.0


LORA = LoRaModulation(125_000, 9, CodeRate.CR_4_5, polarization_inversion=True, no_crc=True)


@pytest.mark.parametrize(
    ("timing", "context", "expected_timing", "expected_context"),
    [
        (Immediately(), b"", Immediately(), b""),
        (
            Delay(1_000_000_000),
            (5_000_000).to_bytes(4, "big"),
            Delay(0),
            (6_000_000).to_bytes(4, "big"),
        ),
        (GPSEpoch(1_398_600_018_000_000_000), b"", GPSEpoch(1_398_600_018_000_000_000), b""),
    ],
)
def test_txpk_from_the_hal_server_becomes_the_same_transmission(
    timing: Any, context: bytes, expected_timing: Any, expected_context: bytes
) -> None:
    item = DownlinkItem(
        b"\x60" + bytes(15),
        DownlinkTxInfo(869_525_000, 27, LORA, timing, context=context),
    )
    back = downlink_item(json.loads(txpk_json(item)), COUNTER)
    assert back.phy_payload == item.phy_payload
    info = back.tx_info
    assert (info.frequency, info.power, info.modulation) == (869_525_000, 27, LORA)
    assert (info.timing, info.context) == (expected_timing, expected_context)


def test_fsk_txpk() -> None:
    item = DownlinkItem(
        b"\x60" + bytes(15),
        DownlinkTxInfo(868_800_000, 14, FSKModulation(50_000, 25_000), Immediately()),
    )
    back = downlink_item(json.loads(txpk_json(item)), COUNTER)
    assert back.tx_info.modulation == FSKModulation(50_000, 25_000)


GOOD = {
    "imme": True,
    "freq": 869.525,
    "powe": 14,
    "modu": "LORA",
    "datr": "SF9BW125",
    "codr": "4/5",
    "ipol": True,
    "size": 2,
    "data": "AQI=",
}


@pytest.mark.parametrize(
    ("change", "message", "status"),
    [
        ({"data": "***"}, "txpk.data is not base64", TxAckStatus.INTERNAL_ERROR),
        ({"data": 5}, "txpk.data=5 has the wrong type", TxAckStatus.INTERNAL_ERROR),
        ({"size": 3}, "txpk.size=3 but 2 bytes", TxAckStatus.INTERNAL_ERROR),
        ({"freq": 5}, "txpk.freq=5 is not a frequency", TxAckStatus.TX_FREQ),
        ({"freq": "868"}, "txpk.freq='868' has the wrong type", TxAckStatus.INTERNAL_ERROR),
        ({"powe": 99}, "txpk.powe=99 dBm", TxAckStatus.TX_POWER),
        ({"powe": True}, "txpk.powe=True is not a number", TxAckStatus.INTERNAL_ERROR),
        ({"imme": False}, "txpk has none of imme, tmst, tmms", TxAckStatus.INTERNAL_ERROR),
        ({"imme": False, "tmst": -1}, "txpk.tmst=-1 is not", TxAckStatus.INTERNAL_ERROR),
        ({"datr": "SF99BW125"}, "txpk: spreading factor must be 5..12", TxAckStatus.INTERNAL_ERROR),
        ({"codr": "9/9"}, "txpk: unknown coding rate", TxAckStatus.INTERNAL_ERROR),
        ({"modu": "FSK"}, "txpk.datr='SF9BW125' is not an FSK", TxAckStatus.INTERNAL_ERROR),
        ({"modu": "LR-FHSS"}, "txpk.modu='LR-FHSS' cannot be", TxAckStatus.INTERNAL_ERROR),
        ({"brd": 1 << 20}, "txpk.brd=1048576 or txpk.ant=0", TxAckStatus.INTERNAL_ERROR),
    ],
)
def test_bad_txpk(change: dict[str, Any], message: str, status: TxAckStatus) -> None:
    txpk = {**GOOD, **change}
    with pytest.raises(TxpkError) as caught:
        downlink_item({"txpk": txpk}, COUNTER)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.status is status


def test_not_a_txpk_at_all() -> None:
    for document in (None, [], {"txpk": 5}, {}):
        with pytest.raises(TxpkError, match="no txpk object"):
            downlink_item(document, COUNTER)


@pytest.mark.parametrize("status", list(TxAckStatus))
def test_tx_ack_errors_read_back_by_the_hal_server(status: TxAckStatus) -> None:
    if status is TxAckStatus.IGNORED:
        return  # never the status of a single-item PULL_RESP
    assert tx_ack_status(tx_ack_payload(status)) is status


def test_made_up_tmst_is_matched_to_its_uplink() -> None:
    timing = TimingMap()
    station_context = b"\x00\x01" + bytes(14)  # a Basics Station context: not a counter
    other_context = b"\x00\x02" + bytes(14)
    first = timing.tmst_for(station_context, now_ns=5_000_000_000)
    second = timing.tmst_for(other_context, now_ns=5_400_000_000)
    assert second - first == 400_000
    assert timing.timing_for(first + 1_000_000) == (Delay(1_000_000_000), station_context)
    assert timing.timing_for(second + 5_000_000) == (Delay(5_000_000_000), other_context)
    wrapped = timing.tmst_for(station_context, now_ns=(1 << 32) * 1000 - 500)
    assert timing.timing_for((wrapped + 2_000_000) % (1 << 32)) == (
        Delay(2_000_000_000),
        station_context,
    )
    # Twice in one microsecond still gives two values.
    assert timing.tmst_for(b"x" * 9, 7_000) != timing.tmst_for(b"y" * 9, 7_000)


def test_counter_contexts_pass_through() -> None:
    timing = TimingMap()
    assert timing.tmst_for((4_000_000_000).to_bytes(4, "big"), now_ns=1) == 4_000_000_000
    assert timing.timing_for(4_001_000_000 % (1 << 32)) == (
        Delay(0),
        (4_001_000_000).to_bytes(4, "big"),
    )
