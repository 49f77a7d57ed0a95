"""The rows of the network server's tables as Python values, and the bounded cache in front
of them (``sqlite_store``; ``sqlite_management`` shares the row formats).

Profiles and device settings are JSON (the application server queries them with
``json_extract``). Reading a device's settings happens for every uplink of a device whose
settings are not cached, so the values thousands of devices share (JoinEUI, profile and
application ids) are parsed once and the objects shared.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from appliance.lorawan.identifiers import EUI64
from appliance.ns.device import Device
from appliance.ns.profile import DeviceProfile, MACVersion, RegParamsRevision
from appliance.sqlite_wear import SECURE_DELETE_FAST

# A new database gets small pages: a session update rewrites one page per commit, and 512
# bytes hold a session with a full ADR history. Existing databases keep theirs.
NEW_DATABASE_PAGE_SIZE: Final = 512


def connect_store(path: Path) -> tuple[sqlite3.Connection, int]:
    """The store's own connection to ``path``, set up, and the file's page size."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    # Only takes effect while the file is still empty (a new database).
    db.execute(f"PRAGMA page_size={NEW_DATABASE_PAGE_SIZE}")
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed counter survives a power cut, not only a process crash.
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=10000")
    db.execute(SECURE_DELETE_FAST)
    return db, int(db.execute("PRAGMA page_size").fetchone()[0])


def profile_to_json(profile: DeviceProfile) -> str:
    data = asdict(profile)
    data["id"] = str(profile.id)
    return json.dumps(data)


def profile_from_json(text: str) -> DeviceProfile:
    data = json.loads(text)
    data["id"] = uuid.UUID(data["id"])
    data["mac_version"] = MACVersion(data["mac_version"])
    data["reg_params_revision"] = RegParamsRevision(data["reg_params_revision"])
    return DeviceProfile(**data)


def device_to_json(device: Device) -> str:
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


def settings_from_row(row: sqlite3.Row) -> Device:
    return settings_of(row["dev_eui"], row["join_eui"], row["data"])


def settings_of(dev_eui: str, join_eui: str, text: str) -> Device:
    """A device without secrets or session from its row: DevEUI, JoinEUI, JSON settings."""
    data: dict[str, Any] = json.loads(text)
    return Device(
        EUI64(bytes.fromhex(dev_eui)),
        _interned(join_eui, _join_euis, _eui_of),
        data["name"],
        _interned(data["profile_id"], _uuids, uuid.UUID),
        _interned(data["application_id"], _uuids, uuid.UUID),
        None,
        data["enabled"],
        data["skip_f_cnt_check"],
        None,
        data["tags"],
        data["variables"],
    )


def _eui_of(text: str) -> EUI64:
    return EUI64(bytes.fromhex(text))


# JoinEUIs, profile and application ids repeat over thousands of devices: each is parsed
# once, and one immutable object shared (less work per device read, less cache memory).
_INTERN_LIMIT: Final = 4096
_join_euis: dict[str, EUI64] = {}
_uuids: dict[str, uuid.UUID] = {}
T = TypeVar("T")


def _interned(text: str, table: dict[str, T], parse: Callable[[str], T]) -> T:
    value = table.get(text)
    if value is None:
        value = parse(text)
        if len(table) >= _INTERN_LIMIT:
            table.clear()
        table[text] = value
    return value


K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A dict that forgets its least recently stored entries beyond ``limit``.

    An ``OrderedDict``: taking the oldest entry of a plain dict (``next(iter(d))``) walks past
    the slots its earlier deletions left, microseconds per call once the cache is full.
    """

    __slots__ = ("_items", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def put(self, key: K, value: V) -> None:
        items = self._items
        items.pop(key, None)
        items[key] = value
        if len(items) > self.limit:
            items.popitem(last=False)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def take(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# The devices of a DevAddr: from the index alone (their sessions cached), or with what the
# uplink needs next when they are not (the stored session and the settings).
DEV_EUIS_BY_ADDR: Final = "SELECT dev_eui FROM devices WHERE dev_addr = ?"
DEVICES_BY_ADDR: Final = (
    "SELECT d.dev_eui, d.join_eui, d.data, s.session FROM devices d "
    "LEFT JOIN sessions s ON s.dev_eui = d.dev_eui WHERE d.dev_addr = ?"
)


def holds_secrets(path: Path) -> bool:
    """Whether a database already holds rows encrypted with the data directory's key."""
    if not path.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            # The sessions table first: any row answers at once, where the devices query
            # scans every device that has no keys stored (100,000 ABP devices: 0.1 s a start).
            queries = ["SELECT 1 FROM sessions"] if "sessions" in tables else []
            queries.append(
                "SELECT 1 FROM devices WHERE root_keys IS NOT NULL OR session IS NOT NULL"
            )
            return any(db.execute(f"{q} LIMIT 1").fetchone() for q in queries)
    except sqlite3.DatabaseError:
        # No devices table yet, or not a database: the store's own checks will say which.
        return False
