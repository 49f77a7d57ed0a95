"""Health, Prometheus metrics and the appliance's status."""

from __future__ import annotations

import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from appliance.api.context import APIContext
from appliance.api.schemas import Body
from appliance.api.security import Caller, Ctx

router = APIRouter(tags=["system"])


class Health(Body):
    status: str


class SystemStatus(Body):
    version: str
    python: str
    platform: str
    region: str
    net_id: str
    uptime_s: float
    devices: int
    data_dir: str
    disk_free_bytes: int
    disk_total_bytes: int
    uplinks: int
    joins: int
    parts: dict[str, dict[str, Any]]
    cpu_temperature_c: float | None = None


THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temperature_c(path: Path = THERMAL_ZONE) -> float | None:
    """The SoC temperature on a Raspberry Pi (millidegrees in sysfs); None where there is none."""
    try:
        return round(int(path.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


@router.get("/health")
async def health() -> Health:
    return Health(status="ok")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(ctx: APIContext, queue_depths: dict[str, int], devices: int) -> str:
    m = ctx.metrics
    lines = [
        "# HELP appliance_uplinks_total Data uplinks accepted by the network server.",
        "# TYPE appliance_uplinks_total counter",
        f"appliance_uplinks_total {m.uplinks}",
        "# HELP appliance_joins_total Join-requests accepted.",
        "# TYPE appliance_joins_total counter",
        f"appliance_joins_total {m.joins}",
        "# HELP appliance_dropped_frames_total Frames dropped, by reason.",
        "# TYPE appliance_dropped_frames_total counter",
        *(
            f'appliance_dropped_frames_total{{reason="{_escape(r)}"}} {n}'
            for r, n in sorted(m.dropped.items())
        ),
        "# HELP appliance_downlinks_total Downlinks handed to gateways, by TX status.",
        "# TYPE appliance_downlinks_total counter",
        *(
            f'appliance_downlinks_total{{status="{_escape(s)}"}} {n}'
            for s, n in sorted(m.downlinks.items())
        ),
        "# HELP appliance_device_queue_items Downlinks waiting in device queues.",
        "# TYPE appliance_device_queue_items gauge",
        f"appliance_device_queue_items {sum(queue_depths.values())}",
        "# HELP appliance_devices Devices enrolled.",
        "# TYPE appliance_devices gauge",
        f"appliance_devices {devices}",
        "# HELP appliance_uptime_seconds Time since the appliance started.",
        "# TYPE appliance_uptime_seconds gauge",
        f"appliance_uptime_seconds {ctx.monotonic() - ctx.started_at:.3f}",
    ]
    for extension in ctx.extensions.values():
        lines.extend(extension.metrics())
    return "\n".join(lines) + "\n"


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(ctx: Ctx) -> PlainTextResponse:
    text = prometheus_text(ctx, await ctx.store.queue_depths(), await ctx.store.count_devices())
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


@router.get("/api/system/status")
async def system_status(ctx: Ctx, _: Caller) -> SystemStatus:
    usage = shutil.disk_usage(ctx.data_dir)
    return SystemStatus(
        version=ctx.version,
        python=sys.version.split()[0],
        platform=platform.platform(),
        region=ctx.settings.region_name,
        net_id=str(ctx.settings.net_id),
        uptime_s=round(ctx.monotonic() - ctx.started_at, 3),
        devices=await ctx.store.count_devices(),
        data_dir=str(ctx.data_dir.resolve()),
        disk_free_bytes=usage.free,
        disk_total_bytes=usage.total,
        uplinks=ctx.metrics.uplinks,
        joins=ctx.metrics.joins,
        parts={name: ext.status() for name, ext in ctx.extensions.items()},
        cpu_temperature_c=cpu_temperature_c(),
    )
