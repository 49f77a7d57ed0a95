"""Payload confidentiality: FRMPayload, 1.1 FOpts and the join-accept.

FRMPayload keystream (LoRaWAN 1.0.4 4.3.3, 1.1 4.3.3): AES-ECB of blocks
``01 | 00*4 | Dir | DevAddr | FCnt(4) | 00 | i`` for i = 1, 2, ...

1.1 FOpts (section 4.3.1.6 as corrected by the LoRaWAN 1.1 errata, which ChirpStack and
lora-packet follow): one block ``01 | 00*3 | A4 | Dir | DevAddr | FCnt | 00 | 01`` where A4 is
0x02 for a downlink counted by AFCntDown (FPort > 0) and 0x01 otherwise. The Things Stack used
the unamended text (A4 = 0, last byte 0); that variant is kept for interoperability tests.
"""

from __future__ import annotations

import struct
from enum import Enum
from typing import Final

from appliance.lorawan.crypto.aes import aes_ctr, aes_decrypt, aes_encrypt, xor_bytes

_A: Final = struct.Struct("<BIBIIB")  # 0x01, 4 bytes, Dir, DevAddr, FCnt, 0x00 (then i)
_A1: Final = struct.Struct("<BIBIIBB")  # the same with i


class FOptsKeystream(Enum):
    """Which keystream block a 1.1 FOpts encryption uses."""

    ERRATA = "errata"  # LoRaWAN 1.1 errata: what devices and ChirpStack implement
    ORIGINAL_1_1 = "original-1.1"  # the text before the errata, as The Things Stack reads it


def encrypt_frm_payload(
    key: bytes, payload: bytes, *, dev_addr: int, f_cnt: int, downlink: bool
) -> bytes:
    """Encrypt (or, being an XOR keystream, decrypt) a FRMPayload.

    ``key`` is AppSKey for FPort > 0 and NwkSKey (1.0) / NwkSEncKey (1.1) for FPort 0.
    """
    if not payload:
        return b""
    # Block i (from 1) is the prefix then i: a counter in the last byte (a FRMPayload is far
    # shorter than 255 blocks).
    return aes_ctr(key, _A1.pack(0x01, 0, int(downlink), dev_addr, f_cnt, 0, 1), payload)


def encrypt_f_opts(
    nwk_s_enc_key: bytes,
    f_opts: bytes,
    *,
    dev_addr: int,
    f_cnt: int,
    downlink: bool,
    a_f_cnt_down: bool = False,
    keystream: FOptsKeystream = FOptsKeystream.ERRATA,
) -> bytes:
    """Encrypt (or decrypt) LoRaWAN 1.1 FOpts (at most 15 bytes, so one keystream block)."""
    if not f_opts:
        return b""
    if keystream is FOptsKeystream.ERRATA:
        a4, last = (0x02 if a_f_cnt_down else 0x01), 0x01
    else:
        a4, last = 0x00, 0x00
    block = _A.pack(0x01, a4 << 24, int(downlink), dev_addr, f_cnt, 0) + bytes((last,))
    return xor_bytes(f_opts, aes_encrypt(nwk_s_enc_key, block))


def encrypt_join_accept(key: bytes, payload_and_mic: bytes) -> bytes:
    """Join-accept encryption: the network *decrypts* so the device only needs AES encrypt."""
    return aes_decrypt(key, payload_and_mic)


def decrypt_join_accept(key: bytes, ciphertext: bytes) -> bytes:
    """Inverse of ``encrypt_join_accept``: what the device (or a test) does."""
    return aes_encrypt(key, ciphertext)
