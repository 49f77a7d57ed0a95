"""The outbox's bounds and pacing (the ``[outbox]`` table); ``docs/integrations.md`` explains
each and why its default is what it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appliance.integrations.options import Options


@dataclass(frozen=True, slots=True)
class OutboxLimits:
    max_events: int = 100_000  # per target; beyond, the oldest are dropped (to 90 %)
    max_bytes: int = 64 * 1024 * 1024  # per target, stored event bytes
    max_age_hours: float = 168.0  # a week; older events are dropped
    memory_events: int = 2_048  # per target, kept in memory next to the file
    delete_interval_s: float = 5.0  # delivered rows are deleted at least this often
    maintenance_s: float = 60.0  # age limit checks

    @property
    def max_age_ns(self) -> int:
        return int(self.max_age_hours * 3600 * 1_000_000_000)


def outbox_limits_from_mapping(
    values: Mapping[str, Any], *, prefix: str = "outbox."
) -> OutboxLimits:
    table = Options(values, prefix)
    defaults = OutboxLimits()
    limits = OutboxLimits(
        max_events=table.integer("max_events", defaults.max_events, 10, 100_000_000),
        max_bytes=table.integer("max_bytes", defaults.max_bytes, 64 * 1024, 1 << 40),
        max_age_hours=table.number("max_age_hours", defaults.max_age_hours, 0.001, 24 * 366),
        memory_events=table.integer("memory_events", defaults.memory_events, 16, 1_000_000),
        delete_interval_s=table.number("delete_interval_s", defaults.delete_interval_s, 0.01, 3600),
        maintenance_s=table.number("maintenance_s", defaults.maintenance_s, 0.01, 86_400),
    )
    table.finish()
    return limits
