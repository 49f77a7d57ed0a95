"""AES-128 primitives on top of ``cryptography``, shaped for many small messages.

Every uplink needs one CMAC and one short keystream. Building a fresh ``Cipher`` per call costs
more than the AES work itself, so each key keeps one ECB encryptor and one CBC encryptor for
the life of the process (``cryptography`` contexts accept any number of ``update`` calls).

The CMAC (RFC 4493) runs on the long-lived CBC encryptor: its chaining value after the previous
message is known, so XOR-ing it into the first block of the next message cancels it and the
result is exactly CBC-MAC with a zero IV. One ``update`` call then covers the whole message.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

_BLOCK: Final = 16
_RB: Final = 0x87  # RFC 4493 constant for subkey generation
_MASK128: Final = (1 << 128) - 1
_MAX_CACHED_KEYS: Final = 65536


def _double(value: int) -> int:
    shifted = (value << 1) & _MASK128
    return shifted ^ _RB if value >> 127 else shifted


class _KeyContext:
    __slots__ = ("_cbc", "_chain", "decryptor", "ecb", "k1", "k2")

    def __init__(self, key: bytes) -> None:
        aes = algorithms.AES(key)
        self.ecb: CipherContext = Cipher(aes, modes.ECB()).encryptor()
        self.decryptor: CipherContext = Cipher(aes, modes.ECB()).decryptor()
        self._cbc: CipherContext = Cipher(aes, modes.CBC(bytes(_BLOCK))).encryptor()
        self._chain = 0
        l_value = int.from_bytes(self.ecb.update(bytes(_BLOCK)), "big")
        self.k1 = _double(l_value)
        self.k2 = _double(self.k1)

    def cmac(self, message: bytes) -> bytes:
        length = len(message)
        if length and length % _BLOCK == 0:
            head, last = message[:-_BLOCK], int.from_bytes(message[-_BLOCK:], "big") ^ self.k1
        else:
            cut = length - length % _BLOCK
            head = message[:cut]
            tail = message[cut:] + b"\x80" + bytes(_BLOCK - 1 - (length - cut))
            last = int.from_bytes(tail, "big") ^ self.k2
        blocks = head + last.to_bytes(_BLOCK, "big")
        # Cancel the chaining left over from the previous message (see the module docstring).
        first = int.from_bytes(blocks[:_BLOCK], "big") ^ self._chain
        out = self._cbc.update(first.to_bytes(_BLOCK, "big") + blocks[_BLOCK:])
        mac = out[-_BLOCK:]
        self._chain = int.from_bytes(mac, "big")
        return mac


_contexts: dict[bytes, _KeyContext] = {}


def _context(key: bytes) -> _KeyContext:
    ctx = _contexts.get(key)
    if ctx is None:
        if len(key) != _BLOCK:
            raise ValueError(f"AES-128 key must be 16 bytes, got {len(key)}")
        if len(_contexts) >= _MAX_CACHED_KEYS:
            # Bounded: a network of 100k devices must not grow this forever; a cache miss only
            # costs building the contexts again.
            _contexts.clear()
        ctx = _contexts[key] = _KeyContext(key)
    return ctx


def aes_cmac(key: bytes, message: bytes) -> bytes:
    """The 16-byte AES-CMAC of ``message``."""
    return _context(key).cmac(message)


def aes_encrypt(key: bytes, blocks: bytes) -> bytes:
    """AES-128 ECB encryption of whole blocks."""
    if len(blocks) % _BLOCK:
        raise ValueError("AES-ECB input must be a multiple of 16 bytes")
    return _context(key).ecb.update(blocks)


def aes_decrypt(key: bytes, blocks: bytes) -> bytes:
    """AES-128 ECB decryption of whole blocks."""
    if len(blocks) % _BLOCK:
        raise ValueError("AES-ECB input must be a multiple of 16 bytes")
    return _context(key).decryptor.update(blocks)


def xor_bytes(a: bytes, b: bytes) -> bytes:
    """XOR of ``a`` with the first ``len(a)`` bytes of ``b``."""
    n = len(a)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b[:n], "big")).to_bytes(n, "big")
