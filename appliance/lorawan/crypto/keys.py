"""Session-key derivation (LoRaWAN 1.0.4 6.2.5, LoRaWAN 1.1 6.1.1.3 and 6.2.2).

All nonces and identifiers enter the derivation blocks in their little-endian wire order. Keys
derived from one root key are computed in a single AES call (one block per tag).
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.crypto.aes import aes_encrypt


def _derive(key: bytes, tags: Sequence[int], body: bytes) -> list[bytes]:
    pad = bytes(15 - len(body))
    out = aes_encrypt(key, b"".join(bytes((tag,)) + body + pad for tag in tags))
    return [out[i : i + 16] for i in range(0, len(out), 16)]


def derive_10(
    key: bytes, tags: Sequence[int], *, join_nonce: int, net_id_wire: bytes, dev_nonce: int
) -> list[bytes]:
    """1.0.x style: ``aes(key, tag | JoinNonce | NetID | DevNonce | pad)`` for each tag.

    Tags: 0x01 NwkSKey, 0x02 AppSKey. 1.1 devices joined with OptNeg clear use the same blocks.
    """
    body = join_nonce.to_bytes(3, "little") + net_id_wire + dev_nonce.to_bytes(2, "little")
    return _derive(key, tags, body)


def derive_11(
    key: bytes, tags: Sequence[int], *, join_nonce: int, join_eui_wire: bytes, dev_nonce: int
) -> list[bytes]:
    """1.1 style: ``aes(key, tag | JoinNonce | JoinEUI | DevNonce | pad)`` for each tag.

    Tags: 0x01 FNwkSIntKey, 0x02 AppSKey (with AppKey), 0x03 SNwkSIntKey, 0x04 NwkSEncKey.
    """
    body = join_nonce.to_bytes(3, "little") + join_eui_wire + dev_nonce.to_bytes(2, "little")
    return _derive(key, tags, body)


def derive_join_server_keys(
    nwk_key: bytes, tags: Sequence[int], dev_eui_wire: bytes
) -> list[bytes]:
    """JSEncKey (tag 0x05) and JSIntKey (tag 0x06): ``aes(NwkKey, tag | DevEUI | pad)``."""
    return _derive(nwk_key, tags, dev_eui_wire)
