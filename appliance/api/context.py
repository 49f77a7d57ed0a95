"""Everything the API's handlers reach: state, settings, clocks and the live parts.

Built once by the runtime (or by a test) and stored on the FastAPI application; handlers get
it through ``context(request)``. Clocks are inputs, so tests can hold time still.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request

from appliance.app.auth import LoginLimiter
from appliance.app.repository import Repository
from appliance.app.status import StatusTracker
from appliance.ns.events import Metrics
from appliance.ns.network import NetworkSettings
from appliance.ns.sqlite_store import SQLiteStore


def _wall() -> datetime:
    return datetime.now(UTC)


class Extension(Protocol):
    """A part of the appliance that reports its own state and Prometheus lines."""

    def status(self) -> dict[str, Any]: ...

    def metrics(self) -> list[str]: ...


@dataclass(slots=True)
class APIContext:
    store: SQLiteStore
    repository: Repository
    settings: NetworkSettings
    metrics: Metrics
    data_dir: Path
    version: str
    status: StatusTracker
    now: Callable[[], datetime] = _wall
    monotonic: Callable[[], float] = time.monotonic
    started_at: float = field(default_factory=time.monotonic)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    session_lifetime_s: int = 24 * 3600
    # Named parts (backends, integrations, the bridge...) the runtime registers for
    # /api/system/status and /metrics.
    extensions: dict[str, Extension] = field(default_factory=dict)
    # Optional collaborators the runtime plugs in (the codec runner, the event log, the live
    # stream broker); the handlers that need one answer 503 while it is absent.
    services: dict[str, Any] = field(default_factory=dict)


def context(request: Request) -> APIContext:
    ctx: APIContext = request.app.state.context
    return ctx
