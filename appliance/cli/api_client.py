"""How the management commands reach a running appliance: its REST API.

``--url`` and ``--token`` name any appliance; otherwise ``--data-dir`` (default ./data, or
$STATE_DIRECTORY under systemd) names the local one, whose API URL and admin key the appliance
wrote there when it started. Every failure ends as one line (exit code 2).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx

from appliance.cli.errors import CLIUsageError
from appliance.config import default_data_dir

API_URL_FILE = "api.url"
ADMIN_KEY_FILE = "admin.key"


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--url", metavar="URL", help="the appliance's API, e.g. http://127.0.0.1:8080"
    )
    group.add_argument("--token", metavar="TOKEN", help="API token (default: the local admin key)")
    group.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="use the local appliance of this data directory (default ./data)",
    )
    group.add_argument("--json", action="store_true", help="print the API's JSON answer")


def _read(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise CLIUsageError(
            f"no appliance is running with data directory {path.parent} ({path.name} is missing)"
        ) from None
    except PermissionError:
        raise CLIUsageError(
            f"cannot read {path} (permission denied): run as the appliance's user"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIUsageError(f"cannot read the {what} from {path}: {exc}") from None
    if not text:
        raise CLIUsageError(f"{path} is empty")
    return text


class APIClient:
    def __init__(self, url: str, token: str, *, timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> APIClient:
        data_dir: Path = args.data_dir or default_data_dir()
        url = args.url or _read(data_dir / API_URL_FILE, "API address")
        token = args.token or _read(data_dir / ADMIN_KEY_FILE, "admin key")
        if not url.startswith(("http://", "https://")):
            raise CLIUsageError(f"--url: expected http://HOST:PORT or https://..., got {url!r}")
        return cls(url, token)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> APIClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        try:
            response = self._client.request(method, path, json=body, params=query)
        except httpx.ConnectError:
            raise CLIUsageError(
                f"the appliance at {self.url} is not reachable (is it running?)"
            ) from None
        except httpx.TimeoutException:
            raise CLIUsageError(f"the appliance at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CLIUsageError(f"cannot talk to {self.url}: {exc}") from None
        if response.status_code == 401:
            raise CLIUsageError(f"the appliance refused the API token: {_error(response)}")
        if response.status_code >= 400:
            raise CLIUsageError(_error(response))
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CLIUsageError(f"{self.url} answered with something that is not JSON") from None


def _error(response: httpx.Response) -> str:
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return str(message or f"HTTP {response.status_code}").splitlines()[0]


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def print_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """Columns are (JSON key, heading); values missing from a row print as '-'."""
    cells = [[heading for _, heading in columns]]
    cells.extend(
        ["-" if row.get(key) is None else str(row[key]) for key, _ in columns] for row in rows
    )
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print(
            "  ".join(
                value.ljust(width) for value, width in zip(line, widths, strict=True)
            ).rstrip()
        )
