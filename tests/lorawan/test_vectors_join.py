"""Join-request, join-accept, rejoin and key-derivation vectors (tests/data names the sources)."""

from __future__ import annotations

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.crypto import encryption, mic
from appliance.lorawan.frames import (
    EncryptedJoinAccept,
    JoinRequest,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.join_accept import DLSettings, JoinAccept
from tests.lorawan.vectors import vector


def test_join_request_mic_and_layout() -> None:
    given, expected = vector("join_request_mic")
    for case in ("a", "b"):
        params = given[case]
        request = security.sign_join_request(
            JoinRequest(EUI64(params["JoinEUI"]), EUI64(params["DevEUI"]), params["DevNonce"]),
            AESKey(params["AppKey"]),
        )
        assert request.encode().hex() == expected[f"{case}_PHYPayload"]
        decoded = decode_phy_payload(bytes.fromhex(expected[f"{case}_PHYPayload"]))
        assert decoded == request
        assert isinstance(decoded, JoinRequest)
        assert security.verify_join_request(decoded, AESKey(params["AppKey"]))
        assert not security.verify_join_request(decoded, AESKey(bytes(16)))


def _accept(params: dict[str, object], dl_settings: DLSettings) -> JoinAccept:
    return JoinAccept(
        join_nonce=int(params["JoinNonce"]),  # type: ignore[call-overload]
        home_net_id=NetID(str(params["NetID"])),
        dev_addr=DevAddr(str(params["DevAddr"])),
        dl_settings=dl_settings,
        rx_delay=int(params["RxDelay"]),  # type: ignore[call-overload]
    )


def test_join_accept_lorawan_1_0() -> None:
    given, expected = vector("join_accept_lw10")
    for case in ("a", "b"):
        params = given[case]
        key = AESKey(params["AppKey"])
        accept = _accept(params, DLSettings.from_byte(params["DLSettings"]))
        wire = security.seal_join_accept(accept, mic_key=key, encryption_key=key)
        assert wire.hex() == expected[f"{case}_wire"]
        frame = decode_phy_payload(wire)
        assert isinstance(frame, EncryptedJoinAccept)
        opened = security.open_join_accept(frame, key)
        assert opened == accept.__class__(**{**_fields(accept), "mic": opened.mic})
        assert security.join_accept_mic(opened, key) == opened.mic
    plain_a = bytes.fromhex(expected["a_plain"])
    assert JoinAccept.decode_plain(plain_a).mic.hex() == expected["a_MIC"]


def _fields(accept: JoinAccept) -> dict[str, object]:
    return {
        name: getattr(accept, name)
        for name in (
            "join_nonce",
            "home_net_id",
            "dev_addr",
            "dl_settings",
            "rx_delay",
            "cf_list",
            "major",
        )
    }


def test_join_accept_lorawan_1_1_opt_neg() -> None:
    given, expected = vector("join_accept_lw11_optneg")
    key = AESKey(given["Key"])
    accept = _accept(given, DLSettings.from_byte(int(given["DLSettings"], 16)))
    assert accept.dl_settings.opt_neg
    wire = security.seal_join_accept(
        accept,
        mic_key=key,
        encryption_key=key,
        join_req_type=int(given["JoinReqType"], 16),
        join_eui=EUI64(given["JoinEUI"]),
        dev_nonce=given["DevNonce"],
    )
    assert wire.hex() == expected["wire"]


def test_rejoin_request_mics() -> None:
    given, expected = vector("rejoin_request_mic")
    key = AESKey(given["key"])
    type2 = security.sign_rejoin_request(
        RejoinRequest02(
            2,
            NetID(given["type2"]["NetID"]),
            EUI64(given["type2"]["DevEUI"]),
            given["type2"]["RJCount0"],
        ),
        key,
    )
    assert type2.encode().hex() == expected["type2_PHYPayload"]
    type1 = security.sign_rejoin_request(
        RejoinRequest1(
            EUI64(given["type1"]["JoinEUI"]),
            EUI64(given["type1"]["DevEUI"]),
            given["type1"]["RJCount1"],
        ),
        key,
    )
    assert type1.encode().hex() == expected["type1_PHYPayload"]
    for wire_hex, built in (
        (expected["type2_PHYPayload"], type2),
        (expected["type1_PHYPayload"], type1),
    ):
        decoded = decode_phy_payload(bytes.fromhex(wire_hex))
        assert decoded == built
        assert isinstance(decoded, RejoinRequest02 | RejoinRequest1)
        assert security.verify_rejoin_request(decoded, key)


def test_session_keys_of_both_versions() -> None:
    given, expected = vector("session_keys_lw10_lw11_joinserver")
    nwk_key = AESKey(given["NwkKey"])
    lw10 = security.derive_session_keys_1_0(
        nwk_key,
        join_nonce=given["JoinNonce"],
        net_id=NetID(given["NetID"]),
        dev_nonce=given["DevNonce"],
    )
    assert str(lw10.nwk_s_key) == expected["lw10_NwkSKey"]
    assert str(lw10.app_s_key) == expected["lw10_AppSKey"]
    assert not lw10.lorawan_1_1
    lw11 = security.derive_session_keys_1_1(
        nwk_key,
        AESKey(given["AppKey_for_1.1_AppSKey"]),
        join_nonce=given["JoinNonce"],
        join_eui=EUI64(given["JoinEUI"]),
        dev_nonce=given["DevNonce"],
    )
    assert str(lw11.f_nwk_s_int_key) == expected["lw11_FNwkSIntKey"]
    assert str(lw11.s_nwk_s_int_key) == expected["lw11_SNwkSIntKey"]
    assert str(lw11.nwk_s_enc_key) == expected["lw11_NwkSEncKey"]
    assert str(lw11.app_s_key) == expected["lw11_AppSKey"]


def test_ttn_key_derivation() -> None:
    given, expected = vector("ttn_key_derivation")
    key = AESKey(given["Key"])
    nonces = {"join_nonce": int(given["JoinNonce"], 16), "dev_nonce": int(given["DevNonce"], 16)}
    lw11 = security.derive_session_keys_1_1(key, key, join_eui=EUI64(given["JoinEUI"]), **nonces)
    assert str(lw11.app_s_key) == expected["AppSKey_1.1"]
    assert str(lw11.f_nwk_s_int_key) == expected["FNwkSIntKey"]
    assert str(lw11.s_nwk_s_int_key) == expected["SNwkSIntKey"]
    assert str(lw11.nwk_s_enc_key) == expected["NwkSEncKey"]
    legacy = security.derive_session_keys_1_0(key, net_id=NetID(given["NetID"]), **nonces)
    assert str(legacy.app_s_key) == expected["LegacyAppSKey"]
    assert str(legacy.nwk_s_key) == expected["LegacyNwkSKey"]
    dev_eui = EUI64(given["DevEUI"])
    assert str(security.derive_js_int_key(key, dev_eui)) == expected["JSIntKey"]
    assert str(security.derive_js_enc_key(key, dev_eui)) == expected["JSEncKey"]


def test_ttn_join_messages() -> None:
    given, expected = vector("ttn_join_messages")
    key = bytes.fromhex(given["key"])
    plain = bytes.fromhex(given["join_accept_plain_payload_with_mic"])
    encrypted = encryption.encrypt_join_accept(key, plain)
    assert encrypted.hex() == expected["join_accept_encrypted(no MHDR)"]
    assert encryption.decrypt_join_accept(key, encrypted) == plain
    assert (
        mic.join_accept_mic_10(key, b"\x20" + plain[:-4]).hex()
        == expected["legacy_join_accept_MIC"]
    )
    request = bytes.fromhex(given["join_request_wire_without_mic"])
    assert mic.join_request_mic(key, request).hex() == expected["join_request_MIC"]
    for rejoin_type in (0, 1, 2):
        message = bytes.fromhex(given[f"rejoin{rejoin_type}_wire_without_mic"])
        assert mic.rejoin_request_mic(key, message).hex() == expected[f"rejoin{rejoin_type}_MIC"]
    lw11 = given["lw11_join_accept"]
    # Despite the "_wire" suffix these two are The Things Stack's MSB-first types (its test
    # builds EUI64{0x08, ..., 0x01} and DevNonce{0x02, 0x01}); reversed, they reproduce its MIC,
    # taken as wire order they do not.
    computed = mic.join_accept_mic_11(
        key,
        bytes.fromhex(lw11["payload"]),
        join_req_type=int(lw11["JoinReqType"], 16),
        join_eui_wire=EUI64(lw11["JoinEUI_wire"]).to_wire(),
        dev_nonce=int(lw11["DevNonce_wire"], 16),
    )
    assert computed.hex() == expected["lw11_join_accept_MIC"]
