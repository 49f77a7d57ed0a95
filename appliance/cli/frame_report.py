"""Turns a PHYPayload and whatever keys the user has into the JSON report of ``frame decode``.

Every check that needs a key the user did not give is reported as ``null`` rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.fcnt import f_cnt_from_msb
from appliance.lorawan.frames import (
    DataFrame,
    EncryptedJoinAccept,
    Frame,
    JoinRequest,
    Proprietary,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import EUI64, AESKey
from appliance.lorawan.join_accept import CFListChannelMask, CFListFrequencies, JoinAccept
from appliance.lorawan.maccommands import decode_mac_commands
from appliance.lorawan.security import SessionKeys


@dataclass(frozen=True, slots=True)
class DecodeKeys:
    """What the user passed on the command line; every field is optional."""

    nwk_s_key: AESKey | None = None
    app_s_key: AESKey | None = None
    f_nwk_s_int_key: AESKey | None = None
    s_nwk_s_int_key: AESKey | None = None
    nwk_s_enc_key: AESKey | None = None
    app_key: AESKey | None = None
    nwk_key: AESKey | None = None
    js_int_key: AESKey | None = None
    f_cnt_msb: int = 0
    conf_f_cnt: int = 0
    tx_dr: int = 0
    tx_ch: int = 0
    join_eui: EUI64 | None = None
    dev_eui: EUI64 | None = None
    dev_nonce: int | None = None
    join_req_type: int = 0xFF

    @property
    def lorawan_1_1(self) -> bool:
        return any((self.f_nwk_s_int_key, self.s_nwk_s_int_key, self.nwk_s_enc_key))

    @property
    def root_key(self) -> AESKey | None:
        """The key of join messages: NwkKey for 1.1 devices, AppKey for 1.0.x."""
        return self.nwk_key or self.app_key


_ZERO_KEY = AESKey(bytes(16))


def decode_report(data: bytes, keys: DecodeKeys) -> dict[str, Any]:
    """Decode ``data``; raises ``FrameError`` when it is not a frame."""
    frame = decode_phy_payload(data)
    report: dict[str, Any] = {
        "message_type": frame.mtype.label,
        "major": frame.major,
        "phy_payload": data.hex(),
    }
    report.update(_frame_fields(frame, keys))
    return report


def _frame_fields(frame: Frame, keys: DecodeKeys) -> dict[str, Any]:
    if isinstance(frame, DataFrame):
        return _data_fields(frame, keys)
    if isinstance(frame, JoinRequest):
        key = keys.root_key
        return {
            "join_eui": str(frame.join_eui),
            "dev_eui": str(frame.dev_eui),
            "dev_nonce": frame.dev_nonce,
            "mic": frame.mic.hex(),
            "mic_valid": None if key is None else security.verify_join_request(frame, key),
        }
    if isinstance(frame, RejoinRequest02 | RejoinRequest1):
        return _rejoin_fields(frame, keys)
    if isinstance(frame, EncryptedJoinAccept):
        return _join_accept_fields(frame, keys)
    assert isinstance(frame, Proprietary)
    return {"payload": frame.payload.hex()}


def _rejoin_fields(frame: RejoinRequest02 | RejoinRequest1, keys: DecodeKeys) -> dict[str, Any]:
    fields: dict[str, Any] = {"rejoin_type": frame.rejoin_type}
    if isinstance(frame, RejoinRequest02):
        fields |= {
            "net_id": str(frame.net_id),
            "dev_eui": str(frame.dev_eui),
            "rj_count0": frame.rj_count0,
        }
        key = keys.s_nwk_s_int_key
    else:
        fields |= {
            "join_eui": str(frame.join_eui),
            "dev_eui": str(frame.dev_eui),
            "rj_count1": frame.rj_count1,
        }
        key = keys.js_int_key
        if key is None and keys.nwk_key is not None:
            key = security.derive_js_int_key(keys.nwk_key, frame.dev_eui)
    fields["mic"] = frame.mic.hex()
    fields["mic_valid"] = None if key is None else security.verify_rejoin_request(frame, key)
    return fields


def _join_accept_fields(frame: EncryptedJoinAccept, keys: DecodeKeys) -> dict[str, Any]:
    key = keys.root_key
    if key is None:
        return {
            "encrypted": frame.ciphertext.hex(),
            "note": "give --app-key or --nwk-key to decrypt",
        }
    accept = security.open_join_accept(frame, key)
    fields = _accept_dict(accept)
    fields["mic"] = accept.mic.hex()
    if not accept.dl_settings.opt_neg:
        fields["mic_valid"] = security.join_accept_mic(accept, key) == accept.mic
    elif (
        keys.join_eui is None
        or keys.dev_nonce is None
        or (keys.js_int_key is None and keys.dev_eui is None)
    ):
        fields["mic_valid"] = None
        fields["note"] = (
            "OptNeg is set: give --join-eui, --dev-nonce and --dev-eui (or --js-int-key)"
        )
    else:
        js_int_key = keys.js_int_key
        if js_int_key is None:
            assert keys.dev_eui is not None
            js_int_key = security.derive_js_int_key(key, keys.dev_eui)
        expected = security.join_accept_mic(
            accept,
            js_int_key,
            join_req_type=keys.join_req_type,
            join_eui=keys.join_eui,
            dev_nonce=keys.dev_nonce,
        )
        fields["mic_valid"] = expected == accept.mic
    return fields


def _accept_dict(accept: JoinAccept) -> dict[str, Any]:
    cf_list: dict[str, Any] | None = None
    if isinstance(accept.cf_list, CFListFrequencies):
        cf_list = {"type": 0, "frequencies": list(accept.cf_list.frequencies)}
    elif isinstance(accept.cf_list, CFListChannelMask):
        cf_list = {"type": 1, "ch_masks": [f"{m:04x}" for m in accept.cf_list.ch_masks]}
    return {
        "join_nonce": accept.join_nonce,
        "home_net_id": str(accept.home_net_id),
        "dev_addr": str(accept.dev_addr),
        "dl_settings": {
            "opt_neg": accept.dl_settings.opt_neg,
            "rx1_dr_offset": accept.dl_settings.rx1_dr_offset,
            "rx2_data_rate": accept.dl_settings.rx2_data_rate,
        },
        "rx_delay": accept.rx_delay,
        "cf_list": cf_list,
    }


def _session(keys: DecodeKeys) -> SessionKeys | None:
    """The session keys to use, with zero keys standing in for ones the user did not give."""
    if keys.lorawan_1_1:
        return SessionKeys(
            keys.f_nwk_s_int_key or _ZERO_KEY,
            keys.s_nwk_s_int_key or _ZERO_KEY,
            keys.nwk_s_enc_key or _ZERO_KEY,
            keys.app_s_key or _ZERO_KEY,
            lorawan_1_1=True,
        )
    if keys.nwk_s_key or keys.app_s_key:
        return SessionKeys.for_1_0(keys.nwk_s_key or _ZERO_KEY, keys.app_s_key or _ZERO_KEY)
    return None


def _data_fields(frame: DataFrame, keys: DecodeKeys) -> dict[str, Any]:
    f_cnt = f_cnt_from_msb(frame.f_cnt, keys.f_cnt_msb)
    fields: dict[str, Any] = {
        "dev_addr": str(frame.dev_addr),
        "f_ctrl": _f_ctrl_dict(frame),
        "f_cnt": frame.f_cnt,
        "f_cnt_32": f_cnt,
        "f_opts": frame.f_opts.hex(),
        "f_port": frame.f_port,
        "frm_payload": frame.frm_payload.hex(),
        "mic": frame.mic.hex(),
    }
    session = _session(keys)
    fields["mic_valid"] = _data_mic_valid(frame, keys, session, f_cnt)
    mac_bytes: bytes | None = frame.f_opts if not keys.lorawan_1_1 else None
    if session is not None and keys.lorawan_1_1 and keys.nwk_s_enc_key:
        mac_bytes = security.decrypt_f_opts(frame, session, f_cnt)
        fields["f_opts_plain"] = mac_bytes.hex()
    payload_key = keys.app_s_key if frame.f_port else (keys.nwk_s_enc_key or keys.nwk_s_key)
    if session is not None and frame.f_port is not None and payload_key is not None:
        plain = security.decrypt_frm_payload(frame, session, f_cnt)
        fields["payload"] = plain.hex()
        if frame.f_port == 0:
            mac_bytes = plain
    else:
        fields["payload"] = None
    if mac_bytes is not None and (mac_bytes or frame.f_port == 0):
        parsed = decode_mac_commands(mac_bytes, uplink=frame.uplink)
        fields["mac_commands"] = [command.to_json() for command in parsed.commands]
        if parsed.error is not None:
            fields["mac_commands_error"] = parsed.error
    return fields


def _data_mic_valid(
    frame: DataFrame, keys: DecodeKeys, session: SessionKeys | None, f_cnt: int
) -> bool | None:
    if session is None:
        return None
    if keys.lorawan_1_1:
        needed = (
            (keys.f_nwk_s_int_key, keys.s_nwk_s_int_key)
            if frame.uplink
            else (keys.s_nwk_s_int_key,)
        )
        if not all(needed):
            return None
    elif keys.nwk_s_key is None:
        return None
    return security.verify_data_mic(
        frame, session, f_cnt, conf_f_cnt=keys.conf_f_cnt, tx_dr=keys.tx_dr, tx_ch=keys.tx_ch
    )


def _f_ctrl_dict(frame: DataFrame) -> dict[str, Any]:
    f_ctrl = frame.f_ctrl
    fields: dict[str, Any] = {"adr": f_ctrl.adr, "ack": f_ctrl.ack, "f_opts_len": len(frame.f_opts)}
    if frame.uplink:
        fields |= {"adr_ack_req": f_ctrl.adr_ack_req, "class_b": f_ctrl.class_b}
    else:
        fields["f_pending"] = f_ctrl.f_pending
    return fields
