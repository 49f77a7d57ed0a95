"""Credentials: API tokens (random, stored as SHA-256), passwords (scrypt, memory-hard) and a
limit on failed logins.

A token has 256 random bits, so a fast hash is enough to store it safely; passwords are
guessable, so they get scrypt with 16 MiB per attempt and a limit per account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

TOKEN_PREFIX = "lwa_"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1  # 16 MiB, ~50 ms on a Pi 4
_SCRYPT_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD_LENGTH = 8
ADMIN_KEY_FILE = "admin.key"


def new_token() -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(computed.hex(), digest)


@dataclass(slots=True)
class LoginLimiter:
    """At most ``attempts`` failed logins per account in ``window_s``; then refused until the
    oldest failure ages out. Time is passed in (seconds, monotonic)."""

    attempts: int = 5
    window_s: float = 300.0
    max_accounts: int = 10_000  # bounded memory under a spray of made-up names
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, account: str, now: float) -> float:
        """Seconds until this account may try again (0: it may try now)."""
        failures = self._failures.get(account.lower())
        if failures is None:
            return 0.0
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if len(failures) < self.attempts:
            return 0.0
        return failures[0] + self.window_s - now

    def failed(self, account: str, now: float) -> None:
        if len(self._failures) >= self.max_accounts and account.lower() not in self._failures:
            oldest = min(
                self._failures, key=lambda k: self._failures[k][-1] if self._failures[k] else 0
            )
            del self._failures[oldest]
        self._failures.setdefault(account.lower(), deque()).append(now)

    def succeeded(self, account: str) -> None:
        self._failures.pop(account.lower(), None)


def write_admin_key(data_dir: Path, token: str) -> Path:
    """The local admin token for the CLI and console, readable by the owner only."""
    path = data_dir / ADMIN_KEY_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return path


def read_admin_key(data_dir: Path) -> str | None:
    try:
        return (data_dir / ADMIN_KEY_FILE).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None
