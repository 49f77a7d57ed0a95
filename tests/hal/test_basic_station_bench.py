"""The Basics Station benchmark runs in a bounded form so it cannot rot."""

from __future__ import annotations

from bench import basic_station


def test_basic_station_benchmark_runs() -> None:
    results = basic_station.run(quick=True)
    assert [r.name for r in results] == [
        "basic-station updf: JSON -> UplinkFrame (in process)",
        "basic-station updf: over loopback WebSocket",
    ]
    assert all(r.operations == 2_000 and r.per_second > 0 for r in results)
