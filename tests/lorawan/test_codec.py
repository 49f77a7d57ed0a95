"""PHYPayload codec: (frame value, wire bytes) tables both ways, and hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import EncodeError, FrameError, InvalidValueError
from appliance.lorawan.frames import (
    DataFrame,
    EncryptedJoinAccept,
    FCtrl,
    Frame,
    JoinRequest,
    Proprietary,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import EUI64, DevAddr, NetID
from appliance.lorawan.mhdr import MType
from tests.lorawan.vectors import vector

MIC = bytes.fromhex("a1b2c3d4")

TABLE: list[tuple[Frame, str]] = [
    (
        DataFrame(MType.UNCONFIRMED_DATA_UP, DevAddr("01020304"), mic=MIC),
        "4004030201000000a1b2c3d4",
    ),
    (
        DataFrame(
            MType.CONFIRMED_DATA_UP,
            DevAddr("01020304"),
            FCtrl(adr=True, adr_ack_req=True, ack=True, class_b=True),
            0xABCD,
            bytes.fromhex("0203"),
            7,
            b"\x01",
            MIC,
        ),
        "8004030201f2cdab02030701a1b2c3d4",
    ),
    (
        DataFrame(
            MType.UNCONFIRMED_DATA_DOWN,
            DevAddr("ffffffff"),
            FCtrl(adr=True, ack=True, f_pending=True),
            1,
            bytes(15),
            255,
            b"",
            MIC,
        ),
        "60ffffffffbf0100" + "00" * 15 + "ffa1b2c3d4",
    ),
    (
        DataFrame(
            MType.CONFIRMED_DATA_DOWN, DevAddr("26011bda"), f_port=0, frm_payload=b"\x06", mic=MIC
        ),
        "a0da1b01260000000006a1b2c3d4",
    ),
    (
        JoinRequest(EUI64("0102030405060708"), EUI64("1112131415161718"), 0x0102, MIC),
        "00080706050403020118171615141312110201a1b2c3d4",
    ),
    (
        RejoinRequest02(0, NetID("010203"), EUI64("0102030405060708"), 5, MIC),
        "c00003020108070605040302010500a1b2c3d4",
    ),
    (
        RejoinRequest1(EUI64("0102030405060708"), EUI64("1112131415161718"), 0xFFFF, MIC),
        "c00108070605040302011817161514131211ffffa1b2c3d4",
    ),
    (EncryptedJoinAccept(bytes(range(16))), "20" + bytes(range(16)).hex()),
    (EncryptedJoinAccept(bytes(range(32))), "20" + bytes(range(32)).hex()),
    (Proprietary(b"\xde\xad"), "e0dead"),
    (Proprietary(b"", major=1), "e1"),
]


@pytest.mark.parametrize(("frame", "wire"), TABLE)
def test_encode_and_decode(frame: Frame, wire: str) -> None:
    assert frame.encode().hex() == wire
    decoded = decode_phy_payload(bytes.fromhex(wire))
    assert decoded == frame
    assert decoded.encode().hex() == wire


BAD_FRAMES = [
    ("", "empty"),
    ("40", "too short"),
    ("4004030201000000a1b2c3", "too short"),
    ("40040302010f0000a1b2c3d4", "FOptsLen 15 runs past"),
    ("40040302010100000200a1b2c3d4", "FPort 0 with FOpts"),
    ("00" + "00" * 21, "join-request is 23 bytes"),
    ("20" + "00" * 15, "16 or 32 bytes"),
    ("c003" + "00" * 17, "rejoin type 3"),
    ("c0", "too short"),
    ("c000" + "00" * 16, "19 bytes"),
    ("c001" + "00" * 20, "24 bytes"),
    ("4104030201000000a1b2c3d4", "major version 1"),
]


@pytest.mark.parametrize(("wire", "reason"), BAD_FRAMES)
def test_bad_frames_raise_frame_error_with_a_reason(wire: str, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode_phy_payload(bytes.fromhex(wire))


def test_construction_validates_fields() -> None:
    addr = DevAddr(1)
    with pytest.raises(InvalidValueError, match="16 bits"):
        DataFrame(MType.UNCONFIRMED_DATA_UP, addr, f_cnt=0x10000)
    with pytest.raises(InvalidValueError, match="at most 15"):
        DataFrame(MType.UNCONFIRMED_DATA_UP, addr, f_opts=bytes(16))
    with pytest.raises(InvalidValueError, match="needs an FPort"):
        DataFrame(MType.UNCONFIRMED_DATA_UP, addr, frm_payload=b"x")
    with pytest.raises(InvalidValueError, match="not a data message"):
        DataFrame(MType.JOIN_REQUEST, addr)
    with pytest.raises(InvalidValueError, match="MIC must be 4"):
        DataFrame(MType.UNCONFIRMED_DATA_UP, addr, mic=b"\x00")
    with pytest.raises(EncodeError, match="downlink bit"):
        DataFrame(MType.UNCONFIRMED_DATA_UP, addr, FCtrl(f_pending=True)).encode()
    with pytest.raises(EncodeError, match="uplink bits"):
        DataFrame(MType.UNCONFIRMED_DATA_DOWN, addr, FCtrl(class_b=True)).encode()


def test_basics_station_reads_the_same_fields() -> None:
    # Basics Station's own parser (src/selftest_lora.c) as recorded in the vectors: our decoder
    # must agree on every field it reports.
    given_frames, expected = vector("basicstation_frame_to_json")
    jreq = decode_phy_payload(bytes.fromhex(given_frames["jreq_frame"]))
    assert isinstance(jreq, JoinRequest)
    assert f'"JoinEui":"{jreq.join_eui.dashed()}"' in expected["jreq_json_fragment"]
    assert f'"DevEui":"{jreq.dev_eui.dashed()}"' in expected["jreq_json_fragment"]
    assert f'"DevNonce":{jreq.dev_nonce}' in expected["jreq_json_fragment"]
    mic = int.from_bytes(jreq.mic, "little", signed=True)
    assert f'"MIC":{mic}' in expected["jreq_json_fragment"]

    updf = decode_phy_payload(bytes.fromhex(given_frames["updf_frame"]))
    assert isinstance(updf, DataFrame)
    fragment = expected["updf_json_fragment"]
    signed_addr = int.from_bytes(bytes(updf.dev_addr), "big", signed=True)
    assert f'"DevAddr":{signed_addr}' in fragment
    assert f'"FCnt":{updf.f_cnt}' in fragment
    assert f'"FOpts":"{updf.f_opts.hex().upper()}"' in fragment
    assert f'"FPort":{updf.f_port}' in fragment
    assert f'"FRMPayload":"{updf.frm_payload.hex().upper()}"' in fragment

    # Station forwards this 16-byte "join-accept" whole as FRMPayload; it is one byte short of
    # the smallest real join-accept, which the network side must refuse.
    with pytest.raises(FrameError, match="16 or 32 bytes"):
        decode_phy_payload(bytes.fromhex(given_frames["jacc_frame"]))
    prop = decode_phy_payload(bytes.fromhex(given_frames["propdf_frame"]))
    assert isinstance(prop, Proprietary)


# --- properties -------------------------------------------------------------------------------

eui = st.binary(min_size=8, max_size=8).map(EUI64)
mic = st.binary(min_size=4, max_size=4)


@st.composite
def data_frames(draw: st.DrawFn) -> DataFrame:
    mtype = draw(
        st.sampled_from(
            [
                MType.UNCONFIRMED_DATA_UP,
                MType.CONFIRMED_DATA_UP,
                MType.UNCONFIRMED_DATA_DOWN,
                MType.CONFIRMED_DATA_DOWN,
            ]
        )
    )
    uplink = mtype in (MType.UNCONFIRMED_DATA_UP, MType.CONFIRMED_DATA_UP)
    bit4 = draw(st.booleans())
    f_ctrl = FCtrl(
        adr=draw(st.booleans()),
        ack=draw(st.booleans()),
        adr_ack_req=uplink and draw(st.booleans()),
        class_b=uplink and bit4,
        f_pending=not uplink and bit4,
    )
    f_port = draw(st.none() | st.integers(0, 255))
    f_opts = b"" if f_port == 0 else draw(st.binary(max_size=15))
    payload = b"" if f_port is None else draw(st.binary(max_size=64))
    return DataFrame(
        mtype,
        DevAddr(draw(st.binary(min_size=4, max_size=4))),
        f_ctrl,
        draw(st.integers(0, 0xFFFF)),
        f_opts,
        f_port,
        payload,
        draw(mic),
    )


frames = st.one_of(
    data_frames(),
    st.builds(JoinRequest, eui, eui, st.integers(0, 0xFFFF), mic),
    st.builds(
        RejoinRequest02,
        st.sampled_from([0, 2]),
        st.binary(min_size=3, max_size=3).map(NetID),
        eui,
        st.integers(0, 0xFFFF),
        mic,
    ),
    st.builds(RejoinRequest1, eui, eui, st.integers(0, 0xFFFF), mic),
    st.builds(
        EncryptedJoinAccept,
        st.binary(min_size=16, max_size=16) | st.binary(min_size=32, max_size=32),
    ),
    st.builds(Proprietary, st.binary(max_size=64), st.integers(0, 3)),
)


@given(frames)
def test_encode_then_decode_gives_the_same_frame(frame: Frame) -> None:
    wire = frame.encode()
    decoded = decode_phy_payload(wire)
    assert decoded == frame
    assert decoded.encode() == wire


@given(st.binary(max_size=80))
def test_random_bytes_never_raise_anything_but_frame_error(data: bytes) -> None:
    try:
        frame = decode_phy_payload(data)
    except FrameError:
        return
    # MHDR bits 4..2 are RFU and ignored; frames with a MIC keep their received bytes, the
    # others are re-encoded with the RFU bits clear.
    assert frame.encode() in (data, bytes((data[0] & 0xE3,)) + data[1:])


@given(st.sampled_from([0x40, 0x80, 0x60, 0xA0]), st.binary(min_size=7, max_size=60))
def test_random_data_frames_decode_or_fail_cleanly(mhdr: int, rest: bytes) -> None:
    try:
        frame = decode_phy_payload(bytes((mhdr,)) + rest)
    except FrameError:
        return
    assert frame.encode() == bytes((mhdr,)) + rest
