"""What users manage besides devices and profiles: applications, gateways, users, API keys,
integrations. Plain values; the repository stores them and the API validates input."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from appliance.lorawan.identifiers import EUI64


class Scope(StrEnum):
    """What an API key may do."""

    ADMIN = "admin"  # everything
    READ_ONLY = "read-only"  # every GET, nothing else
    APPLICATION = "application"  # everything inside one application


@dataclass(frozen=True, slots=True)
class Application:
    id: uuid.UUID
    name: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    altitude: float = 0.0


@dataclass(frozen=True, slots=True)
class Gateway:
    gateway_id: EUI64
    name: str
    description: str = ""
    location: Location | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_seen_at: datetime | None = None
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    is_admin: bool
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class APIKey:
    """An API key's record; the token itself is shown once and stored only as a hash."""

    id: uuid.UUID
    name: str
    scope: Scope
    application_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None  # set for login sessions
    expires_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Integration:
    application_id: uuid.UUID
    kind: str  # mqtt, http, influxdb
    config: dict[str, Any]
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """What the console's device table shows; kept in memory, saved now and then."""

    last_seen_at: datetime | None = None
    rssi: int | None = None
    snr: float | None = None
    f_cnt_up: int | None = None
    dr: int | None = None
    battery_level: float | None = None
    margin: int | None = None
    external_power: bool | None = None
