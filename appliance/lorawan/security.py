"""Typed front door to the LoRaWAN cryptography: keys, MICs and encryption for frame values.

A 1.0.x session is a 1.1 session whose three network keys are the same NwkSKey; ``SessionKeys``
models both (as ChirpStack's device session does) and the functions here choose the 1.0.x or
1.1 algorithms from ``SessionKeys.lorawan_1_1``.

Frame counters passed here are the full 32-bit values (see ``appliance.lorawan.fcnt``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace

from appliance.lorawan.crypto import encryption, keys, mic
from appliance.lorawan.crypto.encryption import FOptsKeystream
from appliance.lorawan.errors import EncodeError, InvalidValueError
from appliance.lorawan.frames import (
    DataFrame,
    EncryptedJoinAccept,
    FCtrl,
    JoinRequest,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.join_accept import JoinAccept
from appliance.lorawan.mhdr import MType

_NO_FLAGS = FCtrl()

__all__ = [
    "FOptsKeystream",
    "SessionKeys",
    "build_data_frame",
    "data_frame_mic",
    "decrypt_f_opts",
    "decrypt_frm_payload",
    "derive_js_enc_key",
    "derive_js_int_key",
    "derive_session_keys_1_0",
    "derive_session_keys_1_1",
    "join_accept_mic",
    "join_request_mic",
    "open_join_accept",
    "rejoin_request_mic",
    "seal_join_accept",
    "sign_join_request",
    "sign_rejoin_request",
    "verify_data_mic",
    "verify_join_request",
    "verify_rejoin_request",
]


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """The keys of an activated session. For LoRaWAN 1.0.x the three network keys are NwkSKey."""

    f_nwk_s_int_key: AESKey
    s_nwk_s_int_key: AESKey
    nwk_s_enc_key: AESKey
    app_s_key: AESKey
    lorawan_1_1: bool = True

    @classmethod
    def for_1_0(cls, nwk_s_key: AESKey, app_s_key: AESKey) -> SessionKeys:
        return cls(nwk_s_key, nwk_s_key, nwk_s_key, app_s_key, lorawan_1_1=False)

    @property
    def nwk_s_key(self) -> AESKey:
        """LoRaWAN 1.0.x name of the network session key."""
        return self.f_nwk_s_int_key


# --- data frames -----------------------------------------------------------------------------


def data_frame_mic(
    frame: DataFrame,
    session: SessionKeys,
    f_cnt: int,
    *,
    conf_f_cnt: int = 0,
    tx_dr: int = 0,
    tx_ch: int = 0,
) -> bytes:
    """The MIC ``frame`` should carry. 1.1 only: ``conf_f_cnt`` (the counter of the confirmed
    frame being acknowledged, used only when ACK is set), ``tx_dr``/``tx_ch`` (uplink data rate
    and channel index)."""
    message = frame.signed_part()
    dev_addr = int(frame.dev_addr)
    if not session.lorawan_1_1:
        return mic.data_mic_10(
            bytes(session.f_nwk_s_int_key),
            message,
            dev_addr=dev_addr,
            f_cnt=f_cnt,
            downlink=not frame.uplink,
        )
    confirmed_counter = conf_f_cnt if frame.f_ctrl.ack else 0
    if frame.uplink:
        return mic.uplink_mic_11(
            bytes(session.f_nwk_s_int_key),
            bytes(session.s_nwk_s_int_key),
            message,
            dev_addr=dev_addr,
            f_cnt=f_cnt,
            conf_f_cnt=confirmed_counter,
            tx_dr=tx_dr,
            tx_ch=tx_ch,
        )
    return mic.downlink_mic_11(
        bytes(session.s_nwk_s_int_key),
        message,
        dev_addr=dev_addr,
        f_cnt=f_cnt,
        conf_f_cnt=confirmed_counter,
    )


def verify_data_mic(
    frame: DataFrame,
    session: SessionKeys,
    f_cnt: int,
    *,
    conf_f_cnt: int = 0,
    tx_dr: int = 0,
    tx_ch: int = 0,
) -> bool:
    expected = data_frame_mic(
        frame, session, f_cnt, conf_f_cnt=conf_f_cnt, tx_dr=tx_dr, tx_ch=tx_ch
    )
    return hmac.compare_digest(expected, frame.mic)


def _payload_key(frame: DataFrame, session: SessionKeys) -> bytes:
    return bytes(session.nwk_s_enc_key if frame.f_port == 0 else session.app_s_key)


def decrypt_frm_payload(frame: DataFrame, session: SessionKeys, f_cnt: int) -> bytes:
    """The plaintext FRMPayload: AppSKey for FPort > 0, NwkSKey/NwkSEncKey for FPort 0."""
    return encryption.encrypt_frm_payload(
        _payload_key(frame, session),
        frame.frm_payload,
        dev_addr=int(frame.dev_addr),
        f_cnt=f_cnt,
        downlink=not frame.uplink,
    )


def decrypt_f_opts(
    frame: DataFrame,
    session: SessionKeys,
    f_cnt: int,
    *,
    keystream: FOptsKeystream = FOptsKeystream.ERRATA,
) -> bytes:
    """The plaintext FOpts: encrypted with NwkSEncKey in 1.1, sent in clear in 1.0.x.

    For a downlink ``f_cnt`` is AFCntDown when FPort > 0 and NFCntDown otherwise.
    """
    if not session.lorawan_1_1:
        return frame.f_opts
    return encryption.encrypt_f_opts(
        bytes(session.nwk_s_enc_key),
        frame.f_opts,
        dev_addr=int(frame.dev_addr),
        f_cnt=f_cnt,
        downlink=not frame.uplink,
        a_f_cnt_down=not frame.uplink and bool(frame.f_port),
        keystream=keystream,
    )


def build_data_frame(
    mtype: MType,
    dev_addr: DevAddr,
    session: SessionKeys,
    f_cnt: int,
    *,
    f_ctrl: FCtrl = _NO_FLAGS,
    f_opts: bytes = b"",
    f_port: int | None = None,
    payload: bytes = b"",
    conf_f_cnt: int = 0,
    tx_dr: int = 0,
    tx_ch: int = 0,
    keystream: FOptsKeystream = FOptsKeystream.ERRATA,
) -> DataFrame:
    """Encrypt and sign a data frame from plaintext FOpts and payload; ``f_cnt`` is 32-bit."""
    if not 0 <= f_cnt <= 0xFFFFFFFF:
        raise EncodeError(f"frame counter must fit 32 bits, got {f_cnt}")
    if payload and f_port is None:
        raise EncodeError("a payload needs an FPort")
    try:
        frame = DataFrame(mtype, dev_addr, f_ctrl, f_cnt & 0xFFFF, f_opts, f_port, payload)
    except InvalidValueError as exc:
        raise EncodeError(str(exc)) from None
    downlink = not frame.uplink
    encrypted_opts = f_opts
    if session.lorawan_1_1 and f_opts:
        encrypted_opts = encryption.encrypt_f_opts(
            bytes(session.nwk_s_enc_key),
            f_opts,
            dev_addr=int(dev_addr),
            f_cnt=f_cnt,
            downlink=downlink,
            a_f_cnt_down=downlink and bool(f_port),
            keystream=keystream,
        )
    encrypted_payload = encryption.encrypt_frm_payload(
        _payload_key(frame, session),
        payload,
        dev_addr=int(dev_addr),
        f_cnt=f_cnt,
        downlink=downlink,
    )
    frame = replace(frame, f_opts=encrypted_opts, frm_payload=encrypted_payload)
    signature = data_frame_mic(
        frame, session, f_cnt, conf_f_cnt=conf_f_cnt, tx_dr=tx_dr, tx_ch=tx_ch
    )
    return replace(frame, mic=signature)


# --- join and rejoin requests ----------------------------------------------------------------


def join_request_mic(frame: JoinRequest, key: AESKey) -> bytes:
    """MIC of a join-request with AppKey (1.0.x device) or NwkKey (1.1 device)."""
    return mic.join_request_mic(bytes(key), frame.signed_part())


def verify_join_request(frame: JoinRequest, key: AESKey) -> bool:
    return hmac.compare_digest(join_request_mic(frame, key), frame.mic)


def sign_join_request(frame: JoinRequest, key: AESKey) -> JoinRequest:
    return replace(frame, mic=join_request_mic(frame, key))


def rejoin_request_mic(frame: RejoinRequest02 | RejoinRequest1, key: AESKey) -> bytes:
    """MIC with SNwkSIntKey (types 0 and 2) or JSIntKey (type 1)."""
    return mic.rejoin_request_mic(bytes(key), frame.signed_part())


def verify_rejoin_request(frame: RejoinRequest02 | RejoinRequest1, key: AESKey) -> bool:
    return hmac.compare_digest(rejoin_request_mic(frame, key), frame.mic)


def sign_rejoin_request(
    frame: RejoinRequest02 | RejoinRequest1, key: AESKey
) -> RejoinRequest02 | RejoinRequest1:
    return replace(frame, mic=rejoin_request_mic(frame, key))


# --- join-accept ------------------------------------------------------------------------------


def join_accept_mic(
    accept: JoinAccept,
    key: AESKey,
    *,
    join_req_type: int = mic.JOIN_REQUEST_TYPE,
    join_eui: EUI64 | None = None,
    dev_nonce: int | None = None,
) -> bytes:
    """The join-accept MIC. With OptNeg set (1.1 network, 1.1 device) ``key`` is JSIntKey and
    ``join_eui``/``dev_nonce`` of the request are part of it; otherwise ``key`` is AppKey (1.0.x
    device) or NwkKey (1.1 device)."""
    message = accept.signed_part()
    if not accept.dl_settings.opt_neg:
        return mic.join_accept_mic_10(bytes(key), message)
    if join_eui is None or dev_nonce is None:
        raise EncodeError("a join-accept with OptNeg set needs the request's JoinEUI and DevNonce")
    return mic.join_accept_mic_11(
        bytes(key),
        message,
        join_req_type=join_req_type,
        join_eui_wire=join_eui.to_wire(),
        dev_nonce=dev_nonce,
    )


def seal_join_accept(
    accept: JoinAccept,
    *,
    mic_key: AESKey,
    encryption_key: AESKey,
    join_req_type: int = mic.JOIN_REQUEST_TYPE,
    join_eui: EUI64 | None = None,
    dev_nonce: int | None = None,
) -> bytes:
    """Sign and encrypt a join-accept; returns the PHYPayload to transmit.

    ``encryption_key``: AppKey (1.0.x), NwkKey (1.1, answering a join-request) or JSEncKey
    (1.1, answering a rejoin-request).
    """
    signature = join_accept_mic(
        accept, mic_key, join_req_type=join_req_type, join_eui=join_eui, dev_nonce=dev_nonce
    )
    plain = accept.signed_part() + signature
    return plain[:1] + encryption.encrypt_join_accept(bytes(encryption_key), plain[1:])


def open_join_accept(frame: EncryptedJoinAccept, key: AESKey) -> JoinAccept:
    """Decrypt and parse a join-accept as the device does (the MIC is left to the caller)."""
    plain = encryption.decrypt_join_accept(bytes(key), frame.ciphertext)
    return JoinAccept.decode_plain(frame.encode()[:1] + plain)


# --- key derivation ---------------------------------------------------------------------------


def derive_session_keys_1_0(
    key: AESKey, *, join_nonce: int, net_id: NetID, dev_nonce: int
) -> SessionKeys:
    """Session keys when OptNeg is clear: ``key`` is AppKey (1.0.x) or NwkKey (1.1 device on a
    1.0 network); all three network keys are the NwkSKey."""
    _check_nonces(join_nonce, dev_nonce)
    nwk_s_key, app_s_key = keys.derive_10(
        bytes(key),
        (0x01, 0x02),
        join_nonce=join_nonce,
        net_id_wire=net_id.to_wire(),
        dev_nonce=dev_nonce,
    )
    return SessionKeys.for_1_0(AESKey(nwk_s_key), AESKey(app_s_key))


def derive_session_keys_1_1(
    nwk_key: AESKey, app_key: AESKey, *, join_nonce: int, join_eui: EUI64, dev_nonce: int
) -> SessionKeys:
    """Session keys of a LoRaWAN 1.1 join with OptNeg set."""
    _check_nonces(join_nonce, dev_nonce)
    wire = join_eui.to_wire()
    f_int, s_int, enc = keys.derive_11(
        bytes(nwk_key),
        (0x01, 0x03, 0x04),
        join_nonce=join_nonce,
        join_eui_wire=wire,
        dev_nonce=dev_nonce,
    )
    (app,) = keys.derive_11(
        bytes(app_key), (0x02,), join_nonce=join_nonce, join_eui_wire=wire, dev_nonce=dev_nonce
    )
    return SessionKeys(AESKey(f_int), AESKey(s_int), AESKey(enc), AESKey(app), lorawan_1_1=True)


def derive_js_enc_key(nwk_key: AESKey, dev_eui: EUI64) -> AESKey:
    return AESKey(keys.derive_join_server_keys(bytes(nwk_key), (0x05,), dev_eui.to_wire())[0])


def derive_js_int_key(nwk_key: AESKey, dev_eui: EUI64) -> AESKey:
    return AESKey(keys.derive_join_server_keys(bytes(nwk_key), (0x06,), dev_eui.to_wire())[0])


def _check_nonces(join_nonce: int, dev_nonce: int) -> None:
    if not 0 <= join_nonce <= 0xFFFFFF:
        raise InvalidValueError(f"JoinNonce is 24 bits, got {join_nonce}")
    if not 0 <= dev_nonce <= 0xFFFF:
        raise InvalidValueError(f"DevNonce is 16 bits, got {dev_nonce}")
