"""The few Prometheus lines of ``/metrics`` the dashboard shows, parsed leniently: a line the
console does not understand is skipped, never an error."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True, slots=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(slots=True)
class Metrics:
    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))

    def by_label(self, name: str, label: str) -> dict[str, float]:
        """``{label value: sample value}`` of the samples of ``name``."""
        return {sample.labels.get(label, ""): sample.value for sample in self.samples.get(name, [])}

    def value(self, name: str) -> float | None:
        found = self.samples.get(name)
        return found[0].value if found else None


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def parse_metrics(text: str) -> Metrics:
    metrics = Metrics()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, labels, value = match.groups()
        try:
            number = float(value)
        except ValueError:
            continue
        parsed = {key: _unescape(text) for key, text in _LABEL.findall(labels or "")}
        metrics.samples[name].append(Sample(parsed, number))
    return metrics
