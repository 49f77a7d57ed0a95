"""The network server's state in one SQLite file: devices, profiles, sessions, nonces, queue.

A first, deliberately plain implementation of ``NSStore``: every write is its own transaction
in WAL mode with ``synchronous=FULL``, so when a coroutine returns the change survives a crash
or a power cut. Root keys and sessions (``DeviceSession.to_dict`` as JSON) are encrypted with
the data directory's secret key (``appliance.ns.secrets``), bound to their device.

Not yet here (see docs/network-server.md): batched group commits for SD-card wear, migrations
beyond the first schema, the application server's tables.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.ns.device import Device, RootKeys
from appliance.ns.downlink.data import QueueItem
from appliance.ns.group_commit import GroupCommitter
from appliance.ns.migrations import SCHEMA_VERSION, migrate
from appliance.ns.profile import DeviceProfile, MACVersion, RegParamsRevision
from appliance.ns.secrets import SecretBox, SecretsError
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_management import ManagementMixin
from appliance.ns.uplink.join import DevNonceHistory


class StoreError(Exception):
    """The database cannot be used (the message says which file and why)."""


class DuplicateError(StoreError):
    """A record with that identity exists already."""


def _profile_to_json(profile: DeviceProfile) -> str:
    data = asdict(profile)
    data["id"] = str(profile.id)
    return json.dumps(data)


def _profile_from_json(text: str) -> DeviceProfile:
    data = json.loads(text)
    data["id"] = uuid.UUID(data["id"])
    data["mac_version"] = MACVersion(data["mac_version"])
    data["reg_params_revision"] = RegParamsRevision(data["reg_params_revision"])
    return DeviceProfile(**data)


def _device_to_json(device: Device) -> str:
    return json.dumps(
        {
            "name": device.name,
            "profile_id": str(device.profile_id),
            "application_id": str(device.application_id),
            "enabled": device.enabled,
            "skip_f_cnt_check": device.skip_f_cnt_check,
            "tags": device.tags,
            "variables": device.variables,
        }
    )


def _holds_secrets(path: Path) -> bool:
    """Whether a database already holds rows encrypted with the data directory's key."""
    if not path.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT 1 FROM devices WHERE root_keys IS NOT NULL OR session IS NOT NULL LIMIT 1"
            ).fetchone()
    except sqlite3.DatabaseError:
        # No devices table yet, or not a database: the store's own checks will say which.
        return False
    return row is not None


class SQLiteStore(ManagementMixin):
    """``NSStore`` on one SQLite file. Calls are short and run on the caller's thread."""

    def __init__(self, path: Path, secrets: SecretBox) -> None:
        self.path = path
        self._secrets = secrets
        # Profiles change rarely and are read on every uplink.
        self._profiles: dict[uuid.UUID, DeviceProfile] = {}
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed counter survives a power cut, not only a process crash.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._migrate()
            self._sessions = GroupCommitter(path)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path}: not a usable database ({exc}); restore it from a "
                "backup or move it away to start empty"
            ) from None

    @classmethod
    def open(cls, data_dir: Path) -> SQLiteStore:
        """The store of a data directory with its secret key (created on first start)."""
        path = data_dir / "appliance.db"
        try:
            secrets = SecretBox.open_or_create(data_dir, must_exist=_holds_secrets(path))
        except SecretsError as exc:
            raise StoreError(str(exc)) from None
        return cls(path, secrets)

    def close(self) -> None:
        """Close the connections; every ``save_session`` has already returned durable."""
        self._sessions.close()
        self._db.close()

    async def aclose(self) -> None:
        await self._sessions.flush()
        self.close()

    # --- caches ------------------------------------------------------------------------------

    def _invalidate_device(self, dev_eui: EUI64) -> None:
        """A management write changed this device's row (the hot path caches nothing yet)."""

    def _invalidate_profile(self, profile_id: uuid.UUID) -> None:
        """A management write changed or removed this profile."""
        self._profiles.pop(profile_id, None)

    # --- secrets -----------------------------------------------------------------------------

    def _seal_session(self, dev_eui: EUI64, session: DeviceSession) -> bytes:
        return self._secrets.seal(json.dumps(session.to_dict()).encode(), f"session:{dev_eui}")

    def _open_session(self, dev_eui: str, blob: bytes) -> DeviceSession:
        plain = self._unseal(blob, f"session:{dev_eui}")
        return DeviceSession.from_dict(json.loads(plain))

    def _unseal(self, blob: bytes, context: str) -> bytes:
        try:
            return self._secrets.unseal(bytes(blob), context)
        except SecretsError as exc:
            raise StoreError(str(exc)) from None

    def _seal_root_keys(self, device: Device) -> bytes | None:
        keys = device.root_keys
        if keys is None:
            return None
        data = {
            "app_key": str(keys.app_key),
            "nwk_key": None if keys.nwk_key is None else str(keys.nwk_key),
        }
        return self._secrets.seal(json.dumps(data).encode(), f"device:{device.dev_eui}")

    def _device_from_row(self, row: sqlite3.Row) -> Device:
        data: dict[str, Any] = json.loads(row["data"])
        dev_eui = row["dev_eui"]
        keys = None
        if row["root_keys"] is not None:
            sealed = json.loads(self._unseal(row["root_keys"], f"device:{dev_eui}"))
            nwk = sealed["nwk_key"]
            keys = RootKeys(AESKey(sealed["app_key"]), None if nwk is None else AESKey(nwk))
        session = None
        if row["session"] is not None:
            session = self._open_session(dev_eui, row["session"])
        return Device(
            EUI64(dev_eui),
            EUI64(row["join_eui"]),
            data["name"],
            uuid.UUID(data["profile_id"]),
            uuid.UUID(data["application_id"]),
            keys,
            data["enabled"],
            data["skip_f_cnt_check"],
            session,
            data["tags"],
            data["variables"],
        )

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version (schema {version})")
        migrate(self._db, version)
        check = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StoreError(f"{self.path} is damaged: {check}")

    # --- management (used by the application server and tests) ------------------------------

    async def add_profile(self, profile: DeviceProfile) -> None:
        self._profiles.pop(profile.id, None)
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO profiles VALUES (?, ?)",
                (str(profile.id), _profile_to_json(profile)),
            )

    async def add_device(self, device: Device) -> None:
        try:
            with self._db:
                self._db.execute(
                    "INSERT INTO devices (dev_eui, join_eui, data, root_keys, dev_addr, session) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        str(device.dev_eui),
                        str(device.join_eui),
                        _device_to_json(device),
                        self._seal_root_keys(device),
                        None if device.session is None else str(device.session.dev_addr),
                        None
                        if device.session is None
                        else self._seal_session(device.dev_eui, device.session),
                    ),
                )
        except sqlite3.IntegrityError:
            raise DuplicateError(f"device {device.dev_eui} exists already") from None

    async def enqueue(
        self, dev_eui: EUI64, item: QueueItem, *, expires_at_ns: int | None = None
    ) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO queue (id, dev_eui, f_port, data, confirmed, expires_at_ns) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(item.id),
                    str(dev_eui),
                    item.f_port,
                    item.data,
                    int(item.confirmed),
                    expires_at_ns,
                ),
            )

    async def queue(self, dev_eui: EUI64) -> list[QueueItem]:
        rows = self._db.execute(
            "SELECT * FROM queue WHERE dev_eui = ? ORDER BY seq", (str(dev_eui),)
        ).fetchall()
        return [
            QueueItem(uuid.UUID(r["id"]), r["f_port"], bytes(r["data"]), bool(r["confirmed"]))
            for r in rows
        ]

    # --- NSStore -----------------------------------------------------------------------------

    async def sessions_by_dev_addr(self, dev_addr: DevAddr) -> list[tuple[EUI64, DeviceSession]]:
        rows = self._db.execute(
            "SELECT dev_eui, session FROM devices WHERE dev_addr = ? AND session IS NOT NULL",
            (str(dev_addr),),
        ).fetchall()
        pending = self._sessions.pending
        # Read your own writes: updates still waiting for their group commit win, including
        # a device whose pending session has moved to another DevAddr.
        sealed = {r["dev_eui"]: bytes(r["session"]) for r in rows if r["dev_eui"] not in pending}
        sealed.update(self._sessions.pending_for_addr(str(dev_addr)))
        return [(EUI64(eui), self._open_session(eui, blob)) for eui, blob in sealed.items()]

    async def device(self, dev_eui: EUI64) -> Device | None:
        row = self._db.execute(
            "SELECT * FROM devices WHERE dev_eui = ?", (str(dev_eui),)
        ).fetchone()
        if row is None:
            return None
        device = self._device_from_row(row)
        pending = self._sessions.pending.get(str(dev_eui))
        if pending is not None:
            device.session = self._open_session(str(dev_eui), pending[1])
        return device

    async def device_settings(self, dev_eui: EUI64) -> Device | None:
        row = self._db.execute(
            "SELECT dev_eui, join_eui, data FROM devices WHERE dev_eui = ?", (str(dev_eui),)
        ).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row["data"])
        return Device(
            EUI64(row["dev_eui"]),
            EUI64(row["join_eui"]),
            data["name"],
            uuid.UUID(data["profile_id"]),
            uuid.UUID(data["application_id"]),
            None,
            data["enabled"],
            data["skip_f_cnt_check"],
            None,
            data["tags"],
            data["variables"],
        )

    async def profile(self, profile_id: uuid.UUID) -> DeviceProfile | None:
        cached = self._profiles.get(profile_id)
        if cached is not None:
            return cached
        row = self._db.execute(
            "SELECT data FROM profiles WHERE id = ?", (str(profile_id),)
        ).fetchone()
        if row is None:
            return None
        profile = self._profiles[profile_id] = _profile_from_json(row["data"])
        return profile

    async def dev_nonce_history(self, dev_eui: EUI64, dev_nonce: int) -> DevNonceHistory:
        row = self._db.execute(
            "SELECT last_dev_nonce FROM devices WHERE dev_eui = ?", (str(dev_eui),)
        ).fetchone()
        seen = self._db.execute(
            "SELECT 1 FROM dev_nonces WHERE dev_eui = ? AND nonce = ?", (str(dev_eui), dev_nonce)
        ).fetchone()
        return DevNonceHistory(None if row is None else row["last_dev_nonce"], seen is not None)

    async def next_join_nonce(self, dev_eui: EUI64) -> int:
        with self._db:
            row = self._db.execute(
                "UPDATE devices SET last_join_nonce = last_join_nonce + 1 WHERE dev_eui = ? "
                "RETURNING last_join_nonce",
                (str(dev_eui),),
            ).fetchone()
        if row is None:
            raise StoreError(f"no device {dev_eui}")
        return int(row[0]) & 0xFFFFFF

    async def activate(
        self, dev_eui: EUI64, session: DeviceSession, *, dev_nonce: int, join_nonce: int
    ) -> None:
        del join_nonce  # reserved by next_join_nonce already
        await self._sessions.flush()  # an older session update must not land after this
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR IGNORE INTO dev_nonces VALUES (?, ?)", (str(dev_eui), dev_nonce)
            )
            self._db.execute(
                "UPDATE devices SET dev_addr = ?, session = ?, last_dev_nonce = ? "
                "WHERE dev_eui = ?",
                (
                    str(session.dev_addr),
                    self._seal_session(dev_eui, session),
                    dev_nonce,
                    str(dev_eui),
                ),
            )
            # A new session starts with an empty downlink state: sent-but-unacknowledged
            # items belonged to the old session's counters.
            self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND f_cnt_down IS NOT NULL", (str(dev_eui),)
            )

    async def activate_abp(self, dev_eui: EUI64, session: DeviceSession) -> None:
        """Give a device an ABP session (see ``appliance.ns.activation``), durably."""
        await self._sessions.flush()
        with self._db:
            self._db.execute("BEGIN")
            updated = self._db.execute(
                "UPDATE devices SET dev_addr = ?, session = ? WHERE dev_eui = ?",
                (str(session.dev_addr), self._seal_session(dev_eui, session), str(dev_eui)),
            ).rowcount
            self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND f_cnt_down IS NOT NULL", (str(dev_eui),)
            )
        if not updated:
            raise StoreError(f"no device {dev_eui}")

    async def save_session(self, dev_eui: EUI64, session: DeviceSession) -> None:
        # Group-committed with other devices' updates; returns once durable.
        sealed = self._seal_session(dev_eui, session)
        await self._sessions.save(str(dev_eui), (str(session.dev_addr), sealed))

    async def next_queue_item(self, dev_eui: EUI64, now_ns: int) -> tuple[QueueItem | None, bool]:
        with self._db:
            self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND expires_at_ns IS NOT NULL "
                "AND expires_at_ns < ? AND f_cnt_down IS NULL",
                (str(dev_eui), now_ns),
            )
        rows = self._db.execute(
            "SELECT * FROM queue WHERE dev_eui = ? AND f_cnt_down IS NULL ORDER BY seq LIMIT 2",
            (str(dev_eui),),
        ).fetchall()
        if not rows:
            return None, False
        first = rows[0]
        item = QueueItem(
            uuid.UUID(first["id"]), first["f_port"], bytes(first["data"]), bool(first["confirmed"])
        )
        return item, len(rows) > 1

    async def queue_item_sent(
        self, dev_eui: EUI64, item_id: uuid.UUID, *, f_cnt_down: int, confirmed: bool
    ) -> None:
        with self._db:
            if confirmed:
                self._db.execute(
                    "UPDATE queue SET f_cnt_down = ? WHERE id = ?", (f_cnt_down, str(item_id))
                )
            else:
                self._db.execute("DELETE FROM queue WHERE id = ?", (str(item_id),))

    async def queue_item_acknowledged(self, dev_eui: EUI64, f_cnt_down: int) -> uuid.UUID | None:
        with self._db:
            row = self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND f_cnt_down = ? RETURNING id",
                (str(dev_eui), f_cnt_down),
            ).fetchone()
        return None if row is None else uuid.UUID(row[0])

    async def drop_queue_item(self, dev_eui: EUI64, item_id: uuid.UUID) -> None:
        with self._db:
            self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND id = ?", (str(dev_eui), str(item_id))
            )
