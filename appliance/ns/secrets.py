"""Encryption of secrets at rest: device root keys and session keys in the database.

AES-256-GCM under a key kept in its own file next to the database (``secret.key``, created at
first start with mode 0600). Each ciphertext is bound to its row with associated data, so a
row copied onto another device's row does not decrypt. Losing the key file loses the keys it
protects: back it up with the database.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_FILE: Final = "secret.key"
_NONCE: Final = 12


class SecretsError(Exception):
    """The key file is missing, unsafe, or does not open what it should."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise SecretsError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def open_or_create(cls, directory: Path, *, must_exist: bool = False) -> SecretBox:
        """Load ``directory/secret.key``, creating it when it does not exist and nothing
        encrypted depends on it yet (``must_exist`` says something does)."""
        path = directory / KEY_FILE
        if not path.exists():
            if must_exist:
                raise SecretsError(
                    f"{path} is missing but the database holds keys encrypted "
                    "with it; restore it from your backup"
                )
            key = os.urandom(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
            return cls(key)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretsError(
                f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
            )
        key = path.read_bytes()
        if len(key) != 32:
            raise SecretsError(f"{path} is not a secret key file (wrong size)")
        return cls(key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def unseal(self, blob: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())
        except (InvalidTag, ValueError):
            raise SecretsError(
                f"cannot decrypt the secret of {context}: wrong key file or a "
                "damaged or moved record"
            ) from None
