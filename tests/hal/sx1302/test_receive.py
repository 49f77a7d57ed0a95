"""Packets from the emulated chip come out of the driver as correct uplink frames."""

from __future__ import annotations

from dataclasses import replace

import pytest

from appliance.lorawan.identifiers import EUI64
from hal.model import CodeRate, CRCStatus, LoRaModulation
from hal.sx1302.config import RssiTemperatureCompensation
from hal.sx1302.emulator.fifo import FifoPacket
from hal.sx1302.timestamps import CounterTracker, legacy_correction_us
from tests.hal.sx1302.helpers import eu868_config, started

GATEWAY = EUI64("0102030405060708")


def test_a_packet_becomes_an_uplink_frame() -> None:
    bench = started()
    bench.clock.sleep(2.0)
    latched = bench.chip.counter_ticks()
    packet = FifoPacket(
        b"\x40\x01\x02\x03\x04\x80\x05\x00\x0f" + bytes(10),
        if_chain=6,  # radio A + 200 kHz = 867.7 MHz
        spreading_factor=9,
        coding_rate=1,
        snr_quarter_db=-26,
        rssi_channel=110,
        timestamp_32mhz=latched,
    )
    assert bench.chip.inject(packet.encode())
    result = bench.driver.poll(gateway_id=GATEWAY, unix_now_ns=1_700_000_000_000_000_000)
    (uplink,) = result.uplinks
    assert uplink.phy_payload == packet.payload
    assert uplink.tx_info.frequency == 867_700_000
    assert uplink.tx_info.modulation == LoRaModulation(125_000, 9, CodeRate.CR_4_5)
    info = uplink.rx_info
    assert (info.gateway_id, info.channel, info.rf_chain) == (GATEWAY, 6, 0)
    assert info.snr == -6.5
    # raw 110 and the board's -215.4 dB offset (no temperature compensation configured)
    assert info.rssi == round(110 - 215.4)
    assert info.crc_status is CRCStatus.CRC_OK
    correction = legacy_correction_us(
        bandwidth_hz=125_000, spreading_factor=9, coding_rate=1, crc_enabled=True, payload_length=19
    )
    assert correction < 0
    assert int.from_bytes(info.context, "big") == latched // 32 + correction
    assert info.gw_time_ns is not None


def test_temperature_compensation_uses_the_sensor() -> None:
    config = eu868_config()
    tcomp = RssiTemperatureCompensation(c=20.41, d=2162.56)
    radios = tuple(replace(radio, rssi_tcomp=tcomp) for radio in config.radios)
    bench = started(replace(config, radios=radios))
    bench.sensor.temperature_c = 60.0
    bench.chip.inject(FifoPacket(b"\x40abc", rssi_channel=100).encode())
    (uplink,) = bench.driver.poll(gateway_id=GATEWAY).uplinks
    expected = 100 - 215.4 + (20.41 * 60**2 + 2162.56 * 60) / 65536
    assert uplink.rx_info.rssi == round(expected)
    assert bench.driver.temperature_c() == pytest.approx(60.0)


def test_malformed_fifo_is_dropped_and_counted_never_raised() -> None:
    bench = started()
    bad = bytearray(FifoPacket(b"\x40bad").encode())
    bad[-1] ^= 0x55
    bench.chip.inject(FifoPacket(b"\x40good").encode() + bytes(bad))
    result = bench.driver.poll(gateway_id=GATEWAY)
    assert [u.phy_payload for u in result.uplinks] == [b"\x40good"]
    assert result.dropped == {"checksum": 1}
    bench.chip.inject(FifoPacket(b"\x40" + bytes(40)).encode()[:30])
    assert bench.driver.poll(gateway_id=GATEWAY).dropped == {"truncated": 1}
    assert bench.driver.poll(gateway_id=GATEWAY).fifo_bytes == 0  # the FIFO was drained


def test_crc_error_packets_carry_bad_crc_status() -> None:
    bench = started()
    bench.chip.inject(FifoPacket(b"\x40x", crc_error=True).encode())
    (uplink,) = bench.driver.poll(gateway_id=GATEWAY).uplinks
    assert uplink.rx_info.crc_status is CRCStatus.BAD_CRC


def test_the_counter_is_widened_across_the_27_bit_wrap() -> None:
    tracker = CounterTracker()
    step = 100_000_000  # ticks (3.1 s)
    last = 0
    for n in range(2000):  # ~100 minutes: past 2^27 us (134 s) many times
        ticks = (n * step) & 0xFFFFFFFF
        now = tracker.update(ticks)
        assert now >= last or last - now > 1 << 31
        last = now
    # 2000 x 3.125 s = 6250 s; the widened counter wraps at 2^32 us (4295 s).
    assert last == (1999 * step // 32) % (1 << 32)


def test_a_packet_latched_just_before_a_wrap_keeps_the_older_wrap_count() -> None:
    tracker = CounterTracker()
    tracker.update((1 << 32) - 64)  # 27-bit us counter near its top
    tracker.update(64)  # wrapped
    before_wrap = ((1 << 32) - 3200) // 32
    assert tracker.expand(before_wrap) == before_wrap
    assert tracker.expand(1) == (1 << 27) | 1


def test_fifo_reading_counts_as_fresh_counter_reads() -> None:
    bench = started()
    before = bench.driver.counter.wraps
    for _ in range(3):
        bench.clock.sleep(100.0)
        bench.driver.poll(gateway_id=GATEWAY)
    assert bench.driver.counter.wraps == (before + 2) % 32  # 300 s = two 134 s wraps
