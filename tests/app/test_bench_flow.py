"""The application server's per-uplink benchmark (``python -m bench.events flow``) runs in a
bounded form, so it cannot rot; its figures are in bench/RESULTS.md."""

from __future__ import annotations

import gc

from bench import events


def test_flow_benchmark_runs() -> None:
    thresholds = gc.get_threshold()
    flow, flushes = events.bench_flow(devices=50, count=150, gateways=2)
    assert flow.name.startswith("events flow per uplink, CPU (50 devices, 2 gateway(s)")
    assert flushes.name.startswith("events flow: event log flushes")
    assert flow.operations == flushes.operations == 150
    assert flow.seconds > 0
    assert gc.get_threshold() == thresholds  # the appliance's collector settings undone
