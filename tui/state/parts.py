"""The appliance's named parts (``parts`` of ``/api/system/status``) sorted into what the
dashboard shows: radio backends and concentrators, integrations, the upstream bridge.

Each part reports its own dict; the console reads the keys below in camelCase or snake_case
and shows the rest as ``key=value``, so a part that reports something new still shows up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

# Keys shown in their own columns (snake_case; camelCase keys are converted first).
KNOWN_KEYS = (
    "kind",
    "state",
    "connected",
    "chip",
    "temperature",
    "temperature_c",
    "region",
    "channel_plan",
    "backlog",
    "last_error",
    "application_id",
    "group",
    "name",
    "description",
    "gateway_count",
)


def snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.fields.get(key)

    @property
    def kind(self) -> str:
        return str(self.fields.get("kind") or self.name.split(":")[0].split("/")[0])

    @property
    def state(self) -> str:
        state = self.fields.get("state")
        if state is not None:
            return str(state)
        connected = self.fields.get("connected")
        if isinstance(connected, bool):
            return "connected" if connected else "disconnected"
        running = self.fields.get("running")
        if isinstance(running, bool):
            return "running" if running else "stopped"
        return "-"

    @property
    def temperature(self) -> float | None:
        for key in ("temperature_c", "temperature"):
            value = self.fields.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        return None

    @property
    def channel_plan(self) -> str:
        plan = self.fields.get("channel_plan")
        if isinstance(plan, list):
            return ",".join(f"{c / 1e6:.1f}" if isinstance(c, int) else str(c) for c in plan)
        return "-" if plan is None else str(plan)

    @property
    def backlog(self) -> int | None:
        value = self.fields.get("backlog")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def last_error(self) -> str:
        error = self.fields.get("last_error")
        return str(error).splitlines()[0] if error else ""

    @property
    def detail(self) -> str:
        """One line about the part: its channel plan, else its description, else the rest."""
        if self.fields.get("channel_plan") is not None:
            return self.channel_plan
        return str(self.fields.get("description") or self.extras() or "-")

    def extras(self) -> str:
        return " ".join(
            f"{key}={value}"
            for key, value in self.fields.items()
            if key not in KNOWN_KEYS and not isinstance(value, dict | list) and value is not None
        )

    @property
    def group(self) -> str:
        """'radio', 'integration', 'bridge' or 'other'."""
        given = self.fields.get("group")
        if isinstance(given, str):
            return given
        text = f"{self.name} {self.kind}".lower()
        if "integration" in text or "application_id" in self.fields:
            return "integration"
        if "bridge" in text or "upstream" in text:
            return "bridge"
        radio_words = (
            "backend",
            "concentrator",
            "sx130",
            "semtech",
            "station",
            "radio",
            "udp",
            "virtual",
        )
        if any(word in text for word in radio_words) or "chip" in self.fields:
            return "radio"
        return "other"


def _scalars(fields: dict[str, Any]) -> dict[str, Any]:
    return {snake(str(k)): v for k, v in fields.items()}


def _backend(entry: dict[str, Any]) -> Part:
    fields = _scalars(entry)
    details = entry.get("details")
    if isinstance(details, dict):
        fields.update(_scalars(details))
    fields.pop("details", None)
    gateways = fields.pop("gateways", None)
    if isinstance(gateways, list):
        fields["gateway_count"] = len(gateways)
    fields.setdefault("kind", "backend")
    fields.setdefault("state", "running")  # listed: it started and has not been stopped
    return Part(str(entry.get("name", "backend")), fields)


def _targets(entry: dict[str, Any]) -> list[Part]:
    targets = entry.get("targets")
    parts = []
    for target in targets if isinstance(targets, list) else []:
        if isinstance(target, dict):
            fields = _scalars(target)
            fields.setdefault("kind", "integration")
            fields["group"] = "integration"
            parts.append(Part(str(target.get("name", "integration")), fields))
    return parts


def parse_parts(status: dict[str, Any]) -> list[Part]:
    """One ``Part`` per backend, integration target, bridge or other part the appliance
    reports. The appliance nests some (``gateways.backends``, ``integrations.targets``);
    those lists are opened, anything else is one part."""
    parts = status.get("parts")
    if not isinstance(parts, dict):
        return []
    result: list[Part] = []
    for name, fields in sorted(parts.items()):
        if not isinstance(fields, dict):
            continue
        backends = fields.get("backends")
        if name == "gateways" and isinstance(backends, list):
            result.extend(_backend(b) for b in backends if isinstance(b, dict))
        elif name == "integrations" and "targets" in fields:
            result.extend(_targets(fields))
        else:
            result.append(Part(str(name), _scalars(fields)))
    return result


def integrations_backlog(status: dict[str, Any]) -> int | None:
    """Events waiting for all integrations together, if the appliance reports it."""
    integrations = status.get("parts", {}).get("integrations")
    backlog = integrations.get("backlog") if isinstance(integrations, dict) else None
    return backlog if isinstance(backlog, int) and not isinstance(backlog, bool) else None


def cpu_temperature(status: dict[str, Any]) -> float | None:
    """The host's CPU temperature if the appliance reports one (``cpuTemperature[C]``)."""
    for key in ("cpuTemperatureC", "cpuTemperature", "cpu_temperature_c", "cpu_temperature"):
        value = status.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None
