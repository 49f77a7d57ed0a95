"""Data-frame vectors from brocaar/lorawan, The Things Stack and lora-packet (tests/data)."""

from __future__ import annotations

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.crypto import encryption, mic
from appliance.lorawan.crypto.encryption import FOptsKeystream
from appliance.lorawan.frames import DataFrame, FCtrl
from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from tests.lorawan.vectors import vector


def _data(hex_frame: str) -> DataFrame:
    frame = decode_phy_payload(bytes.fromhex(hex_frame))
    assert isinstance(frame, DataFrame)
    return frame


def test_lw10_uplink_encode_and_decode() -> None:
    given, expected = vector("lw10_uplink_data_adr")
    session = SessionKeys.for_1_0(AESKey(given["NwkSKey"]), AESKey(given["AppSKey"]))
    built = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        DevAddr(given["DevAddr"]),
        session,
        given["FCnt"],
        f_ctrl=FCtrl(adr=True),
        f_port=given["FPort"],
        payload=bytes.fromhex(given["plaintext_hex"]),
    )
    assert built.encode().hex() == expected["PHYPayload"]
    assert built.frm_payload.hex() == expected["FRMPayload_encrypted"]
    decoded = _data(expected["PHYPayload"])
    assert decoded == built
    assert decoded.mic.hex() == expected["MIC"]
    assert security.verify_data_mic(decoded, session, given["FCnt"])
    assert (
        security.decrypt_frm_payload(decoded, session, given["FCnt"]).hex()
        == given["plaintext_hex"]
    )


def test_lw10_uplink_with_fopts() -> None:
    given, expected = vector("lw10_uplink_fopts_maccmds")
    session = SessionKeys.for_1_0(AESKey(given["NwkSKey"]), AESKey(given["AppSKey"]))
    built = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        DevAddr(given["DevAddr"]),
        session,
        given["FCnt"],
        f_opts=bytes.fromhex(given["FOpts"]),
        f_port=given["FPort"],
        payload=bytes.fromhex(given["plaintext_hex"]),
    )
    assert built.encode().hex() == expected["PHYPayload"]
    decoded = _data(expected["PHYPayload"])
    assert decoded.f_opts.hex() == given["FOpts"]
    assert decoded.mic.hex() == expected["MIC"]


def test_lw10_mac_commands_on_port_0_use_the_network_key() -> None:
    given, expected = vector("lw10_uplink_port0_maccmds")
    nwk_s_key = AESKey(given["NwkSKey"])
    # An AppSKey that differs proves port 0 does not use it.
    session = SessionKeys.for_1_0(nwk_s_key, AESKey(bytes(16)))
    built = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        DevAddr(given["DevAddr"]),
        session,
        given["FCnt"],
        f_port=0,
        payload=bytes.fromhex(given["plaintext_hex"]),
    )
    assert built.encode().hex() == expected["PHYPayload"]
    decoded = _data(expected["PHYPayload"])
    assert security.decrypt_frm_payload(decoded, session, 0).hex() == given["plaintext_hex"]


def test_lw10_confirmed_uplink_with_dev_status_ans() -> None:
    given, expected = vector("lw10_confirmed_up_devstatusans")
    session = SessionKeys.for_1_0(AESKey(given["NwkSKey"]), AESKey(given["AppSKey"]))
    built = security.build_data_frame(
        MType.CONFIRMED_DATA_UP,
        DevAddr(given["DevAddr"]),
        session,
        given["FCnt"],
        f_opts=bytes.fromhex(given["FOpts"]),
        f_port=given["FPort"],
        payload=bytes.fromhex(given["plaintext_hex"]),
    )
    assert built.encode().hex() == expected["PHYPayload"]
    assert built.mic.hex() == expected["MIC"]


def test_lw11_uplink_mic_with_and_without_ack() -> None:
    given, expected = vector("lw11_uplink_mic_b0_b1")
    session = SessionKeys(
        f_nwk_s_int_key=AESKey(given["FNwkSIntKey"]),
        s_nwk_s_int_key=AESKey(given["SNwkSIntKey"]),
        nwk_s_enc_key=AESKey(given["NwkSEncKey"]),
        app_s_key=AESKey(given["AppSKey"]),
    )
    extra = {"conf_f_cnt": given["ConfFCnt"], "tx_dr": given["TxDr"], "tx_ch": given["TxCh"]}
    for ack, suffix in ((False, "ack0"), (True, "ack1")):
        built = security.build_data_frame(
            MType.UNCONFIRMED_DATA_UP,
            DevAddr(given["DevAddr"]),
            session,
            given["FCnt"],
            f_ctrl=FCtrl(adr=True, ack=ack),
            f_port=given["FPort"],
            payload=bytes.fromhex(given["plaintext_hex"]),
            **extra,
        )
        assert built.encode().hex() == expected[f"PHYPayload_{suffix}"]
        decoded = _data(expected[f"PHYPayload_{suffix}"])
        assert decoded.mic.hex() == expected[f"MIC_{suffix}"]
        assert security.verify_data_mic(decoded, session, given["FCnt"], **extra)
        wrong_channel = {**extra, "tx_ch": given["TxCh"] + 1}
        assert not security.verify_data_mic(decoded, session, given["FCnt"], **wrong_channel)


def test_lw11_downlink_fopts_encryption_with_both_counters() -> None:
    given, expected = vector("lw11_downlink_fopts_encrypted")
    for case in ("case_nfcnt", "case_afcnt"):
        params = given[case]
        session = SessionKeys(
            f_nwk_s_int_key=AESKey(params["SNwkSIntKey"]),
            s_nwk_s_int_key=AESKey(params["SNwkSIntKey"]),
            nwk_s_enc_key=AESKey(params["NwkSEncKey"]),
            app_s_key=AESKey(params.get("AppSKey", "00" * 16)),
        )
        built = security.build_data_frame(
            MType.UNCONFIRMED_DATA_DOWN,
            DevAddr(params["DevAddr"]),
            session,
            params["FCnt"],
            f_opts=bytes.fromhex(params["FOpts_plain"]),
            f_port=params["FPort"],
            payload=bytes.fromhex(params.get("plaintext_hex", "")),
        )
        assert built.encode().hex() == expected[f"{case}_PHYPayload"]
        decoded = _data(expected[f"{case}_PHYPayload"])
        assert decoded.mic.hex() == expected[f"{case}_MIC"]
        assert security.verify_data_mic(decoded, session, params["FCnt"])
        assert (
            security.decrypt_f_opts(decoded, session, params["FCnt"]).hex() == params["FOpts_plain"]
        )


def test_ttn_frm_payload_encryption_and_mics() -> None:
    given, expected = vector("ttn_data_mic_and_frm_encryption")
    key = bytes.fromhex(given["key"])
    dev_addr = int(DevAddr(given["DevAddr"]))
    plain = bytes.fromhex(given["plain"])
    common = {"dev_addr": dev_addr, "f_cnt": given["FCnt"]}
    up = encryption.encrypt_frm_payload(key, plain, downlink=False, **common)
    down = encryption.encrypt_frm_payload(key, plain, downlink=True, **common)
    assert up.hex() == expected["uplink_FRM_enc"]
    assert down.hex() == expected["downlink_FRM_enc"]
    message = bytes.fromhex(given["msg_without_mic"])
    assert (
        mic.data_mic_10(key, message, downlink=False, **common).hex()
        == expected["legacy_uplink_MIC"]
    )
    assert (
        mic.data_mic_10(key, message, downlink=True, **common).hex()
        == expected["legacy_downlink_MIC(dir=1 over same bytes)"]
    )
    lw11 = mic.uplink_mic_11(key, key, message, conf_f_cnt=0, tx_dr=0, tx_ch=0, **common)
    assert lw11.hex() == expected["lw11_uplink_MIC_conf0_dr0_ch0_same_keys"]


def test_fopts_keystream_variants() -> None:
    given, expected = vector("ttn_fopts_encryption")
    key = bytes.fromhex(given["key"])
    common = {"dev_addr": int(DevAddr(given["DevAddr"])), "f_cnt": given["FCnt"]}
    plain = bytes.fromhex(given["plain"])
    cases = (
        (FOptsKeystream.ORIGINAL_1_1, False, expected["uplink"]),
        (FOptsKeystream.ORIGINAL_1_1, True, expected["downlink"]),
        (FOptsKeystream.ERRATA, False, expected["for_comparison_brocaar_style_A4_1_A15_1_uplink"]),
        (FOptsKeystream.ERRATA, True, expected["for_comparison_brocaar_style_A4_1_A15_1_downlink"]),
    )
    for keystream, downlink, cipher_hex in cases:
        out = encryption.encrypt_f_opts(
            key, plain, downlink=downlink, keystream=keystream, **common
        )
        assert out.hex() == cipher_hex, (keystream, downlink)


def test_lora_packet_readme_example() -> None:
    given, expected = vector("lora_packet_readme")
    frame = _data(given["PHYPayload"])
    session = SessionKeys.for_1_0(AESKey(given["NwkSKey"]), AESKey(given["AppSKey"]))
    assert frame.mic.hex() == expected["MIC"]
    assert security.verify_data_mic(frame, session, frame.f_cnt)
    assert security.decrypt_frm_payload(frame, session, frame.f_cnt).hex() == expected["plaintext"]
