"""The integrations in ``/metrics`` (Prometheus text) and ``/api/system/status``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from appliance.integrations.courier import Courier


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: object) -> str:
    return "{" + ",".join(f'{key}="{_label(value)}"' for key, value in labels.items()) + "}"


def target_status(courier: Courier) -> dict[str, Any]:
    queue, target = courier.queue, courier.target
    stats = target.stats
    return {
        "name": target.name,
        "kind": target.kind,
        "application_id": None if target.application_id is None else str(target.application_id),
        "destination": target.destination,
        "backlog": queue.count,
        "backlog_bytes": queue.bytes,
        "in_flight": queue.in_flight,
        "delivered": queue.delivered,
        "refused": queue.refused,
        "dropped": dict(queue.dropped),
        "connected": stats.connected,
        "connects": stats.connects,
        "errors": dict(stats.errors),
        "last_error": stats.last_error,
        "commands_accepted": stats.commands_accepted,
        "commands_rejected": dict(stats.commands_rejected),
    }


def prometheus_lines(
    couriers: Iterable[Courier],
    *,
    removed: dict[tuple[str, str], int],
    commits: int,
    rows_written: int,
    write_errors: int,
    bytes_appended: int,
) -> list[str]:
    couriers = list(couriers)
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: Iterable[str]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples)

    def ids(courier: Courier) -> dict[str, object]:
        return {"target": courier.target.name, "kind": courier.target.kind}

    family(
        "appliance_integration_backlog",
        "gauge",
        "Events waiting in the outbox for an integration target.",
        (f"appliance_integration_backlog{_labels(**ids(c))} {c.queue.count}" for c in couriers),
    )
    family(
        "appliance_integration_backlog_bytes",
        "gauge",
        "Bytes of the events waiting for an integration target.",
        (
            f"appliance_integration_backlog_bytes{_labels(**ids(c))} {c.queue.bytes}"
            for c in couriers
        ),
    )
    family(
        "appliance_integration_delivered_total",
        "counter",
        "Events an integration target accepted.",
        (
            f"appliance_integration_delivered_total{_labels(**ids(c))} {c.queue.delivered}"
            for c in couriers
        ),
    )
    family(
        "appliance_integration_refused_total",
        "counter",
        "Events an integration target refused for good (dropped and reported).",
        (
            f"appliance_integration_refused_total{_labels(**ids(c))} {c.queue.refused}"
            for c in couriers
        ),
    )
    dropped = [
        f"appliance_integration_dropped_total{_labels(**ids(c), reason=reason)} {count}"
        for c in couriers
        for reason, count in sorted(c.queue.dropped.items())
    ]
    dropped += [
        f"appliance_integration_dropped_total{_labels(target=name, kind=kind, reason='removed')}"
        f" {count}"
        for (name, kind), count in sorted(removed.items())
    ]
    family(
        "appliance_integration_dropped_total",
        "counter",
        "Events dropped from the outbox: past a bound, unwritable, or with their integration.",
        dropped,
    )
    family(
        "appliance_integration_errors_total",
        "counter",
        "Failed deliveries and connections of an integration target, by kind.",
        (
            f"appliance_integration_errors_total{_labels(**ids(c), error=kind)} {count}"
            for c in couriers
            for kind, count in sorted(c.target.stats.errors.items())
        ),
    )
    family(
        "appliance_integration_connected",
        "gauge",
        "1 while an MQTT integration target is connected to its broker.",
        (
            f"appliance_integration_connected{_labels(**ids(c))} {int(c.target.stats.connected)}"
            for c in couriers
            if c.target.stats.connected is not None
        ),
    )
    commands = []
    for c in couriers:
        stats = c.target.stats
        if c.target.kind != "mqtt":
            continue
        commands.append(
            f"appliance_integration_downlink_commands_total"
            f"{_labels(**ids(c), result='accepted')} {stats.commands_accepted}"
        )
        commands += [
            f"appliance_integration_downlink_commands_total"
            f"{_labels(**ids(c), result=reason)} {count}"
            for reason, count in sorted(stats.commands_rejected.items())
        ]
    family(
        "appliance_integration_downlink_commands_total",
        "counter",
        "Downlink commands received over MQTT: accepted, or rejected by reason.",
        commands,
    )
    family(
        "appliance_integration_outbox_commits_total",
        "counter",
        "Transactions (each one fsync) written to the integrations' outbox.",
        [f"appliance_integration_outbox_commits_total {commits}"],
    )
    family(
        "appliance_integration_outbox_rows_written_total",
        "counter",
        "Rows (an event for one target) written to the outbox.",
        [f"appliance_integration_outbox_rows_written_total {rows_written}"],
    )
    family(
        "appliance_integration_outbox_event_bytes_total",
        "counter",
        "Event bytes written to the outbox (protobuf, one copy per target).",
        [f"appliance_integration_outbox_event_bytes_total {bytes_appended}"],
    )
    family(
        "appliance_integration_outbox_write_errors_total",
        "counter",
        "Outbox transactions that failed (a full disk, a damaged file).",
        [f"appliance_integration_outbox_write_errors_total {write_errors}"],
    )
    return lines
