"""OTAA on the device: DevNonce, join- and rejoin-requests (types 0, 1, 2), opening a join-accept.

LoRaWAN 1.0.3 section 6.2.4 (DevNonce random, never repeated), 1.0.4 section 6.2.5 and 1.1
section 6.2.4 (DevNonce a counter from 0); join-accept: 1.0.4 section 6.2.6, 1.1 section 6.2.3
(MIC with JSIntKey, JoinReqType, JoinEUI and DevNonce when OptNeg is set; encrypted with NwkKey,
or with JSEncKey when it answers a rejoin-request; the rejoin's RJcount stands in for DevNonce).
JoinNonce replay: a 1.0.4/1.1 device accepts only a greater JoinNonce; older ones refuse the
same one twice (both as LoRaMac-node does).
"""

from __future__ import annotations

import hmac
import random
from dataclasses import dataclass, replace
from typing import Final

from appliance.devicesim.config import OTAA, DeviceConfig, LoRaWANVersion
from appliance.devicesim.regional import is_downlink_rate
from appliance.devicesim.results import DownlinkRefused, Refusal
from appliance.devicesim.session import Session
from appliance.lorawan import security
from appliance.lorawan.crypto import encryption, mic
from appliance.lorawan.errors import FrameError
from appliance.lorawan.frames import (
    EncryptedJoinAccept,
    JoinRequest,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import AESKey
from appliance.lorawan.join_accept import JoinAccept
from appliance.lorawan.regions import Region
from appliance.lorawan.security import SessionKeys

JOIN_REQUEST_TYPE: Final = mic.JOIN_REQUEST_TYPE
MAX_DEV_NONCE: Final = 0xFFFF
_OPT_NEG_BIT: Final = 0x80
_DL_SETTINGS_OFFSET: Final = 11  # MHDR, JoinNonce (3), NetID (3), DevAddr (4)
_JOIN_ACCEPT_WITHOUT_CF_LIST: Final = 13


@dataclass(frozen=True, slots=True)
class JoinState:
    """What survives across joins (and across runs, in a snapshot) so nonces never repeat."""

    next_dev_nonce: int = 0  # 1.0.4 and 1.1
    used_dev_nonces: frozenset[int] = frozenset()  # random DevNonces already sent (1.0.2/1.0.3)
    last_join_nonce: int | None = None
    next_rj_count1: int = 0  # 1.1 type 1 rejoin-requests: never restarts, never wraps


@dataclass(frozen=True, slots=True)
class PendingJoin:
    """The request a join-accept must answer: its JoinReqType and nonce (DevNonce or RJcount0)."""

    join_req_type: int
    nonce: int


@dataclass(frozen=True, slots=True)
class JoinOutcome:
    accept: JoinAccept
    keys: SessionKeys
    opt_neg: bool


def draw_dev_nonce(
    state: JoinState, version: LoRaWANVersion, rng: random.Random
) -> tuple[int, JoinState] | None:
    """The DevNonce of the next join-request and the state after it; None when all are used."""
    if version.dev_nonce_is_counter:
        nonce = state.next_dev_nonce
        if nonce > MAX_DEV_NONCE:
            return None  # the specification requires a new JoinEUI from here on
        return nonce, replace(state, next_dev_nonce=nonce + 1)
    if len(state.used_dev_nonces) > MAX_DEV_NONCE:
        return None
    nonce = rng.randrange(MAX_DEV_NONCE + 1)
    while nonce in state.used_dev_nonces:
        # Linear probing keeps the draw bounded even when most values are used.
        nonce = (nonce + 1) & MAX_DEV_NONCE
    return nonce, replace(state, used_dev_nonces=state.used_dev_nonces | {nonce})


def _otaa(config: DeviceConfig) -> OTAA:
    activation = config.activation
    assert isinstance(activation, OTAA), "only OTAA devices join"
    return activation


def _root_key(config: DeviceConfig) -> AESKey:
    """AppKey for a 1.0.x device, NwkKey for a 1.1 device: it signs requests and opens accepts."""
    otaa = _otaa(config)
    if config.lorawan_version.is_1_1:
        assert otaa.nwk_key is not None
        return otaa.nwk_key
    return otaa.app_key


def build_join_request(config: DeviceConfig, dev_nonce: int) -> bytes:
    frame = JoinRequest(config.join_eui, config.dev_eui, dev_nonce)
    return security.sign_join_request(frame, _root_key(config)).encode()


def build_rejoin_request(config: DeviceConfig, session: Session, rejoin_type: int) -> bytes:
    """A type 0 or 2 rejoin-request of a LoRaWAN 1.1 session, signed with SNwkSIntKey."""
    assert session.net_id is not None, "only joined sessions rejoin"
    frame = RejoinRequest02(rejoin_type, session.net_id, config.dev_eui, session.rj_count0)
    return security.sign_rejoin_request(frame, session.keys.s_nwk_s_int_key).encode()


def build_rejoin_request_1(config: DeviceConfig, rj_count1: int) -> bytes:
    """A type 1 rejoin-request (LoRaWAN 1.1 6.2.4.2): JoinEUI, DevEUI and RJcount1, signed
    with JSIntKey, so the join server can answer a device whose session it no longer shares."""
    js_int_key = security.derive_js_int_key(_root_key(config), config.dev_eui)
    frame = RejoinRequest1(config.join_eui, config.dev_eui, rj_count1)
    return security.sign_rejoin_request(frame, js_int_key).encode()


def _parse(plain: bytes) -> JoinAccept:
    try:
        return JoinAccept.decode_plain(plain)
    except FrameError:
        # Only a reserved CFList type makes a decrypted accept unparsable; the regional
        # parameters ask the device to ignore such a CFList, not the accept.
        return JoinAccept.decode_plain(plain[:_JOIN_ACCEPT_WITHOUT_CF_LIST] + plain[-4:])


def _check_join_nonce(join_nonce: int, last: int | None, version: LoRaWANVersion) -> None:
    if last is None:
        return
    if version.dev_nonce_is_counter and join_nonce <= last:
        raise DownlinkRefused(
            Refusal.JOIN_NONCE_REPLAY, f"JoinNonce {join_nonce} is not above the last ({last})"
        )
    if join_nonce == last:
        raise DownlinkRefused(Refusal.JOIN_NONCE_REPLAY, f"JoinNonce {join_nonce} seen before")


def _check_settings(accept: JoinAccept, region: Region) -> None:
    offset = accept.dl_settings.rx1_dr_offset
    if offset >= region.rx1_data_rates.offset_count:
        raise DownlinkRefused(
            Refusal.INVALID_JOIN_ACCEPT, f"RX1DROffset {offset} is not defined in {region.name}"
        )
    rx2 = accept.dl_settings.rx2_data_rate
    if not is_downlink_rate(region, rx2):
        raise DownlinkRefused(
            Refusal.INVALID_JOIN_ACCEPT, f"RX2 DR{rx2} is not a downlink rate of {region.name}"
        )


def open_join_accept(
    frame: EncryptedJoinAccept,
    *,
    config: DeviceConfig,
    region: Region,
    pending: PendingJoin,
    state: JoinState,
) -> JoinOutcome:
    """Decrypt, authenticate and check a join-accept; raises ``DownlinkRefused``."""
    version = config.lorawan_version
    otaa = _otaa(config)
    root = _root_key(config)
    answers_rejoin = pending.join_req_type != JOIN_REQUEST_TYPE
    js_int_key = js_enc_key = None
    if version.is_1_1:
        js_int_key = security.derive_js_int_key(root, config.dev_eui)
        js_enc_key = security.derive_js_enc_key(root, config.dev_eui)
    key = js_enc_key if answers_rejoin and js_enc_key is not None else root
    plain = frame.encode()[:1] + encryption.decrypt_join_accept(bytes(key), frame.ciphertext)
    # A 1.0.x device reads the OptNeg bit as RFU and keeps to the 1.0 MIC.
    opt_neg = version.is_1_1 and bool(plain[_DL_SETTINGS_OFFSET] & _OPT_NEG_BIT)
    if answers_rejoin and not opt_neg:
        raise DownlinkRefused(
            Refusal.INVALID_JOIN_ACCEPT, "a rejoin can only be answered by a 1.1 network"
        )
    signed = plain[:-4]
    if opt_neg:
        assert js_int_key is not None
        expected = mic.join_accept_mic_11(
            bytes(js_int_key),
            signed,
            join_req_type=pending.join_req_type,
            join_eui_wire=config.join_eui.to_wire(),
            dev_nonce=pending.nonce,
        )
    else:
        expected = mic.join_accept_mic_10(bytes(root), signed)
    if not hmac.compare_digest(expected, plain[-4:]):
        raise DownlinkRefused(Refusal.MIC_MISMATCH, "join-accept MIC does not verify")
    accept = _parse(plain)
    _check_join_nonce(accept.join_nonce, state.last_join_nonce, version)
    _check_settings(accept, region)
    if opt_neg:
        assert otaa.nwk_key is not None
        keys = security.derive_session_keys_1_1(
            otaa.nwk_key,
            otaa.app_key,
            join_nonce=accept.join_nonce,
            join_eui=config.join_eui,
            dev_nonce=pending.nonce,
        )
    else:
        keys = security.derive_session_keys_1_0(
            root, join_nonce=accept.join_nonce, net_id=accept.home_net_id, dev_nonce=pending.nonce
        )
    return JoinOutcome(accept, keys, opt_neg)
