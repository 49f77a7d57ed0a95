"""AES-128 primitives on top of ``cryptography``, shaped for many small messages.

Every uplink needs one CMAC and one short keystream. Building a fresh ``Cipher`` per call costs
more than the AES work itself, so each key keeps one ECB encryptor and one CBC encryptor for
the life of the process (``cryptography`` contexts accept any number of ``update`` calls).

The CMAC (RFC 4493) runs on the long-lived CBC encryptor: its chaining value after the previous
message is known, so XOR-ing it into the first block of the next message cancels it and the
result is exactly CBC-MAC with a zero IV. One ``update`` call then covers the whole message.

The contexts cost about 3 KB each inside OpenSSL, so they live in a bounded LRU cache, and a key
earns a place only when it is seen a second time: one-off keys (a join's derived keys, devices
that talk rarely) use one-shot contexts and do not push the busy keys out.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

_BLOCK: Final = 16
_RB: Final = 0x87  # RFC 4493 constant for subkey generation
_MASK128: Final = (1 << 128) - 1
DEFAULT_KEY_CACHE_SIZE: Final = 4096


def _double(value: int) -> int:
    shifted = (value << 1) & _MASK128
    return shifted ^ _RB if value >> 127 else shifted


class _KeyContext:
    __slots__ = ("_aes", "_cbc", "_chain", "_decryptor", "ecb", "k1", "k2")

    def __init__(self, key: bytes) -> None:
        self._aes = algorithms.AES(key)
        self.ecb: CipherContext = Cipher(self._aes, modes.ECB()).encryptor()
        # Built on first use: many keys only ever need the keystream or only the MIC.
        self._cbc: CipherContext | None = None
        self._decryptor: CipherContext | None = None
        self._chain = 0
        l_value = int.from_bytes(self.ecb.update(bytes(_BLOCK)), "big")
        self.k1 = _double(l_value)
        self.k2 = _double(self.k1)

    @property
    def decryptor(self) -> CipherContext:
        if self._decryptor is None:
            self._decryptor = Cipher(self._aes, modes.ECB()).decryptor()
        return self._decryptor

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
        if self._cbc is None:
            self._cbc = Cipher(self._aes, modes.CBC(bytes(_BLOCK))).encryptor()
            self._chain = 0
        first = int.from_bytes(blocks[:_BLOCK], "big") ^ self._chain
        out = self._cbc.update(first.to_bytes(_BLOCK, "big") + blocks[_BLOCK:])
        mac = out[-_BLOCK:]
        self._chain = int.from_bytes(mac, "big")
        return mac


_contexts: OrderedDict[bytes, _KeyContext] = OrderedDict()
_seen_once: OrderedDict[bytes, None] = OrderedDict()
_cache_size = DEFAULT_KEY_CACHE_SIZE


def set_key_cache_size(size: int) -> None:
    """How many keys keep their AES contexts (about 3 KB each); at least 1."""
    global _cache_size  # noqa: PLW0603 - one process-wide cache, sized by its owner
    if size < 1:
        raise ValueError(f"key cache size must be at least 1, got {size}")
    _cache_size = size
    while len(_contexts) > _cache_size:
        _contexts.popitem(last=False)
    while len(_seen_once) > 2 * _cache_size:
        _seen_once.popitem(last=False)


def _context(key: bytes) -> _KeyContext | None:
    """The cached context of ``key``, or None the first time a key is seen (use one-shot)."""
    ctx = _contexts.get(key)
    if ctx is not None:
        _contexts.move_to_end(key)
        return ctx
    if len(key) != _BLOCK:
        raise ValueError(f"AES-128 key must be 16 bytes, got {len(key)}")
    if key not in _seen_once:
        _seen_once[key] = None
        if len(_seen_once) > 2 * _cache_size:
            _seen_once.popitem(last=False)
        return None
    del _seen_once[key]
    ctx = _contexts[key] = _KeyContext(key)
    if len(_contexts) > _cache_size:
        _contexts.popitem(last=False)
    return ctx


def aes_cmac(key: bytes, message: bytes) -> bytes:
    """The 16-byte AES-CMAC of ``message``."""
    ctx = _context(key)
    if ctx is not None:
        return ctx.cmac(message)
    one_shot = cmac.CMAC(algorithms.AES(key))
    one_shot.update(message)
    return one_shot.finalize()


def aes_encrypt(key: bytes, blocks: bytes) -> bytes:
    """AES-128 ECB encryption of whole blocks."""
    if len(blocks) % _BLOCK:
        raise ValueError("AES-ECB input must be a multiple of 16 bytes")
    ctx = _context(key)
    if ctx is not None:
        return ctx.ecb.update(blocks)
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(blocks)


def aes_decrypt(key: bytes, blocks: bytes) -> bytes:
    """AES-128 ECB decryption of whole blocks."""
    if len(blocks) % _BLOCK:
        raise ValueError("AES-ECB input must be a multiple of 16 bytes")
    ctx = _context(key)
    if ctx is not None:
        return ctx.decryptor.update(blocks)
    return Cipher(algorithms.AES(key), modes.ECB()).decryptor().update(blocks)


def xor_bytes(a: bytes, b: bytes) -> bytes:
    """XOR of ``a`` with the first ``len(a)`` bytes of ``b``."""
    n = len(a)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b[:n], "big")).to_bytes(n, "big")
