"""The virtual concentrator's reception and transmission rules, on a fake clock."""

from __future__ import annotations

import random

import pytest

from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    FSKChannel,
    FSKModulation,
    GPSEpoch,
    Immediately,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
)
from hal.virtual_radio.air import AirPacket, time_on_air_ns
from hal.virtual_radio.concentrator import VirtualConcentrator, VirtualConcentratorConfig
from hal.virtual_radio.propagation import Position

GATEWAY = EUI64("0016c001ff10a235")
EU868_FREQUENCIES = (
    868_100_000,
    868_300_000,
    868_500_000,
    867_100_000,
    867_300_000,
    867_500_000,
    867_700_000,
    867_900_000,
)
EU868_CHANNELS = (
    *(LoRaChannel(f, 125_000, (7, 8, 9, 10, 11, 12)) for f in EU868_FREQUENCIES),
    FSKChannel(868_800_000, 125_000, 50_000),
)
MS = 1_000_000
S = 1_000_000_000


def _radio(chip: str = "sx1302", gps: bool = True) -> VirtualConcentrator:
    config = VirtualConcentratorConfig(
        GATEWAY, EU868_CHANNELS, chip=chip, gps=gps, unix_ns_at_zero=1_700_000_000 * S
    )
    return VirtualConcentrator(config, boot_ns=0, rng=random.Random(1))


def _packet(
    start_ns: int,
    *,
    sf: int = 7,
    freq: int = 868_100_000,
    distance: float = 1_000,
    power: float = 14,
    payload: bytes = bytes(20),
) -> AirPacket:
    return AirPacket(
        payload, freq, LoRaModulation(125_000, sf), power, Position(distance, 0), start_ns
    )


def test_a_nearby_device_is_heard_with_plausible_metadata() -> None:
    radio = _radio()
    packet = _packet(10 * S)
    radio.air(packet)
    assert radio.poll(packet.end_ns - 1).uplinks == ()
    (uplink,) = radio.poll(packet.end_ns).uplinks
    assert uplink.phy_payload == packet.phy_payload
    assert uplink.tx_info.frequency == 868_100_000
    assert -110 < uplink.rx_info.rssi < -60
    assert uplink.rx_info.snr > 0
    assert uplink.rx_info.context == (packet.end_ns // 1000).to_bytes(4, "big")
    assert uplink.rx_info.gateway_id == GATEWAY
    assert uplink.rx_info.time_since_gps_epoch_ns is not None
    # A second poll reports nothing new.
    assert radio.poll(packet.end_ns + S).uplinks == ()


def test_range_depends_on_spreading_factor() -> None:
    radio = _radio()
    far_sf7 = _packet(0, sf=7, distance=15_000)
    far_sf12 = _packet(0, sf=12, distance=15_000, freq=868_300_000)
    radio.air(far_sf7)
    radio.air(far_sf12)
    result = radio.poll(far_sf12.end_ns)
    assert [u.tx_info.frequency for u in result.uplinks] == [868_300_000]
    assert result.lost == ((far_sf7, "below_sensitivity"),)


def test_frames_off_the_channel_plan_are_not_received() -> None:
    radio = _radio()
    wrong_freq = _packet(0, freq=869_000_000)
    radio.air(wrong_freq)
    radio.air(AirPacket(b"x", 868_800_000, FSKModulation(50_000), 14, Position(100), 0))
    result = radio.poll(S)
    assert result.lost == ((wrong_freq, "no_channel"),)
    assert len(result.uplinks) == 1  # the FSK frame on the FSK channel


@pytest.mark.parametrize(("chip", "demodulators"), [("sx1302", 16), ("sx1301", 8)])
def test_demodulator_limit(chip: str, demodulators: int) -> None:
    radio = _radio(chip)
    packets = [
        _packet(i * 1000, sf=7 + (i % 6), freq=EU868_CHANNELS[i % 8].frequency) for i in range(20)
    ]
    for packet in packets:
        radio.air(packet)
    result = radio.poll(max(p.end_ns for p in packets))
    assert len(result.uplinks) == demodulators
    assert [reason for _, reason in result.lost] == ["no_demodulator"] * (20 - demodulators)


def test_same_channel_same_sf_collide_unless_one_captures() -> None:
    radio = _radio()
    a, b = _packet(0, distance=1_000), _packet(5 * MS, distance=1_100)
    radio.air(a)
    radio.air(b)
    assert sorted(reason for _, reason in radio.poll(S).lost) == ["collision", "collision"]

    radio = _radio()
    strong, weak = _packet(0, distance=300), _packet(5 * MS, distance=3_000)
    radio.air(strong)
    radio.air(weak)
    result = radio.poll(S)
    assert [u.phy_payload for u in result.uplinks] == [strong.phy_payload]
    assert result.lost == ((weak, "collision"),)

    radio = _radio()
    radio.air(_packet(0, sf=7))
    radio.air(_packet(0, sf=9))  # different spreading factors do not interfere
    assert len(radio.poll(S).uplinks) == 2


def _item(
    context: bytes, delay_s: float, freq: int = 869_525_000, power: int = 14, sf: int = 9
) -> DownlinkItem:
    modulation = LoRaModulation(125_000, sf, CodeRate.CR_4_5, polarization_inversion=True)
    info = DownlinkTxInfo(freq, power, modulation, Delay(int(delay_s * S)), context=context)
    return DownlinkItem(b"\x60" + bytes(12), info)


def test_class_a_downlink_goes_out_one_second_after_the_uplink() -> None:
    radio = _radio()
    packet = _packet(0)
    radio.air(packet)
    (uplink,) = radio.poll(packet.end_ns + 100 * MS).uplinks
    frame = DownlinkFrame(
        7, GATEWAY, (_item(uplink.rx_info.context, 1.0), _item(uplink.rx_info.context, 2.0))
    )
    ack = radio.send_downlink(frame, packet.end_ns + 200 * MS)
    assert ack.items == (TxAckStatus.OK, TxAckStatus.IGNORED)
    assert radio.poll(packet.end_ns + 900 * MS).transmissions == ()
    (transmission,) = radio.poll(packet.end_ns + 990 * MS).transmissions
    expected_start = (packet.end_ns // 1000 + 1_000_000) * 1000
    assert transmission.start_ns == expected_start
    assert transmission.downlink_id == 7
    assert transmission.end_ns - transmission.start_ns == time_on_air_ns(
        13, frame.items[0].tx_info.modulation, uplink=False
    )  # type: ignore[arg-type]


def test_too_late_for_rx1_falls_back_to_rx2() -> None:
    radio = _radio()
    packet = _packet(0)
    radio.air(packet)
    (uplink,) = radio.poll(packet.end_ns).uplinks
    context = uplink.rx_info.context
    frame = DownlinkFrame(1, GATEWAY, (_item(context, 1.0), _item(context, 2.0)))
    ack = radio.send_downlink(frame, packet.end_ns + 990 * MS)
    assert ack.items == (TxAckStatus.TOO_LATE, TxAckStatus.OK)
    assert ack.sent_item == 1


def test_overlapping_downlinks_collide_and_limits_are_enforced() -> None:
    radio = _radio()
    context = (1_000_000).to_bytes(4, "big")
    now = 1 * S
    assert radio.send_downlink(DownlinkFrame(1, GATEWAY, (_item(context, 1.0),)), now).items == (
        TxAckStatus.OK,
    )
    assert radio.send_downlink(DownlinkFrame(2, GATEWAY, (_item(context, 1.0),)), now).items == (
        TxAckStatus.COLLISION_PACKET,
    )
    assert radio.send_downlink(
        DownlinkFrame(3, GATEWAY, (_item(context, 3.0, freq=915_000_000),)), now
    ).items == (TxAckStatus.TX_FREQ,)
    assert radio.send_downlink(
        DownlinkFrame(4, GATEWAY, (_item(context, 3.0, power=40),)), now
    ).items == (TxAckStatus.TX_POWER,)
    assert radio.send_downlink(DownlinkFrame(5, GATEWAY, (_item(b"", 3.0),)), now).items == (
        TxAckStatus.INTERNAL_ERROR,
    )


def test_immediate_and_gps_timed_transmissions() -> None:
    radio = _radio()
    modulation = LoRaModulation(125_000, 9, polarization_inversion=True)
    now = 5 * S
    immediate = DownlinkItem(
        b"\x60" * 13, DownlinkTxInfo(869_525_000, 14, modulation, Immediately())
    )
    assert radio.send_downlink(DownlinkFrame(1, GATEWAY, (immediate,)), now).items == (
        TxAckStatus.OK,
    )
    (sent,) = radio.poll(now + 100 * MS).transmissions
    assert now < sent.start_ns < now + 50 * MS

    at = radio.gps_time_ns(now) + 3 * S
    timed = DownlinkItem(b"\x60" * 13, DownlinkTxInfo(869_525_000, 14, modulation, GPSEpoch(at)))
    assert radio.send_downlink(DownlinkFrame(2, GATEWAY, (timed,)), now).items == (TxAckStatus.OK,)
    (sent,) = radio.poll(now + 3 * S).transmissions
    assert abs(sent.start_ns - (now + 3 * S)) < 1000

    no_gps = _radio(gps=False)
    assert no_gps.send_downlink(DownlinkFrame(3, GATEWAY, (timed,)), now).items == (
        TxAckStatus.GPS_UNLOCKED,
    )


def test_nothing_is_received_while_transmitting_and_stats_count_it() -> None:
    radio = _radio()
    context = (0).to_bytes(4, "big")
    assert radio.send_downlink(
        DownlinkFrame(1, GATEWAY, (_item(context, 1.0, sf=12),)), 500 * MS
    ).items == (TxAckStatus.OK,)
    radio.poll(990 * MS)  # the transmission starts at 1 s and lasts about 0.8 s at SF12
    packet = _packet(1_100 * MS)
    radio.air(packet)
    result = radio.poll(packet.end_ns)
    assert result.lost == ((packet, "gateway_transmitting"),)
    stats = radio.stats(3 * S)
    assert stats.rx_packets_received == 1
    assert stats.rx_packets_received_ok == 0
    assert stats.tx_packets_emitted == 1
    assert stats.tx_packets_per_status == {"OK": 1}
