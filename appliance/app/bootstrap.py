"""First-start set-up of the application server: the local admin API key.

The key's token is written to ``<data dir>/admin.key`` (0600) for the CLI and the console on
this machine; only its hash is in the database. A missing or stale file gets a new key, so
deleting the file is how an operator replaces it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path

from appliance.app.auth import new_token, read_admin_key, token_hash, write_admin_key
from appliance.app.model import APIKey, Application, Scope
from appliance.app.repository import NotFoundError, Repository

log = logging.getLogger("appliance.app")
ADMIN_KEY_NAME = "local admin (admin.key)"


def ensure_admin_key(repository: Repository, data_dir: Path, now: datetime) -> Path:
    existing = read_admin_key(data_dir)
    if existing is not None and repository.api_key_by_hash(token_hash(existing)) is not None:
        return data_dir / "admin.key"
    # Replace the old local key (if any) rather than piling them up.
    for key in repository.api_keys():
        if key.name == ADMIN_KEY_NAME:
            repository.delete_api_key(key.id)
    token = new_token()
    repository.create_api_key(
        APIKey(uuid.uuid4(), ADMIN_KEY_NAME, Scope.ADMIN), token_hash(token), now
    )
    path = write_admin_key(data_dir, token)
    log.debug("wrote a new local admin API key to %s", path)
    return path


def ensure_application(
    repository: Repository, app_id: uuid.UUID, name: str, description: str, now: datetime
) -> None:
    """Make sure an application devices were provisioned into (e.g. simulated) is listed."""
    try:
        repository.application(app_id)
    except NotFoundError:
        repository.create_application(Application(app_id, name, description), now)
