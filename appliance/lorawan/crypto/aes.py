"""AES-128 primitives on top of ``cryptography``, shaped for many small messages.

Every uplink needs one CMAC and one short keystream. Building a ``cryptography`` context costs
more than the AES work itself (about 2 us against 0.1 us for a block), so:

- ECB work (keystreams, key derivation, join-accepts) reuses one ECB encryptor per key, kept
  for the life of the process (``cryptography`` contexts accept any number of ``update``
  calls) in a bounded LRU cache: a context costs about 1 KB inside OpenSSL, and a key
  earns a place only when it is seen a second time, so one-off keys (a join's derived keys,
  devices that talk rarely) use one-shot contexts and do not push the busy keys out.
- A keystream of a key that is not cached is one AES-CTR pass over the data: one context,
  one call, no XOR in Python (``aes_ctr``).
- CMAC is always one-shot: ``cryptography``'s CMAC costs what a cached context saved.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

_BLOCK: Final = 16
DEFAULT_KEY_CACHE_SIZE: Final = 4096


class _KeyContext:
    __slots__ = ("_aes", "_decryptor", "ecb")

    def __init__(self, key: bytes) -> None:
        self._aes = algorithms.AES(key)
        self.ecb: CipherContext = Cipher(self._aes, modes.ECB()).encryptor()
        self._decryptor: CipherContext | None = None  # built on first use (join-accepts only)

    @property
    def decryptor(self) -> CipherContext:
        if self._decryptor is None:
            self._decryptor = Cipher(self._aes, modes.ECB()).decryptor()
        return self._decryptor


_contexts: OrderedDict[bytes, _KeyContext] = OrderedDict()
_seen_once: OrderedDict[bytes, None] = OrderedDict()
_cache_size = DEFAULT_KEY_CACHE_SIZE


def set_key_cache_size(size: int) -> None:
    """How many keys keep their AES contexts (about 1 KB each); at least 1."""
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
    one_shot = cmac.CMAC(algorithms.AES(key))
    one_shot.update(message)
    return one_shot.finalize()


def aes_ctr(key: bytes, counter_block: bytes, data: bytes) -> bytes:
    """``data`` XOR the keystream AES(counter_block), AES(counter_block + 1), ... with the
    last byte of ``counter_block`` counting (it must not pass 0xFF: at most
    ``(256 - counter_block[-1]) * 16`` bytes of ``data``)."""
    if len(counter_block) != _BLOCK:
        raise ValueError("the counter block must be 16 bytes")
    first = counter_block[-1]
    count = (len(data) + _BLOCK - 1) // _BLOCK
    if first + count > 0x100:
        raise ValueError(f"{len(data)} bytes overrun the one-byte block counter")
    ctx = _context(key)
    if ctx is None:
        # Within one byte, AES-CTR's 128-bit big-endian counter counts exactly like the
        # last byte: one context does the keystream and the XOR.
        return Cipher(algorithms.AES(key), modes.CTR(counter_block)).encryptor().update(data)
    prefix = counter_block[:-1]
    stream = ctx.ecb.update(b"".join(prefix + bytes((first + i,)) for i in range(count)))
    return xor_bytes(data, stream)


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
