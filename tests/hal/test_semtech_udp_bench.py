"""The Semtech UDP benchmark runs in a bounded form so it cannot rot (figures: bench/RESULTS.md)."""

from __future__ import annotations

from bench import semtech_udp


def test_semtech_udp_benchmark_runs() -> None:
    results = semtech_udp.run(quick=True)
    assert [r.name.split(":")[0].split(",")[0] for r in results] == [
        "semtech-udp core",
        "semtech-udp loopback",
        "semtech-udp loopback",
    ]
    assert results[0].operations == 2_000
    # intervals between the first and the last uplink
    assert results[1].operations == results[2].operations == 1_999
    for result in results:
        assert result.per_second > 0
