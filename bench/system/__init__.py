"""The whole appliance as a user runs it: ``appliance run`` in its own process, N gateways over
real Semtech UDP on loopback carrying M simulated devices' frames at a rate R, events to a
local Mosquitto (or the live stream while the appliance has no MQTT output); see
docs/benchmarks.md for what each figure means.

``python -m bench`` (``make bench``) runs the standard form: 10,000 devices, 20 s at 5,000/s
offered then 20 s at 1,000/s with 10 % confirmed, about 70 s in all; ``python -m bench
--quick`` the short one (1,000 devices, 4 s phases, about 17 s; the test suite runs it);
``python -m bench.system --devices 100000 --rate 4000 ...`` the long ones.
"""

from __future__ import annotations

from bench.protocol import Result
from bench.system.fleet import FleetSpec
from bench.system.report import summary_lines
from bench.system.run import Options, Phase, Report
from bench.system.run import run as run_bench

QUICK = Options(
    fleet=FleetSpec(devices=1_000, gateways=10),
    phases=(
        Phase("throughput", rate=2_000, seconds=4),
        Phase("paced, 10% confirmed", rate=1_000, seconds=4, confirmed_share=0.1),
    ),
    idle_seconds=3,
    drain_seconds=10,
)


class SystemResult(Result):
    """A figure line of its own: the rate alone says little about a whole-system run."""

    def line(self) -> str:
        return self.name


def results(report: Report) -> list[Result]:
    """The report as ``bench`` result lines: start-up, one per phase (up events per second
    as the rate, the other figures in the name), then the notes."""
    lines = summary_lines(report)
    out: list[Result] = [SystemResult(lines[0], 1, max(report.ready_s, 1e-9))]
    for phase, text in zip(report.phases, lines[1:], strict=False):
        out.append(SystemResult(text, max(phase.events, 1), max(phase.seconds, 1e-9)))
    out.extend(SystemResult(text, 1, 1.0) for text in lines[1 + len(report.phases) :])
    return out


def run(quick: bool) -> list[Result]:
    options = (
        QUICK
        if quick
        else Options(
            fleet=FleetSpec(devices=10_000, gateways=10),
            phases=(
                Phase("throughput", rate=5_000, seconds=20),
                Phase("paced, 10% confirmed", rate=1_000, seconds=20, confirmed_share=0.1),
            ),
        )
    )
    return results(run_bench(options))


__all__ = ["Options", "Phase", "Report", "run", "run_bench"]
