"""Message integrity codes: data frames (1.0.x and 1.1), join, rejoin and join-accept.

Block layouts are from LoRaWAN 1.0.4 section 4.4 and LoRaWAN 1.1 sections 4.4 and 6.2. Every
function takes the message bytes exactly as sent (MHDR up to the end of FRMPayload, no MIC) and
keys as raw 16-byte strings; the typed front door is ``appliance.lorawan.security``.
"""

from __future__ import annotations

import struct
from typing import Final

from appliance.lorawan.crypto.aes import aes_cmac

_B0: Final = struct.Struct("<BHHBIIBB")  # 0x49, ConfFCnt, (TxDr,TxCh)/0, Dir, DevAddr, FCnt, 0, len
JOIN_REQUEST_TYPE: Final = 0xFF  # JoinReqType of a join-request in the 1.1 join-accept MIC


def _b_block(
    dev_addr: int, f_cnt: int, length: int, *, downlink: bool, conf_f_cnt: int = 0, tail: int = 0
) -> bytes:
    # Bytes 1-2 hold ConfFCnt (1.1) and bytes 3-4 TxDr/TxCh (1.1 B1); both zero in 1.0.x.
    return _B0.pack(0x49, conf_f_cnt, tail, int(downlink), dev_addr, f_cnt, 0, length)


def data_mic_10(
    nwk_s_key: bytes, message: bytes, *, dev_addr: int, f_cnt: int, downlink: bool
) -> bytes:
    """LoRaWAN 1.0.x MIC of a data frame, uplink or downlink."""
    block = _b_block(dev_addr, f_cnt, len(message), downlink=downlink)
    return aes_cmac(nwk_s_key, block + message)[:4]


def uplink_mic_11(
    f_nwk_s_int_key: bytes,
    s_nwk_s_int_key: bytes,
    message: bytes,
    *,
    dev_addr: int,
    f_cnt: int,
    conf_f_cnt: int,
    tx_dr: int,
    tx_ch: int,
) -> bytes:
    """LoRaWAN 1.1 uplink MIC: two bytes of the S key's CMAC then two of the F key's.

    ``conf_f_cnt`` is the counter of the confirmed downlink being acknowledged; pass 0 when the
    frame's ACK bit is clear.
    """
    length = len(message)
    b0 = _b_block(dev_addr, f_cnt, length, downlink=False)
    b1 = _b_block(
        dev_addr,
        f_cnt,
        length,
        downlink=False,
        conf_f_cnt=conf_f_cnt & 0xFFFF,
        tail=tx_dr | (tx_ch << 8),
    )
    cmac_f = aes_cmac(f_nwk_s_int_key, b0 + message)
    cmac_s = aes_cmac(s_nwk_s_int_key, b1 + message)
    return cmac_s[:2] + cmac_f[:2]


def uplink_mic_11_f_half(
    f_nwk_s_int_key: bytes, message: bytes, *, dev_addr: int, f_cnt: int
) -> bytes:
    """The two bytes of a 1.1 uplink MIC that depend only on FNwkSIntKey.

    A roaming or forwarding network that knows only FNwkSIntKey checks these (LoRaWAN 1.1 4.4).
    """
    b0 = _b_block(dev_addr, f_cnt, len(message), downlink=False)
    return aes_cmac(f_nwk_s_int_key, b0 + message)[:2]


def downlink_mic_11(
    s_nwk_s_int_key: bytes, message: bytes, *, dev_addr: int, f_cnt: int, conf_f_cnt: int
) -> bytes:
    """LoRaWAN 1.1 downlink MIC; ``conf_f_cnt`` is the acknowledged uplink's counter or 0."""
    block = _b_block(dev_addr, f_cnt, len(message), downlink=True, conf_f_cnt=conf_f_cnt & 0xFFFF)
    return aes_cmac(s_nwk_s_int_key, block + message)[:4]


def join_request_mic(key: bytes, message: bytes) -> bytes:
    """Join-request MIC with AppKey (1.0.x) or NwkKey (1.1) over MHDR|JoinEUI|DevEUI|DevNonce."""
    return aes_cmac(key, message)[:4]


def rejoin_request_mic(key: bytes, message: bytes) -> bytes:
    """Rejoin-request MIC: SNwkSIntKey for types 0 and 2, JSIntKey for type 1."""
    return aes_cmac(key, message)[:4]


def join_accept_mic_10(key: bytes, message: bytes) -> bytes:
    """Join-accept MIC when OptNeg is clear, over MHDR up to the CFList."""
    return aes_cmac(key, message)[:4]


def join_accept_mic_11(
    js_int_key: bytes, message: bytes, *, join_req_type: int, join_eui_wire: bytes, dev_nonce: int
) -> bytes:
    """Join-accept MIC when OptNeg is set: JoinReqType|JoinEUI|DevNonce prefix the message."""
    prefix = bytes((join_req_type,)) + join_eui_wire + dev_nonce.to_bytes(2, "little")
    return aes_cmac(js_int_key, prefix + message)[:4]
