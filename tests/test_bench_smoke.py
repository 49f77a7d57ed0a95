"""The benchmarks run in a bounded form in the suite so they cannot rot; the figures that
matter come from `make bench` and are written down in bench/RESULTS.md."""

from __future__ import annotations

import socket
import time

import pytest

from bench import bridge, codecs, console, events, integrations, ns, protocol, sx1302, system
from bench.system.fleet import FleetSpec
from bench.system.gateways import _CONTROL_SPACE, _SO_TIMESTAMPNS, arrival_ns


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
    uplinks, joins, latency, sessions = ns.run(quick=True)
    assert uplinks.name.startswith("ns uplinks, 100 devices")
    assert uplinks.operations == 300
    assert joins.name.startswith("ns joins") and joins.operations == 100
    # Every confirmed uplink was answered; the figures are in the name.
    assert latency.operations == 200
    assert " p99 " in latency.name and "KiB written each" in latency.name
    assert sessions.name.startswith("ns sessions: ") and "bytes stored" in sessions.name
    for result in (uplinks, joins, latency, sessions):
        assert result.per_second > 0


def test_events_benchmark_runs() -> None:
    results = events.run(quick=True)
    assert [r.name.split(" (")[0] for r in results] == [
        "events build: up record + its JSON",
        "events stream to 1 subscriber",
        "events stream to 1 subscriber + JSON",
        "events log append, full batches",
        "events log append, 1 per flush",
        "events log append, 5 per flush",
    ]
    for result in results:
        assert result.operations > 0
        assert result.per_second > 0


def test_codec_benchmark_runs() -> None:
    results = codecs.run(quick=True)
    assert [r.name.split(",")[0].split(" (")[0] for r in results] == [
        "js decode",
        "js decode",
        "cayenne lpp decode",
    ]
    for result in results:
        assert result.operations > 0
        assert result.per_second > 0


def test_bridge_store_and_forward_benchmark_runs() -> None:
    # 2,000 uplinks spooled while the broker is down, then replayed to a real Mosquitto.
    spool, replay = bridge.run(quick=True)
    assert spool.name.startswith("bridge spool") and spool.operations == 2_000
    assert replay.name.startswith("bridge replay") and replay.operations == 2_000
    assert "B written/uplink" in spool.name
    assert spool.per_second > 0 and replay.per_second > 0


def test_sx1302_benchmark_runs() -> None:
    parse, convert, idle, idle_10ms = sx1302.run(quick=True)
    assert parse.operations > 0 and parse.per_second > 0
    assert convert.operations > 0
    assert idle.polls > 0 and 0 < idle.share < 1
    assert idle_10ms.polls > idle.polls


def test_console_benchmark_runs() -> None:
    # 3 s of 200 stream messages a second into the live screen of a headless console.
    (result,) = console.run(quick=True)
    assert result.name.startswith("console live log 200/s")
    assert result.operations >= 500
    assert result.per_second > 0


@pytest.mark.slow
def test_whole_system_benchmark_runs() -> None:
    # `appliance run` as its own process, 3 gateways over loopback UDP, 200 devices, events to
    # MQTT (or the live stream while the appliance has no MQTT output).
    options = system.Options(
        fleet=FleetSpec(200, gateways=3),
        phases=(system.Phase("smoke", rate=200, seconds=2, confirmed_share=0.25),),
        idle_seconds=1,
        drain_seconds=15,
        strace=False,
    )
    report = system.run_bench(options)
    assert 0 < report.answer_s < 60 and 0 < report.ready_s < 60
    assert report.idle_rss_mb > 0
    (phase,) = report.phases
    # Every frame's up event arrived, and every confirmed uplink got one ACK whose MIC and
    # fresh downlink counter the device side checked.
    assert phase.frames == 400 and phase.accepted == 400
    assert phase.events == 400 and phase.stream_skipped == 0
    assert phase.acks_expected == 100 and phase.ack_latency_ms["n"] == 100
    assert phase.downlink_problems == {}
    assert phase.latency_ms["p50"] >= report.dedup_window_ms
    assert phase.cpu_percent > 0 and phase.written_per_uplink > 0 and phase.peak_rss_mb > 0
    assert [r.line() for r in system.results(report)][1].startswith("system smoke: 200 devices")


def test_integrations_benchmark_runs() -> None:
    # 2,000 events through the outbox to a real Mosquitto (QoS 1 and 0), 1,000 one at a time.
    results = integrations.run(quick=True)
    assert [r.name.split(":")[0] for r in results] == [
        "integrations MQTT QoS 1, 256 in flight",
        "integrations MQTT QoS 0, 256 in flight",
        "integrations MQTT QoS 1, serial",
    ]
    assert [r.operations for r in results] == [2_000, 2_000, 1_000]
    assert all("B written/event" in r.name and r.per_second > 0 for r in results)


def test_api_benchmark_runs() -> None:
    from bench import api  # noqa: PLC0415 - starts an API server; only this test needs it

    get_device, stream = api.run(quick=True)
    assert get_device.operations == 200
    assert 0 < get_device.p50 <= get_device.p99
    assert stream.operations > 0


def _wait_until_stamped_on_arrival(receiver: socket.socket, sender: socket.socket) -> None:
    for _ in range(100):
        sender.sendto(b"\x02\x00\x00\x03", receiver.getsockname())
        time.sleep(0.01)
        _, ancillary, _, _ = receiver.recvmsg(64, _CONTROL_SPACE)
        if time.monotonic_ns() - arrival_ns(ancillary) >= 5_000_000:
            return
    raise AssertionError("the kernel never stamped a datagram on arrival")


def test_load_generator_stamps_a_datagram_when_it_arrived_not_when_it_is_read() -> None:
    """The ACK latency charges the appliance with the moment its PULL_RESP reached the gateway
    socket; the load generator reading it late (while it samples) must not count."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.bind(("127.0.0.1", 0))
        receiver.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        # Linux turns receive timestamps on for the whole system some time after the first
        # socket asks (a deferred static key); until then a datagram is stamped when it is
        # read. The load generator's sockets ask long before an ACK can come; here, wait.
        _wait_until_stamped_on_arrival(receiver, sender)
        before = time.monotonic_ns()
        sender.sendto(b"\x02\x00\x01\x03", receiver.getsockname())
        after = time.monotonic_ns()
        time.sleep(0.05)  # the reader is busy elsewhere; the datagram waits in the socket
        _, ancillary, _, _ = receiver.recvmsg(64, _CONTROL_SPACE)
        read = time.monotonic_ns()
        arrived = arrival_ns(ancillary)
        tolerance = 2_000_000  # the wall clock read twice (offset), on a loaded machine
        assert before - tolerance <= arrived <= after + tolerance
        assert read - arrived >= 45_000_000
        assert arrival_ns([]) >= read  # no timestamp: the moment it is read
    finally:
        receiver.close()
        sender.close()
