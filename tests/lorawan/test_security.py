"""Round trips through the crypto front door, beyond the published vectors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.crypto import aes
from appliance.lorawan.errors import EncodeError
from appliance.lorawan.frames import DataFrame, EncryptedJoinAccept, FCtrl
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.join_accept import (
    CFListChannelMask,
    CFListFrequencies,
    DLSettings,
    JoinAccept,
)
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys

keys = st.binary(min_size=16, max_size=16).map(AESKey)
sessions = st.one_of(
    st.builds(SessionKeys.for_1_0, keys, keys),
    st.builds(SessionKeys, keys, keys, keys, keys, st.just(True)),
)


@settings(max_examples=200)
@given(
    session=sessions,
    mtype=st.sampled_from(list(MType)[2:6]),
    f_cnt=st.integers(0, 0xFFFFFFFF),
    f_opts=st.binary(max_size=15),
    f_port=st.integers(1, 255),
    payload=st.binary(max_size=222),
    conf_f_cnt=st.integers(0, 0xFFFF),
    tx_dr=st.integers(0, 15),
    tx_ch=st.integers(0, 255),
    ack=st.booleans(),
)
def test_built_frames_verify_and_decrypt(
    *,
    session: SessionKeys,
    mtype: MType,
    f_cnt: int,
    f_opts: bytes,
    f_port: int,
    payload: bytes,
    conf_f_cnt: int,
    tx_dr: int,
    tx_ch: int,
    ack: bool,
) -> None:
    extra = {"conf_f_cnt": conf_f_cnt, "tx_dr": tx_dr, "tx_ch": tx_ch}
    built = security.build_data_frame(
        mtype,
        DevAddr(0x26011BDA),
        session,
        f_cnt,
        f_ctrl=FCtrl(ack=ack),
        f_opts=f_opts,
        f_port=f_port,
        payload=payload,
        **extra,
    )
    frame = decode_phy_payload(built.encode())
    assert isinstance(frame, DataFrame)
    assert frame.f_cnt == f_cnt & 0xFFFF
    assert security.verify_data_mic(frame, session, f_cnt, **extra)
    assert not security.verify_data_mic(frame, session, (f_cnt + 1) & 0xFFFFFFFF, **extra)
    assert security.decrypt_frm_payload(frame, session, f_cnt) == payload
    assert security.decrypt_f_opts(frame, session, f_cnt) == f_opts
    if not session.lorawan_1_1:
        assert frame.f_opts == f_opts  # 1.0.x sends MAC commands in clear
    elif len(f_opts) >= 4:
        assert frame.f_opts != f_opts  # 1.1 encrypts them (a 4-byte collision is 2**-32)


def test_a_flipped_bit_fails_the_mic() -> None:
    session = SessionKeys.for_1_0(AESKey(bytes(range(16))), AESKey(bytes(16)))
    built = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP, DevAddr(1), session, 7, f_port=1, payload=b"hello"
    )
    wire = bytearray(built.encode())
    wire[-6] ^= 0x01
    frame = decode_phy_payload(bytes(wire))
    assert isinstance(frame, DataFrame)
    assert not security.verify_data_mic(frame, session, 7)


def test_1_1_ack_changes_the_mic_only_through_conf_f_cnt() -> None:
    session = SessionKeys(*(AESKey(bytes([i]) * 16) for i in range(4)))
    common = {"f_port": 1, "payload": b"x"}
    with_ack = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        DevAddr(1),
        session,
        3,
        f_ctrl=FCtrl(ack=True),
        conf_f_cnt=9,
        **common,
    )
    assert security.verify_data_mic(with_ack, session, 3, conf_f_cnt=9)
    assert not security.verify_data_mic(with_ack, session, 3, conf_f_cnt=8)
    no_ack = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP, DevAddr(1), session, 3, conf_f_cnt=9, **common
    )
    # Without ACK the counter of a confirmed downlink is not part of the MIC.
    assert security.verify_data_mic(no_ack, session, 3, conf_f_cnt=1234)


def test_build_refuses_impossible_frames() -> None:
    session = SessionKeys.for_1_0(AESKey(bytes(16)), AESKey(bytes(16)))
    with pytest.raises(EncodeError, match="32 bits"):
        security.build_data_frame(MType.UNCONFIRMED_DATA_UP, DevAddr(1), session, 1 << 32)
    with pytest.raises(EncodeError, match="needs an FPort"):
        security.build_data_frame(MType.UNCONFIRMED_DATA_UP, DevAddr(1), session, 1, payload=b"x")
    with pytest.raises(EncodeError, match="at most 15"):
        security.build_data_frame(
            MType.UNCONFIRMED_DATA_UP, DevAddr(1), session, 1, f_opts=bytes(16)
        )


CF_LISTS = [
    None,
    CFListFrequencies((867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)),
    CFListFrequencies((867_100_000,)),
    CFListChannelMask((0x00FF, 0, 0, 0, 0x0001)),
]


@pytest.mark.parametrize("cf_list", CF_LISTS)
@pytest.mark.parametrize("opt_neg", [False, True])
def test_join_accept_seal_then_open(cf_list: CFListFrequencies | None, opt_neg: bool) -> None:
    nwk_key, app_key = AESKey(bytes(range(16))), AESKey(bytes(range(16, 32)))
    dev_eui, join_eui, dev_nonce = EUI64(1), EUI64(2), 77
    accept = JoinAccept(
        join_nonce=0x123456,
        home_net_id=NetID("000013"),
        dev_addr=DevAddr("26011bda"),
        dl_settings=DLSettings(rx1_dr_offset=2, rx2_data_rate=3, opt_neg=opt_neg),
        rx_delay=5,
        cf_list=cf_list,
    )
    mic_key = security.derive_js_int_key(nwk_key, dev_eui) if opt_neg else nwk_key
    wire = security.seal_join_accept(
        accept, mic_key=mic_key, encryption_key=nwk_key, join_eui=join_eui, dev_nonce=dev_nonce
    )
    assert len(wire) == (33 if cf_list else 17)
    frame = decode_phy_payload(wire)
    assert isinstance(frame, EncryptedJoinAccept)
    opened = security.open_join_accept(frame, nwk_key)
    assert (opened.join_nonce, opened.dev_addr, opened.dl_settings, opened.rx_delay) == (
        accept.join_nonce,
        accept.dev_addr,
        accept.dl_settings,
        accept.rx_delay,
    )
    padded = cf_list
    if isinstance(cf_list, CFListFrequencies):
        padded = CFListFrequencies(cf_list.frequencies + (0,) * (5 - len(cf_list.frequencies)))
    assert opened.cf_list == padded
    expected_mic = security.join_accept_mic(opened, mic_key, join_eui=join_eui, dev_nonce=dev_nonce)
    assert opened.mic == expected_mic
    assert app_key != nwk_key


def test_opt_neg_join_accept_needs_request_fields() -> None:
    accept = JoinAccept(1, NetID(0), DevAddr(1), DLSettings(opt_neg=True))
    with pytest.raises(EncodeError, match="JoinEUI and DevNonce"):
        security.seal_join_accept(
            accept, mic_key=AESKey(bytes(16)), encryption_key=AESKey(bytes(16))
        )


def test_channel_mask_cf_list_lists_enabled_channels() -> None:
    assert CFListChannelMask((0x0003, 0, 0, 0, 0x0100)).enabled_channels() == (0, 1, 72)


@settings(max_examples=50)
@given(
    key=st.binary(min_size=16, max_size=16),
    prefix=st.binary(min_size=15, max_size=15),
    first=st.integers(1, 200),
    data=st.binary(max_size=255),
)
def test_aes_ctr_is_the_lorawan_keystream_whether_the_key_is_cached_or_not(
    key: bytes, prefix: bytes, first: int, data: bytes
) -> None:
    blocks = (len(data) + 15) // 16
    if first + blocks > 0x100:
        with pytest.raises(ValueError, match="overrun"):
            aes.aes_ctr(key, prefix + bytes((first,)), data)
        return
    stream = aes.aes_encrypt(key, b"".join(prefix + bytes((first + i,)) for i in range(blocks)))
    expected = bytes(a ^ b for a, b in zip(data, stream, strict=False))
    for _ in range(3):  # one-shot the first time, then from the context cache
        assert aes.aes_ctr(key, prefix + bytes((first,)), data) == expected


def test_aes_ctr_needs_a_whole_counter_block() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        aes.aes_ctr(bytes(16), bytes(15), b"x")


@pytest.mark.parametrize("mtype", [MType(n) for n in range(2, 6)])
def test_decoded_data_frames_equal_the_frames_they_were_built_from(mtype: MType) -> None:
    keys = SessionKeys.for_1_0(AESKey(bytes(range(16))), AESKey(bytes(16)))
    built = security.build_data_frame(
        mtype, DevAddr("26011bda"), keys, 7, f_ctrl=FCtrl(ack=True), f_port=3, payload=b"hi"
    )
    decoded = decode_phy_payload(built.encode())
    assert decoded == built
    assert isinstance(decoded, DataFrame)
    assert decoded.uplink == (mtype in (MType.UNCONFIRMED_DATA_UP, MType.CONFIRMED_DATA_UP))
    assert decoded.confirmed == (mtype in (MType.CONFIRMED_DATA_UP, MType.CONFIRMED_DATA_DOWN))
    assert decoded.encode() == built.encode()
