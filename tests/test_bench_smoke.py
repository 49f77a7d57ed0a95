"""The benchmarks run in a bounded form in the suite so they cannot rot; the figures that
matter come from `make bench` and are written down in bench/RESULTS.md."""

from __future__ import annotations

from bench import ns, protocol


def test_protocol_benchmark_runs() -> None:
    results = protocol.run(quick=True)
    assert [r.name.split(":")[0] for r in results] == [
        "uplink 1.0",
        "uplink 1.1",
        "uplink 1.0",
        "uplink 1.1",
        "join-accept 1.0",
        "join-accept 1.1",
    ]
    for result in results:
        assert result.operations > 0
        assert result.per_second > 0


def test_network_server_benchmark_runs() -> None:
    (result,) = ns.run(quick=True)
    assert result.operations == 300
    assert result.per_second > 0
