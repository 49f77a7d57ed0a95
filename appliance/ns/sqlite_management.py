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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.lorawan.identifiers import EUI64
from appliance.ns.device import Device
from appliance.ns.downlink.data import QueueItem
from appliance.ns.profile import DeviceProfile
from appliance.ns.root_keys import sealed_root_keys
from appliance.ns.secrets import SecretBox
from appliance.ns.sqlite_rows import (
    device_to_json,
    profile_from_json,
    profile_to_json,
    settings_from_row,
)

if TYPE_CHECKING:
    from appliance.ns.group_commit import GroupCommitter


class ManagementError(Exception):
    """A management change cannot be made (the message says why, for a 4xx answer)."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A queued downlink as users see it (sent confirmed items wait for their ACK)."""

    item: QueueItem
    expires_at_ns: int | None
    f_cnt_down: int | None  # set once sent (confirmed items only)


class ManagementMixin:
    """Mixed into ``SQLiteStore``; relies on its connection, committer and cache hooks."""

    _db: sqlite3.Connection
    _sessions: GroupCommitter
    _device_count: int | None
    _secrets: SecretBox

    if TYPE_CHECKING:  # SQLiteStore provides these: the cache hooks.

        def _invalidate_device(self, dev_eui: EUI64) -> None: ...

        def _invalidate_profile(self, profile_id: uuid.UUID) -> None: ...

    @property
    def connection(self) -> sqlite3.Connection:
        """The event loop's connection, for the application server's own tables."""
        return self._db

    # --- profiles -------------------------------------------------------------------------

    async def add_profile(self, profile: DeviceProfile) -> None:
        self._invalidate_profile(profile.id)
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO profiles VALUES (?, ?)",
                (str(profile.id), profile_to_json(profile)),
            )

    async def profiles(self) -> list[DeviceProfile]:
        rows = self._db.execute("SELECT data FROM profiles").fetchall()
        found = [profile_from_json(r["data"]) for r in rows]
        return sorted(found, key=lambda p: (p.name.lower(), str(p.id)))

    async def delete_profile(self, profile_id: uuid.UUID) -> None:
        in_use = self._db.execute(
            "SELECT count(*) FROM devices WHERE json_extract(data, '$.profile_id') = ?",
            (str(profile_id),),
        ).fetchone()[0]
        if in_use:
            raise ManagementError(f"device profile {profile_id} is used by {in_use} device(s)")
        with self._db:
            deleted = self._db.execute(
                "DELETE FROM profiles WHERE id = ?", (str(profile_id),)
            ).rowcount
        self._invalidate_profile(profile_id)
        if not deleted:
            raise ManagementError(f"no device profile {profile_id}")

    # --- devices --------------------------------------------------------------------------

    async def list_devices(
        self,
        *,
        application_id: uuid.UUID | None = None,
        search: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Device], int]:
        """Devices without secrets or sessions, ordered by DevEUI, and the total matching."""
        where: list[str] = []
        params: list[Any] = []
        if application_id is not None:
            where.append("json_extract(data, '$.application_id') = ?")
            params.append(str(application_id))
        if search:
            where.append(
                "(dev_eui LIKE ? ESCAPE '\\' OR json_extract(data, '$.name') LIKE ? ESCAPE '\\')"
            )
            pattern = "%" + search.replace("%", "\\%").replace("_", "\\_") + "%"
            params.extend([pattern.lower(), pattern])
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = self._db.execute(f"SELECT count(*) FROM devices{clause}", params).fetchone()[0]
        rows = self._db.execute(
            f"SELECT dev_eui, join_eui, data, dev_addr FROM devices{clause} "
            "ORDER BY dev_eui LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [settings_from_row(r) for r in rows], int(total)

    async def count_devices(self) -> int:
        # Counted once and again only after a management write (``_invalidate_device``):
        # the count walks an index of every device on the event loop (5 ms warm with 100,000,
        # and it pushes the hot path's pages out of SQLite's cache), and every /metrics
        # scrape asks.
        if self._device_count is None:
            self._device_count = int(self._db.execute("SELECT count(*) FROM devices").fetchone()[0])
        return self._device_count

    async def update_device(self, device: Device) -> None:
        """Store a device's settings and root keys (its session is left as it is)."""
        with self._db:
            updated = self._db.execute(
                "UPDATE devices SET join_eui = ?, data = ?, root_keys = ? WHERE dev_eui = ?",
                (
                    str(device.join_eui),
                    device_to_json(device),
                    sealed_root_keys(self._secrets, device),
                    str(device.dev_eui),
                ),
            ).rowcount
        self._invalidate_device(device.dev_eui)
        if not updated:
            raise ManagementError(f"no device {device.dev_eui}")

    async def delete_device(self, dev_eui: EUI64) -> None:
        await self._sessions.flush()  # a pending session update must not resurrect the row
        with self._db:
            self._db.execute("BEGIN")
            deleted = self._db.execute(
                "DELETE FROM devices WHERE dev_eui = ?", (str(dev_eui),)
            ).rowcount
            self._db.execute("DELETE FROM dev_nonces WHERE dev_eui = ?", (str(dev_eui),))
            self._db.execute("DELETE FROM queue WHERE dev_eui = ?", (str(dev_eui),))
        self._invalidate_device(dev_eui)
        if not deleted:
            raise ManagementError(f"no device {dev_eui}")

    async def deactivate(self, dev_eui: EUI64) -> None:
        """Forget the device's session: it must join (or be activated) again."""
        await self._sessions.flush()
        with self._db:
            updated = self._db.execute(
                "UPDATE devices SET dev_addr = NULL, session = NULL WHERE dev_eui = ?",
                (str(dev_eui),),
            ).rowcount
        self._invalidate_device(dev_eui)
        if not updated:
            raise ManagementError(f"no device {dev_eui}")

    async def flush_dev_nonces(self, dev_eui: EUI64) -> int:
        """Forget the DevNonces a device has used (after a device's storage was reset)."""
        with self._db:
            self._db.execute("BEGIN")
            removed = self._db.execute(
                "DELETE FROM dev_nonces WHERE dev_eui = ?", (str(dev_eui),)
            ).rowcount
            self._db.execute(
                "UPDATE devices SET last_dev_nonce = NULL WHERE dev_eui = ?", (str(dev_eui),)
            )
        self._invalidate_device(dev_eui)
        return int(removed)

    # --- queue ----------------------------------------------------------------------------

    async def queue_entries(self, dev_eui: EUI64) -> list[QueueEntry]:
        rows = self._db.execute(
            "SELECT * FROM queue WHERE dev_eui = ? ORDER BY seq", (str(dev_eui),)
        ).fetchall()
        return [
            QueueEntry(
                QueueItem(uuid.UUID(r["id"]), r["f_port"], bytes(r["data"]), bool(r["confirmed"])),
                r["expires_at_ns"],
                r["f_cnt_down"],
            )
            for r in rows
        ]

    async def flush_queue(self, dev_eui: EUI64) -> int:
        """Remove the items not sent yet (sent confirmed items still wait for their ACK)."""
        with self._db:
            removed = self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND f_cnt_down IS NULL", (str(dev_eui),)
            ).rowcount
        return int(removed)

    async def queue_depths(self) -> dict[str, int]:
        rows = self._db.execute("SELECT dev_eui, count(*) FROM queue GROUP BY dev_eui").fetchall()
        return {r[0]: int(r[1]) for r in rows}
