"""Session-key derivation (LoRaWAN 1.0.4 6.2.5, LoRaWAN 1.1 6.1.1.3 and 6.2.2).

All nonces and identifiers enter the derivation blocks in their little-endian wire order.
"""

from __future__ import annotations

from appliance.lorawan.crypto.aes import aes_encrypt


def _derive(key: bytes, tag: int, body: bytes) -> bytes:
    block = bytes((tag,)) + body
    return aes_encrypt(key, block + bytes(16 - len(block)))


def derive_10(key: bytes, tag: int, *, join_nonce: int, net_id_wire: bytes,
              dev_nonce: int) -> bytes:
    """1.0.x style: ``aes(key, tag | JoinNonce | NetID | DevNonce | pad)``.

    Tags: 0x01 NwkSKey, 0x02 AppSKey. 1.1 devices joined with OptNeg clear use the same blocks.
    """
    body = join_nonce.to_bytes(3, "little") + net_id_wire + dev_nonce.to_bytes(2, "little")
    return _derive(key, tag, body)


def derive_11(key: bytes, tag: int, *, join_nonce: int, join_eui_wire: bytes,
              dev_nonce: int) -> bytes:
    """1.1 style: ``aes(key, tag | JoinNonce | JoinEUI | DevNonce | pad)``.

    Tags: 0x01 FNwkSIntKey, 0x02 AppSKey (with AppKey), 0x03 SNwkSIntKey, 0x04 NwkSEncKey.
    """
    body = join_nonce.to_bytes(3, "little") + join_eui_wire + dev_nonce.to_bytes(2, "little")
    return _derive(key, tag, body)


def derive_join_server_key(nwk_key: bytes, tag: int, dev_eui_wire: bytes) -> bytes:
    """JSEncKey (tag 0x05) and JSIntKey (tag 0x06): ``aes(NwkKey, tag | DevEUI | pad)``."""
    return _derive(nwk_key, tag, dev_eui_wire)
