"""Management operations on the network server's tables, for the application server.

Kept apart from the hot path in ``sqlite_store``: these run when a user changes something
through the API or the CLI. Every write tells the store which device or profile changed
(``_invalidate_device`` / ``_invalidate_profile``) so no cache in front of the tables serves
stale data, and waits for pending group commits first so an older session update cannot land
after (and undo) a management change.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import TYPE_CHECKING

from appliance.lorawan.identifiers import EUI64

if TYPE_CHECKING:
    from appliance.ns.group_commit import GroupCommitter


class ManagementMixin:
    """Mixed into ``SQLiteStore``; relies on its connection, committer and cache hooks."""

    _db: sqlite3.Connection
    _sessions: GroupCommitter

    def _invalidate_device(self, dev_eui: EUI64) -> None:
        raise NotImplementedError  # provided by SQLiteStore

    def _invalidate_profile(self, profile_id: uuid.UUID) -> None:
        raise NotImplementedError  # provided by SQLiteStore
