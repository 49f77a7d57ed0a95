"""The application server's tables (schema step 2 of ``appliance.ns.migrations``), through
sqlite-utils on the store's connection.

Devices and device profiles live in the network server's tables and change through the
store's management methods, so caches in front of the radio path stay right; everything here
is only read and written by the application server.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlite_utils

from appliance.app.model import (
    APIKey,
    Application,
    DeviceStatus,
    Gateway,
    Integration,
    Location,
    Scope,
    User,
)
from appliance.app.timefmt import from_text, to_text
from appliance.lorawan.identifiers import EUI64


class NotFoundError(Exception):
    """No such record (the message names it)."""


class ConflictError(Exception):
    """The change conflicts with what is stored (the message says how)."""


class Repository:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = sqlite_utils.Database(connection)

    # --- applications ---------------------------------------------------------------------

    def create_application(self, app: Application, now: datetime) -> Application:
        stamp = to_text(now)
        self.db.table("applications").insert(
            {
                "id": str(app.id),
                "name": app.name,
                "description": app.description,
                "tags": json.dumps(app.tags),
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        return self.application(app.id)

    def application(self, app_id: uuid.UUID) -> Application:
        rows = list(self.db.table("applications").rows_where("id = ?", [str(app_id)]))
        if not rows:
            raise NotFoundError(f"no application {app_id}")
        return _application(rows[0])

    def applications(
        self, *, search: str = "", limit: int = 100, offset: int = 0
    ) -> tuple[list[Application], int]:
        where, args = _name_search(search)
        table = self.db.table("applications")
        total = table.count_where(where, args) if where else table.count
        rows = table.rows_where(where, args, order_by="lower(name), id", limit=limit, offset=offset)
        return [_application(r) for r in rows], total

    def update_application(self, app: Application, now: datetime) -> Application:
        self.application(app.id)
        self.db.table("applications").update(
            str(app.id),
            {
                "name": app.name,
                "description": app.description,
                "tags": json.dumps(app.tags),
                "updated_at": to_text(now),
            },
        )
        return self.application(app.id)

    def delete_application(self, app_id: uuid.UUID, device_count: int) -> None:
        self.application(app_id)
        if device_count:
            raise ConflictError(
                f"application {app_id} still has {device_count} device(s); remove them first"
            )
        with self.db.conn:
            self.db.execute("DELETE FROM integrations WHERE application_id = ?", [str(app_id)])
            self.db.execute("DELETE FROM api_keys WHERE application_id = ?", [str(app_id)])
            self.db.execute("DELETE FROM applications WHERE id = ?", [str(app_id)])

    # --- device profile codecs and device metadata -----------------------------------------

    def set_codec(self, profile_id: uuid.UUID, runtime: str, script: str) -> None:
        self.db.table("profile_codecs").upsert(
            {"profile_id": str(profile_id), "runtime": runtime, "script": script},
            pk="profile_id",
        )

    def codec(self, profile_id: uuid.UUID) -> tuple[str, str]:
        rows = list(self.db.table("profile_codecs").rows_where("profile_id = ?", [str(profile_id)]))
        if not rows:
            return "none", ""
        return str(rows[0]["runtime"]), str(rows[0]["script"])

    def delete_codec(self, profile_id: uuid.UUID) -> None:
        self.db.execute("DELETE FROM profile_codecs WHERE profile_id = ?", [str(profile_id)])

    def set_device_meta(self, dev_eui: EUI64, description: str, now: datetime) -> None:
        stamp = to_text(now)
        existing = list(self.db.table("device_meta").rows_where("dev_eui = ?", [str(dev_eui)]))
        created = existing[0]["created_at"] if existing else stamp
        self.db.table("device_meta").upsert(
            {
                "dev_eui": str(dev_eui),
                "description": description,
                "created_at": created,
                "updated_at": stamp,
            },
            pk="dev_eui",
        )

    def device_meta(self, dev_eui: EUI64) -> dict[str, Any]:
        rows = list(self.db.table("device_meta").rows_where("dev_eui = ?", [str(dev_eui)]))
        return rows[0] if rows else {"description": "", "created_at": None, "updated_at": None}

    def delete_device_records(self, dev_eui: EUI64) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM device_meta WHERE dev_eui = ?", [str(dev_eui)])
            self.db.execute("DELETE FROM device_status WHERE dev_eui = ?", [str(dev_eui)])

    def save_device_statuses(self, statuses: Mapping[str, DeviceStatus]) -> None:
        """One transaction for many devices: the status is saved every few seconds at most."""
        if not statuses:
            return
        records = [
            {
                "dev_eui": dev_eui,
                "last_seen_at": None if s.last_seen_at is None else to_text(s.last_seen_at),
                "data": json.dumps(status_dict(s)),
            }
            for dev_eui, s in statuses.items()
        ]
        with self.db.conn:
            self.db.table("device_status").upsert_all(records, pk="dev_eui")

    def device_status(self, dev_eui: str) -> DeviceStatus | None:
        row = self.db.execute(
            "SELECT last_seen_at, data FROM device_status WHERE dev_eui = ?", [dev_eui]
        ).fetchone()
        if row is None:
            return None
        return DeviceStatus(last_seen_at=from_text(row[0]), **json.loads(row[1]))

    def device_statuses(self) -> dict[str, DeviceStatus]:
        found: dict[str, DeviceStatus] = {}
        for row in self.db.table("device_status").rows:
            data = json.loads(row["data"])
            found[row["dev_eui"]] = DeviceStatus(
                last_seen_at=from_text(row["last_seen_at"]), **data
            )
        return found

    # --- gateways -------------------------------------------------------------------------

    def create_gateway(self, gateway: Gateway, now: datetime) -> Gateway:
        stamp = to_text(now)
        try:
            self.db.table("gateways").insert(
                {
                    "gateway_id": str(gateway.gateway_id),
                    "name": gateway.name,
                    "description": gateway.description,
                    "location": _location_json(gateway.location),
                    "tags": json.dumps(gateway.tags),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "last_seen_at": None,
                    "stats": "{}",
                }
            )
        except sqlite3.IntegrityError:
            raise ConflictError(f"gateway {gateway.gateway_id} exists already") from None
        return self.gateway(gateway.gateway_id)

    def gateway(self, gateway_id: EUI64) -> Gateway:
        rows = list(self.db.table("gateways").rows_where("gateway_id = ?", [str(gateway_id)]))
        if not rows:
            raise NotFoundError(f"no gateway {gateway_id}")
        return _gateway(rows[0])

    def gateways(self, *, limit: int = 100, offset: int = 0) -> tuple[list[Gateway], int]:
        table = self.db.table("gateways")
        rows = table.rows_where(order_by="gateway_id", limit=limit, offset=offset)
        return [_gateway(r) for r in rows], table.count

    def update_gateway(self, gateway: Gateway, now: datetime) -> Gateway:
        self.gateway(gateway.gateway_id)
        self.db.table("gateways").update(
            str(gateway.gateway_id),
            {
                "name": gateway.name,
                "description": gateway.description,
                "location": _location_json(gateway.location),
                "tags": json.dumps(gateway.tags),
                "updated_at": to_text(now),
            },
        )
        return self.gateway(gateway.gateway_id)

    def delete_gateway(self, gateway_id: EUI64) -> None:
        self.gateway(gateway_id)
        self.db.execute("DELETE FROM gateways WHERE gateway_id = ?", [str(gateway_id)])

    def gateway_seen(
        self, gateway_id: EUI64, now: datetime, stats: Mapping[str, Any] | None = None
    ) -> None:
        """A gateway was heard: recorded on first sight (a site's gateways are its own)."""
        stamp = to_text(now)
        values: dict[str, Any] = {"last_seen_at": stamp}
        if stats is not None:
            values["stats"] = json.dumps(dict(stats))
        with self.db.conn:
            updated = self.db.execute(
                "UPDATE gateways SET "
                + ", ".join(f"{k} = ?" for k in values)
                + " WHERE gateway_id = ?",
                [*values.values(), str(gateway_id)],
            ).rowcount
            if not updated:
                self.db.table("gateways").insert(
                    {
                        "gateway_id": str(gateway_id),
                        "name": f"gateway-{gateway_id}",
                        "description": "added when first heard",
                        "location": None,
                        "tags": "{}",
                        "created_at": stamp,
                        "updated_at": stamp,
                        "last_seen_at": stamp,
                        "stats": values.get("stats", "{}"),
                    }
                )

    # --- users and API keys ---------------------------------------------------------------

    def create_user(self, user: User, password_hash: str, now: datetime) -> User:
        stamp = to_text(now)
        try:
            self.db.table("users").insert(
                {
                    "id": str(user.id),
                    "email": user.email,
                    "is_admin": int(user.is_admin),
                    "password_hash": password_hash,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        except sqlite3.IntegrityError:
            raise ConflictError(f"a user with e-mail {user.email} exists already") from None
        return self.user(user.id)

    def user(self, user_id: uuid.UUID) -> User:
        rows = list(self.db.table("users").rows_where("id = ?", [str(user_id)]))
        if not rows:
            raise NotFoundError(f"no user {user_id}")
        return _user(rows[0])

    def user_by_email(self, email: str) -> tuple[User, str] | None:
        rows = list(self.db.table("users").rows_where("email = ?", [email]))
        if not rows:
            return None
        return _user(rows[0]), str(rows[0]["password_hash"])

    def users(self) -> list[User]:
        return [_user(r) for r in self.db.table("users").rows_where(order_by="email")]

    def delete_user(self, user_id: uuid.UUID) -> None:
        self.user(user_id)
        with self.db.conn:
            self.db.execute("DELETE FROM api_keys WHERE user_id = ?", [str(user_id)])
            self.db.execute("DELETE FROM users WHERE id = ?", [str(user_id)])

    def create_api_key(self, key: APIKey, token_hash: str, now: datetime) -> APIKey:
        self.db.table("api_keys").insert(
            {
                "id": str(key.id),
                "name": key.name,
                "token_hash": token_hash,
                "scope": key.scope.value,
                "application_id": None if key.application_id is None else str(key.application_id),
                "user_id": None if key.user_id is None else str(key.user_id),
                "expires_at": None if key.expires_at is None else to_text(key.expires_at),
                "created_at": to_text(now),
            }
        )
        return self.api_key(key.id)

    def api_key(self, key_id: uuid.UUID) -> APIKey:
        rows = list(self.db.table("api_keys").rows_where("id = ?", [str(key_id)]))
        if not rows:
            raise NotFoundError(f"no API key {key_id}")
        return _api_key(rows[0])

    def api_key_by_hash(self, token_hash: str) -> APIKey | None:
        rows = list(self.db.table("api_keys").rows_where("token_hash = ?", [token_hash]))
        return _api_key(rows[0]) if rows else None

    def api_keys(self, *, include_sessions: bool = False) -> list[APIKey]:
        where = None if include_sessions else "user_id IS NULL"
        return [
            _api_key(r) for r in self.db.table("api_keys").rows_where(where, order_by="created_at")
        ]

    def delete_api_key(self, key_id: uuid.UUID) -> None:
        self.api_key(key_id)
        self.db.execute("DELETE FROM api_keys WHERE id = ?", [str(key_id)])

    def delete_expired_keys(self, now: datetime) -> None:
        self.db.execute(
            "DELETE FROM api_keys WHERE expires_at IS NOT NULL AND expires_at < ?", [to_text(now)]
        )

    # --- integrations ---------------------------------------------------------------------

    def put_integration(self, integration: Integration, now: datetime) -> Integration:
        self.application(integration.application_id)
        stamp = to_text(now)
        key = [str(integration.application_id), integration.kind]
        existing = list(
            self.db.table("integrations").rows_where("application_id = ? AND kind = ?", key)
        )
        created = existing[0]["created_at"] if existing else stamp
        self.db.table("integrations").upsert(
            {
                "application_id": key[0],
                "kind": key[1],
                "config": json.dumps(integration.config),
                "created_at": created,
                "updated_at": stamp,
            },
            pk=("application_id", "kind"),
        )
        return self.integration(integration.application_id, integration.kind)

    def integration(self, app_id: uuid.UUID, kind: str) -> Integration:
        rows = list(
            self.db.table("integrations").rows_where(
                "application_id = ? AND kind = ?", [str(app_id), kind]
            )
        )
        if not rows:
            raise NotFoundError(f"application {app_id} has no {kind} integration")
        return _integration(rows[0])

    def integrations(self, app_id: uuid.UUID | None = None) -> list[Integration]:
        where, args = (None, []) if app_id is None else ("application_id = ?", [str(app_id)])
        rows = self.db.table("integrations").rows_where(
            where, args, order_by="application_id, kind"
        )
        return [_integration(r) for r in rows]

    def delete_integration(self, app_id: uuid.UUID, kind: str) -> None:
        self.integration(app_id, kind)
        self.db.execute(
            "DELETE FROM integrations WHERE application_id = ? AND kind = ?", [str(app_id), kind]
        )


def _name_search(search: str) -> tuple[str | None, list[Any]]:
    if not search:
        return None, []
    pattern = "%" + search.replace("%", "\\%").replace("_", "\\_") + "%"
    return "name LIKE ? ESCAPE '\\'", [pattern]


def _application(row: dict[str, Any]) -> Application:
    return Application(
        uuid.UUID(row["id"]),
        row["name"],
        row["description"],
        json.loads(row["tags"]),
        from_text(row["created_at"]),
        from_text(row["updated_at"]),
    )


def _location_json(location: Location | None) -> str | None:
    if location is None:
        return None
    return json.dumps(
        {
            "latitude": location.latitude,
            "longitude": location.longitude,
            "altitude": location.altitude,
        }
    )


def _gateway(row: dict[str, Any]) -> Gateway:
    location = None if row["location"] is None else Location(**json.loads(row["location"]))
    return Gateway(
        EUI64(row["gateway_id"]),
        row["name"],
        row["description"],
        location,
        json.loads(row["tags"]),
        from_text(row["created_at"]),
        from_text(row["updated_at"]),
        from_text(row["last_seen_at"]),
        json.loads(row["stats"]),
    )


def _user(row: dict[str, Any]) -> User:
    return User(
        uuid.UUID(row["id"]), row["email"], bool(row["is_admin"]), from_text(row["created_at"])
    )


def _api_key(row: dict[str, Any]) -> APIKey:
    return APIKey(
        uuid.UUID(row["id"]),
        row["name"],
        Scope(row["scope"]),
        None if row["application_id"] is None else uuid.UUID(row["application_id"]),
        None if row["user_id"] is None else uuid.UUID(row["user_id"]),
        from_text(row["expires_at"]),
        from_text(row["created_at"]),
    )


def _integration(row: dict[str, Any]) -> Integration:
    return Integration(
        uuid.UUID(row["application_id"]),
        row["kind"],
        json.loads(row["config"]),
        from_text(row["created_at"]),
        from_text(row["updated_at"]),
    )


def status_dict(status: DeviceStatus) -> dict[str, Any]:
    return {
        "rssi": status.rssi,
        "snr": status.snr,
        "f_cnt_up": status.f_cnt_up,
        "dr": status.dr,
        "battery_level": status.battery_level,
        "margin": status.margin,
        "external_power": status.external_power,
    }
