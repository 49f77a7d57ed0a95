"""The appliance's configuration: read it, change it (validated, written atomically), and
restart to apply it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from appliance.api.errors import APIError
from appliance.api.schemas import Body
from appliance.api.security import Caller, Ctx
from appliance.config import ApplianceConfig, ConfigError
from appliance.config_file import EDITABLE, apply_changes, read_document

router = APIRouter(prefix="/api/system", tags=["system"])
_SECRET_KEYS = re.compile(r"password|secret|token|key$|sas", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]+):[^@/]*@")


class ConfigOut(Body):
    running: dict[str, Any]  # what this process started with
    file: dict[str, Any]  # what the configuration file says now (applied at the next start)
    config_file: str
    restart_required: bool
    editable: list[str]


class ConfigChange(Body):
    """Keys of the TOML file (snake_case, as in docs/running.md); null removes a key."""

    changes: dict[str, Any]


def masked(value: Any, key: str = "") -> Any:
    """``value`` with secrets replaced (by key name, and passwords inside URLs)."""
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, key) for v in value]
    if isinstance(value, str):
        if key and _SECRET_KEYS.search(key) and value and not key.endswith("_file"):
            return "********"
        return _URL_PASSWORD.sub(r"\1:********@", value)
    if isinstance(value, Path):
        return str(value)
    return value


def _running(config: ApplianceConfig) -> dict[str, Any]:
    return {k: masked(v, k) for k, v in asdict(config).items()}


def _out(ctx: Ctx) -> ConfigOut:
    config: ApplianceConfig = ctx.services["config"]
    path: Path = ctx.services["config_file"]
    try:
        document = read_document(path)
    except ConfigError as error:
        raise APIError(409, str(error)) from None
    running = _running(config)
    file_values = {k: masked(v, k) for k, v in document.items()}
    differs = any(running.get(k) != v for k, v in file_values.items() if k in EDITABLE)
    return ConfigOut(
        running=running,
        file=file_values,
        config_file=str(path),
        restart_required=differs,
        editable=sorted(EDITABLE),
    )


@router.get("/config")
async def get_config(ctx: Ctx, who: Caller) -> ConfigOut:
    if who.application_id is not None:
        raise APIError(403, "an admin or read-only API token is needed")
    if "config" not in ctx.services:
        raise APIError(503, "the configuration is not available")
    return _out(ctx)


@router.put("/config")
async def change_config(body: ConfigChange, ctx: Ctx, who: Caller) -> ConfigOut:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to change the configuration")
    if "config" not in ctx.services:
        raise APIError(503, "the configuration is not available")
    config: ApplianceConfig = ctx.services["config"]
    try:
        await asyncio.to_thread(
            apply_changes, ctx.services["config_file"], config.data_dir, dict(body.changes)
        )
    except ConfigError as error:
        raise APIError(422, str(error).splitlines()[0]) from None
    return _out(ctx)


class RestartOut(Body):
    restarting: bool


@router.post("/restart")
async def restart(ctx: Ctx, who: Caller) -> RestartOut:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to restart the appliance")
    request_restart = ctx.services.get("restart")
    if request_restart is None:
        raise APIError(503, "restarting is not available")
    # Answer first; the stop begins once this response is on its way.
    asyncio.get_running_loop().call_later(0.2, request_restart)
    return RestartOut(restarting=True)
