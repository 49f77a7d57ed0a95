"""GWMP datagram layouts: every packet both ways, the malformed ones refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.identifiers import EUI64
from hal.semtech_udp import (
    MAX_DATAGRAM,
    DropReason,
    Packet,
    PacketError,
    PullAck,
    PullData,
    PullResp,
    PushAck,
    PushData,
    TxAck,
    parse_packet,
)

GW = EUI64("0102030405060708")
GW_BYTES = bytes.fromhex("0102030405060708")

# (packet, wire bytes): the token is little-endian (0x3412 is written 12 34).
LAYOUTS: list[tuple[Packet, bytes]] = [
    (PushData(2, 0x3412, GW, b'{"rxpk":[]}'), b"\x02\x12\x34\x00" + GW_BYTES + b'{"rxpk":[]}'),
    (PushData(1, 0x0001, GW, b"{}"), b"\x01\x01\x00\x00" + GW_BYTES + b"{}"),
    (PushAck(2, 0x3412), b"\x02\x12\x34\x01"),
    (PushAck(1, 0xFFFF), b"\x01\xff\xff\x01"),
    (PullData(2, 0xBEEF, GW), b"\x02\xef\xbe\x02" + GW_BYTES),
    (PullData(1, 0x0000, GW), b"\x01\x00\x00\x02" + GW_BYTES),
    (PullResp(2, 0x0102, b'{"txpk":{}}'), b"\x02\x02\x01\x03" + b'{"txpk":{}}'),
    (PullResp(1, 0x0000, b'{"txpk":{}}'), b"\x01\x00\x00\x03" + b'{"txpk":{}}'),
    (PullAck(2, 0xBEEF), b"\x02\xef\xbe\x04"),
    (PullAck(1, 0x0102), b"\x01\x02\x01\x04"),
    (TxAck(2, 0x0102, GW), b"\x02\x02\x01\x05" + GW_BYTES),
    (
        TxAck(2, 0x0102, GW, b'{"txpk_ack":{"error":"TOO_LATE"}}'),
        b"\x02\x02\x01\x05" + GW_BYTES + b'{"txpk_ack":{"error":"TOO_LATE"}}',
    ),
]


@pytest.mark.parametrize(("packet", "wire"), LAYOUTS)
def test_layout_both_ways(packet: Packet, wire: bytes) -> None:
    assert packet.encode() == wire
    assert parse_packet(wire) == packet


def test_version_1_pull_resp_carries_no_token() -> None:
    # Version 1 has no TX_ACK, so the token bytes are unused (and zero, as ChirpStack sends).
    assert PullResp(1, 0xABCD, b"{}").encode()[1:3] == b"\x00\x00"
    assert PullResp(2, 0xABCD, b"{}").encode()[1:3] == b"\xcd\xab"


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (b"", DropReason.TRUNCATED),
        (b"\x02\x00\x00", DropReason.TRUNCATED),
        (b"\x02\x00\x00\x00" + GW_BYTES[:7], DropReason.TRUNCATED),
        (b"\x02\x00\x00\x02" + GW_BYTES[:3], DropReason.TRUNCATED),
        (b"\x02\x00\x00\x05" + GW_BYTES[:7], DropReason.TRUNCATED),
        (b"\x02\x00\x00\x03", DropReason.TRUNCATED),
        (b"\x00\x00\x00\x00" + GW_BYTES, DropReason.BAD_VERSION),
        (b"\x03\x00\x00\x02" + GW_BYTES, DropReason.BAD_VERSION),
        (b"\xff\x00\x00\x02" + GW_BYTES, DropReason.BAD_VERSION),
        (b"\x02\x00\x00\x06" + GW_BYTES, DropReason.UNKNOWN_TYPE),
        (b"\x02\x00\x00\xff", DropReason.UNKNOWN_TYPE),
        (b"\x02\x00\x00\x02" + GW_BYTES + b"\x00", DropReason.BAD_LENGTH),
        (b"\x02\x00\x00\x01\x00", DropReason.BAD_LENGTH),
        (b"\x02\x00\x00\x04\x00\x00", DropReason.BAD_LENGTH),
        (b"\x02\x00\x00\x00" + GW_BYTES + b" " * MAX_DATAGRAM, DropReason.OVERSIZED),
    ],
)
def test_malformed_datagrams_name_their_reason(wire: bytes, reason: DropReason) -> None:
    with pytest.raises(PacketError) as caught:
        parse_packet(wire)
    assert caught.value.reason is reason


def test_largest_datagram_is_accepted() -> None:
    wire = b"\x02\x00\x00\x00" + GW_BYTES + b" " * (MAX_DATAGRAM - 12)
    packet = parse_packet(wire)
    assert isinstance(packet, PushData)
    assert len(packet.payload) == MAX_DATAGRAM - 12


@given(st.binary(max_size=200))
def test_random_bytes_parse_or_raise_packet_error(data: bytes) -> None:
    try:
        packet = parse_packet(data)
    except PacketError:
        return
    assert packet.encode() == data or (isinstance(packet, PullResp) and packet.version == 1)


versions = st.sampled_from([1, 2])
tokens = st.integers(0, 0xFFFF)
euis = st.binary(min_size=8, max_size=8).map(EUI64)
payloads = st.binary(min_size=1, max_size=64)
packets = st.one_of(
    st.builds(PushData, versions, tokens, euis, payloads),
    st.builds(PushAck, versions, tokens),
    st.builds(PullData, versions, tokens, euis),
    st.builds(PullAck, versions, tokens),
    st.builds(PullResp, st.just(2), tokens, payloads),
    st.builds(TxAck, versions, tokens, euis, st.binary(max_size=64)),
)


@given(packets)
def test_encode_then_parse_is_identity(packet: Packet) -> None:
    assert parse_packet(packet.encode()) == packet
