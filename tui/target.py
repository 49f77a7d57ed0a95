"""Which appliance the console talks to: a URL and token given outright, or the local one
named by its data directory (``api.url`` and ``admin.key``, written by ``appliance run``).

The local files are read again on every connection attempt, so a console started before the
appliance (at boot) or kept open across a restart on another port finds it once it is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

API_URL_FILE = "api.url"
ADMIN_KEY_FILE = "admin.key"
DEFAULT_URL = "http://127.0.0.1:8080"  # `appliance run`'s default --api-bind


class NotReadyError(Exception):
    """The appliance cannot be addressed yet (its files are not there); retry later."""


class TargetError(Exception):
    """The target can never work as given (bad URL, unreadable file): a one-line message."""


def check_url(url: str) -> str:
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise TargetError(f"--url: expected http://HOST:PORT or https://..., got {url!r}")
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class Target:
    url: str | None = None
    token: str | None = None
    data_dir: Path | None = None

    @property
    def description(self) -> str:
        return self.url or f"the appliance of {self.data_dir}"

    def resolve(self) -> tuple[str, str]:
        """(url, token); ``NotReadyError`` while the local files are missing."""
        data_dir = self.data_dir or Path("data")
        url = self.url
        if url is None:
            url = _read(data_dir / API_URL_FILE, missing_ok=True) or DEFAULT_URL
        token = self.token
        if token is None:
            token = _read(data_dir / ADMIN_KEY_FILE, missing_ok=False)
        assert token is not None
        return check_url(url), token


def _read(path: Path, *, missing_ok: bool) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if missing_ok:
            return None
        raise NotReadyError(
            f"{path} is not there yet: has the appliance started with data directory {path.parent}?"
        ) from None
    except PermissionError:
        raise TargetError(
            f"cannot read {path} (permission denied): run as the appliance's user"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TargetError(f"cannot read {path}: {error}") from None
    if not text:
        raise NotReadyError(f"{path} is empty")
    return text
