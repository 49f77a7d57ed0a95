"""Names or IDs on the command line: an application or profile may be given either way."""

from __future__ import annotations

import uuid
from typing import Any

from appliance.cli.api_client import APIClient
from appliance.cli.errors import CLIUsageError


def _by_name(client: APIClient, path: str, what: str, name: str) -> str:
    try:
        return str(uuid.UUID(name))
    except ValueError:
        pass
    page: dict[str, Any] = client.call("GET", path, search=name, limit=1000)
    matches = [item for item in page["result"] if item["name"] == name]
    if not matches:
        raise CLIUsageError(f"no {what} named {name!r}")
    if len(matches) > 1:
        raise CLIUsageError(f"{len(matches)} {what}s are named {name!r}; give the ID instead")
    return str(matches[0]["id"])


def application_id(client: APIClient, name: str) -> str:
    return _by_name(client, "/api/applications", "application", name)


def profile_id(client: APIClient, name: str) -> str:
    return _by_name(client, "/api/device-profiles", "device profile", name)
