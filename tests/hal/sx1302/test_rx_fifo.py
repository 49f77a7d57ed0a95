"""RX FIFO parsing: packets as the chip stores them, and buffers that cannot be trusted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hal.sx1302.emulator.fifo import FifoPacket
from hal.sx1302.rx_fifo import parse_fifo, payload_crc


def _reference_crc(data: bytes) -> int:
    """The modem's CRC as the chip computes it, bit by bit (register equations of the HAL)."""
    crc = 0
    for byte in data:
        c = [(crc >> i) & 1 for i in range(16)]
        d = [(byte >> i) & 1 for i in range(8)]
        bits = [
            d[0] ^ c[12] ^ c[8],
            d[1] ^ c[13] ^ c[9],
            d[2] ^ c[14] ^ c[10],
            d[3] ^ c[15] ^ c[11],
            d[4] ^ c[12],
            d[5] ^ c[13] ^ c[12] ^ c[8],
            d[6] ^ c[14] ^ c[13] ^ c[9],
            d[7] ^ c[15] ^ c[14] ^ c[10],
            c[0] ^ c[15] ^ c[11],
            c[1] ^ c[12],
            c[2] ^ c[13],
            c[3] ^ c[14],
            c[4] ^ c[15] ^ c[12] ^ c[8],
            c[5] ^ c[13] ^ c[9],
            c[6] ^ c[14] ^ c[10],
            c[7] ^ c[15] ^ c[11],
        ]
        crc = sum(bit << i for i, bit in enumerate(bits))
    return crc


@given(st.binary(max_size=255))
def test_payload_crc_matches_the_chips_bitwise_crc(data: bytes) -> None:
    assert payload_crc(data) == _reference_crc(data)


def test_concatenated_packets_are_all_parsed() -> None:
    first = FifoPacket(
        b"\x40" + bytes(range(12)),
        if_chain=3,
        spreading_factor=9,
        coding_rate=2,
        frequency_offset=-1234,
        snr_quarter_db=-30,
        rssi_channel=90,
        rssi_signal=88,
        timestamp_32mhz=0x12345678,
    )
    second = FifoPacket(
        b"\x80abc",
        if_chain=8,
        modem_id=16,
        spreading_factor=7,
        crc=False,
        ts_metrics=bytes(range(8)),
    )
    result = parse_fifo(first.encode() + second.encode())
    assert not result.dropped
    one, two = result.packets
    assert (one.if_chain, one.spreading_factor, one.coding_rate) == (3, 9, 2)
    assert one.payload == first.payload
    assert one.frequency_offset == -1234
    assert one.snr_quarter_db == -30
    assert (one.rssi_channel, one.rssi_signal) == (90, 88)
    assert one.timestamp_32mhz == 0x12345678
    assert one.crc_enabled and not one.crc_error
    assert (two.modem_id, two.crc_enabled, two.ts_metrics) == (16, False, bytes(range(8)))


def test_leading_garbage_is_skipped_to_the_first_sync_word() -> None:
    result = parse_fifo(b"\x00\x11\x22" + FifoPacket(b"\x40hello").encode())
    assert [p.payload for p in result.packets] == [b"\x40hello"]
    assert result.dropped["resync_bytes"] == 3


def test_a_bad_checksum_drops_that_packet_and_the_rest_of_the_buffer() -> None:
    good = FifoPacket(b"\x40good").encode()
    bad = bytearray(FifoPacket(b"\x40bad").encode())
    bad[-1] ^= 0xFF
    result = parse_fifo(good + bytes(bad) + good)
    assert [p.payload for p in result.packets] == [b"\x40good"]
    assert result.dropped == {"checksum": 1}


def test_a_truncated_packet_is_dropped_and_counted() -> None:
    packet = FifoPacket(b"\x40" + bytes(30)).encode()
    result = parse_fifo(FifoPacket(b"\x40ok").encode() + packet[:-5])
    assert len(result.packets) == 1
    assert result.dropped == {"truncated": 1}


def test_a_payload_crc_mismatch_drops_the_packet_but_not_the_next() -> None:
    corrupt = bytearray(FifoPacket(b"\x40" + bytes(10)).encode())
    corrupt[9 + 3] ^= 0x01  # flip a payload bit; fix the checksum so the framing is intact
    corrupt[-1] = sum(corrupt[:-1]) & 0xFF
    result = parse_fifo(bytes(corrupt) + FifoPacket(b"\x40next").encode())
    assert [p.payload for p in result.packets] == [b"\x40next"]
    assert result.dropped == {"payload_crc": 1}


def test_out_of_range_metadata_is_dropped() -> None:
    bad_sf = FifoPacket(b"\x40x", spreading_factor=3).encode()
    bad_modem = FifoPacket(b"\x40y", modem_id=30).encode()
    result = parse_fifo(bad_sf + bad_modem + FifoPacket(b"\x40z").encode())
    assert [p.payload for p in result.packets] == [b"\x40z"]
    assert result.dropped == {"bad_spreading_factor": 1, "bad_modem": 1}


def test_no_sync_word_at_all() -> None:
    assert parse_fifo(bytes(64)).dropped == {"no_sync": 1}
    assert parse_fifo(b"").packets == []


@given(st.binary(max_size=600))
def test_any_bytes_parse_without_raising(data: bytes) -> None:
    result = parse_fifo(data)
    for packet in result.packets:
        assert 5 <= packet.spreading_factor <= 12 or packet.is_fsk


@given(st.lists(st.binary(min_size=0, max_size=60), min_size=1, max_size=20), st.data())
def test_valid_packets_survive_a_cut_anywhere(payloads: list[bytes], data: st.DataObject) -> None:
    buffer = b"".join(FifoPacket(p).encode() for p in payloads)
    cut = data.draw(st.integers(0, len(buffer)))
    result = parse_fifo(buffer[:cut])
    assert [p.payload for p in result.packets] == payloads[: len(result.packets)]
