"""One whole-system benchmark run: provision, start, idle, warm up, the measured phases, stop.

Each phase sends ``rate * seconds`` frames at ``rate`` and then waits (answering downlinks) until
every frame's ``up`` event reached the sink or none came for a while. Its figures:

- throughput: ``up`` events received / time from the first frame sent to the last event
  received (so a backlog drained after the sending counts against it);
- latency: PUSH_DATA sent -> ``up`` event received, per frame (the de-duplication window is part
  of it and reported next to it);
- ACK latency: confirmed uplink's PUSH_DATA sent -> the PULL_RESP with its ACK received, and the
  same minus the de-duplication window and the downlink wait (both configured waits);
- CPU of the appliance (and its children) over the phase, in % of one core; bytes written to
  storage (``/proc/PID/io`` write_bytes) per accepted uplink; fsyncs/s (strace);
- what the appliance dropped (``/metrics``) and what the kernel dropped at its UDP socket.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.system.downlinks import DownlinkCheck
from bench.system.fleet import FleetSpec, Frame, Traffic, dev_eui, provision
from bench.system.gateways import Gateways, Sent
from bench.system.processes import (
    Appliance,
    Broker,
    Sample,
    StartError,
    fsyncs_between,
    sample,
    start_appliance,
    start_broker,
    write_config,
)
from bench.system.receiver import Receiver

SAMPLE_EVERY_S = 0.25
STALL_S = 3.0  # a drain ends when no event came for this long


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    rate: float
    seconds: float
    confirmed_share: float = 0.0


@dataclass(frozen=True, slots=True)
class Options:
    fleet: FleetSpec
    phases: tuple[Phase, ...]
    idle_seconds: float = 5.0
    dedup_window_ms: int = 200
    downlink_wait_ms: int = 100
    log_level: str = "info"
    mqtt: bool = True
    sink: str = "auto"  # auto (MQTT if the appliance publishes there, else sse) | sse | none
    strace: bool = True
    warmup_rate: float = 1_000.0
    warmup_frames: int = 10_000  # a round of the devices, up to this many
    drain_seconds: float = 20.0
    keep: Path | None = None  # keep the data directory and logs here


@dataclass
class PhaseResult:
    phase: Phase
    frames: int = 0
    events: int = 0
    throughput: float = 0.0
    ns_throughput: float = 0.0  # uplinks accepted by the network server per second
    latency_ms: dict[str, float] = field(default_factory=dict)
    acks_expected: int = 0
    ack_latency_ms: dict[str, float] = field(default_factory=dict)
    ack_latency_excl_ms: dict[str, float] = field(default_factory=dict)
    downlink_problems: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    dropped: dict[str, float] = field(default_factory=dict)
    kernel_drops: int = 0
    stream_skipped: int = 0  # live stream only: items it skipped for a slow reader
    cpu_percent: float = 0.0
    cpu_per_uplink_us: float = 0.0  # CPU time of the appliance per accepted uplink
    written_per_uplink: float = 0.0
    fsyncs_per_s: float | None = None
    peak_rss_mb: float = 0.0
    seconds: float = 0.0


@dataclass
class Report:
    devices: int
    gateways: int
    copies: int
    sink: str = ""
    sink_note: str = ""
    provision_s: float = 0.0
    answer_s: float = 0.0
    ready_s: float = 0.0
    idle_cpu_percent: float = 0.0
    idle_rss_mb: float = 0.0
    idle_tree_rss_mb: float = 0.0
    dedup_window_ms: int = 0
    downlink_wait_ms: int = 0
    phases: list[PhaseResult] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict  # noqa: PLC0415

        return asdict(self)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    return {"p50": at(0.50), "p99": at(0.99), "max": ordered[-1], "n": float(len(ordered))}


def kernel_drops(port: int) -> int:
    """Datagrams the kernel dropped at the UDP socket bound to ``port`` (receive buffer full)."""
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return 0
    total = 0
    for line in lines:
        fields = line.split()
        if len(fields) > 12 and int(fields[1].split(":")[1], 16) == port:
            total += int(fields[12])
    return total


class Bench:
    def __init__(self, options: Options, work: Path) -> None:
        self.options = options
        self.work = work
        self.data_dir = work / "data"
        self.report = Report(options.fleet.devices, options.fleet.gateways, options.fleet.copies)
        self.traffic = Traffic(options.fleet)
        self.downlinks = DownlinkCheck()
        self.broker: Broker | None = None
        self.appliance: Appliance | None = None
        self.gateways: Gateways | None = None
        self.receiver: Receiver | None = None

    # --- set-up and tear-down ---------------------------------------------------------------

    def start(self) -> None:
        options, report = self.options, self.report
        report.provision_s = provision(self.data_dir, options.fleet)
        report.dedup_window_ms = options.dedup_window_ms
        report.downlink_wait_ms = options.downlink_wait_ms
        write_config(
            self.data_dir,
            {
                "dedup_window_ms": options.dedup_window_ms,
                "downlink_wait_ms": options.downlink_wait_ms,
                "log_level": options.log_level,
            },
        )
        if options.mqtt:
            self.broker = start_broker(self.work)
            if self.broker is None:
                report.notes.append("mosquitto is not installed: no MQTT")
        strace = options.strace and shutil.which("strace") is not None
        if options.strace and not strace:
            report.notes.append("strace is not installed: fsyncs/s not counted")
        mqtt_url = "" if self.broker is None else self.broker.url
        try:
            self.appliance = start_appliance(self.data_dir, mqtt_url=mqtt_url, strace=strace)
        except StartError as error:
            if not strace:
                raise
            # e.g. a container without ptrace: measure everything else.
            report.notes.append(f"under strace the appliance did not start ({error}); no fsyncs/s")
            self.appliance = start_appliance(self.data_dir, mqtt_url=mqtt_url)
        report.answer_s = self.appliance.answer_s
        report.ready_s = self.appliance.ready_s

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.close()
        if self.gateways is not None:
            self.gateways.close()
        if self.appliance is not None:
            self.report.peak_rss_mb = sample(self.appliance.pid).peak_rss_bytes / 2**20
            code = self.appliance.stop()
            if code != 0:
                self.report.notes.append(f"appliance run exited with {code}")
        if self.broker is not None:
            self.broker.stop()

    # --- the steps --------------------------------------------------------------------------

    def idle(self) -> None:
        assert self.appliance is not None
        time.sleep(1.0)  # whatever start-up left running settles
        before = sample(self.appliance.pid)
        time.sleep(self.options.idle_seconds)
        after = sample(self.appliance.pid)
        self.report.idle_cpu_percent = 100 * (after.cpu_s - before.cpu_s) / self._s(before, after)
        self.report.idle_rss_mb = after.rss_bytes / 2**20
        self.report.idle_tree_rss_mb = after.tree_rss_bytes / 2**20

    @staticmethod
    def _s(before: Sample, after: Sample) -> float:
        return float(after.at_ns - before.at_ns) / 1e9

    def connect(self) -> None:
        assert self.appliance is not None
        fleet = self.options.fleet
        self.gateways = gateways = Gateways(self.appliance.udp, fleet.gateways)
        gateways.pull()
        if not gateways.wait_until(lambda: gateways.pull_acks >= fleet.gateways, 10):
            raise StartError("the gateways' PULL_DATA were not answered")

    def warm_up(self) -> None:
        """A round of the devices (up to ``warmup_frames``): the appliance's caches hold what
        steady traffic leaves in them, and the sink is chosen (MQTT if the appliance publishes
        there)."""
        assert self.appliance is not None and self.gateways is not None
        report, appliance, sink = self.report, self.appliance, self.options.sink
        if sink == "auto" and self.broker is not None:
            self.receiver = Receiver.mqtt(self.broker.port, self.work / "events.txt")
            report.sink = "mqtt"
        elif sink in ("auto", "sse"):
            self.receiver = Receiver.sse(appliance.url, appliance.token, self.work / "events.txt")
            report.sink = "sse"
        else:
            report.sink = "none"
        count = min(self.options.fleet.devices, self.options.warmup_frames)
        rate = self.options.warmup_rate
        frames = self.traffic.frames(count, spacing_us=round(1e6 / rate))
        before = appliance.metrics().get("appliance_uplinks_total", 0)
        self.gateways.play(frames, rate)
        target = before + count
        progress = [before, time.monotonic()]

        def settled() -> bool:
            accepted = appliance.metrics().get("appliance_uplinks_total", 0)
            if accepted != progress[0]:
                progress[:] = [accepted, time.monotonic()]
            return accepted >= target or time.monotonic() - progress[1] > STALL_S

        self.gateways.wait_until(settled, self.options.drain_seconds)
        receiver = self.receiver
        if receiver is not None:
            self.gateways.wait_until(lambda: receiver.update() >= count, 2.0)
        if report.sink == "mqtt" and receiver is not None and receiver.count == 0:
            receiver.close()
            self.receiver = Receiver.sse(appliance.url, appliance.token, self.work / "events.txt")
            report.sink = "sse"
            report.sink_note = (
                "no up event reached MQTT during the warm-up: this appliance does "
                "not publish to --mqtt-url; events measured on the live stream (SSE) instead"
            )

    def phase(self, phase: Phase) -> PhaseResult:
        assert self.appliance and self.gateways
        appliance, gateways, receiver = self.appliance, self.gateways, self.receiver
        result = PhaseResult(phase)
        count = max(int(phase.rate * phase.seconds), 1)
        frames = self.traffic.frames(
            count, spacing_us=round(1e6 / phase.rate), confirmed_share=phase.confirmed_share
        )
        result.frames = count
        result.acks_expected = sum(1 for f in frames if f.confirmed)
        metrics_before = appliance.metrics()
        drops_before = kernel_drops(appliance.udp[1])
        events_before = 0 if receiver is None else receiver.update()
        accepted_before = metrics_before.get("appliance_uplinks_total", 0)
        gateways.pull_resps.clear()
        wall_start = time.time()
        samples = [sample(appliance.pid)]

        accepted_at: list[tuple[int, float]] = []  # (monotonic ns, uplinks accepted so far)

        def tick() -> None:
            if receiver is not None:
                receiver.update()
            samples.append(sample(appliance.pid))
            if receiver is None or len(samples) % 2 == 0:
                uplinks = appliance.metrics().get("appliance_uplinks_total", 0)
                accepted_at.append((time.monotonic_ns(), uplinks))

        def progress() -> float:
            if receiver is not None:
                return receiver.count
            return accepted_at[-1][1] if accepted_at else accepted_before

        sent = gateways.play(frames, phase.rate, tick=tick, tick_every_s=SAMPLE_EVERY_S)
        base = events_before if receiver is not None else accepted_before
        self._drain(progress, base + count, tick)
        # Late ACKs: every confirmed uplink's PULL_RESP, or a second without one more.
        gateways.wait_until(lambda: len(gateways.pull_resps) >= result.acks_expected, 1.0)
        tick()
        metrics_after = appliance.metrics()
        events = [] if receiver is None else receiver.dump()[events_before:]
        final = metrics_after.get("appliance_uplinks_total", 0)
        last_accepted_ns = next((t for t, n in accepted_at if n >= final), samples[-1].at_ns)
        last_event_ns = max((stamp for stamp, _, _ in events), default=last_accepted_ns)
        # The phase's cost ends with its last event (not with the wait for stragglers).
        before = samples[0]
        after = next((s for s in samples if s.at_ns >= last_event_ns), samples[-1])
        wall_end = wall_start + (after.at_ns - before.at_ns) / 1e9
        result.kernel_drops = kernel_drops(appliance.udp[1]) - drops_before
        self._counts(result, metrics_before, metrics_after, accepted_at, sent)
        self._latencies(result, frames, sent.sent_ns, events)
        self._acks(result, frames, sent)
        self._costs(result, samples[0], after, (wall_start, wall_end))
        self.report.phases.append(result)
        return result

    @staticmethod
    def _counts(
        result: PhaseResult,
        before: dict[str, float],
        after: dict[str, float],
        accepted_at: list[tuple[int, float]],
        sent: Sent,
    ) -> None:
        uplinks = "appliance_uplinks_total"
        result.accepted = int(after.get(uplinks, 0) - before.get(uplinks, 0))
        result.dropped = {
            name: value - before.get(name, 0)
            for name, value in after.items()
            if name.startswith("appliance_dropped_frames_total") and value != before.get(name, 0)
        }
        final = after.get(uplinks, 0)
        done_ns = next((t for t, n in accepted_at if n >= final), time.monotonic_ns())
        if sent.sent_ns:
            result.ns_throughput = result.accepted / ((done_ns - sent.sent_ns[0]) / 1e9)

    def _acks(self, result: PhaseResult, frames: list[Frame], sent: Sent) -> None:
        assert self.gateways is not None
        acks_before = len(self.downlinks.ack_latency_ms)
        self.downlinks.check(self.gateways.pull_resps, frames, sent.sent_ns)
        waits = self.options.dedup_window_ms + self.options.downlink_wait_ms
        acks = self.downlinks.ack_latency_ms[acks_before:]
        result.ack_latency_ms = percentiles(acks)
        result.ack_latency_excl_ms = percentiles([a - waits for a in acks])
        result.downlink_problems = dict(self.downlinks.problems)

    def _costs(
        self, result: PhaseResult, before: Sample, after: Sample, wall: tuple[float, float]
    ) -> None:
        assert self.appliance is not None
        seconds = self._s(before, after)
        result.seconds = seconds
        result.cpu_percent = 100 * (after.cpu_s - before.cpu_s) / seconds
        result.cpu_per_uplink_us = (after.cpu_s - before.cpu_s) / max(result.accepted, 1) * 1e6
        written = after.write_bytes - before.write_bytes
        result.written_per_uplink = written / max(result.accepted, 1)
        result.peak_rss_mb = after.peak_rss_bytes / 2**20
        if self.appliance.strace_path is not None:
            fsyncs = fsyncs_between(self.appliance.strace_path, *wall)
            result.fsyncs_per_s = fsyncs / (wall[1] - wall[0])

    def _drain(
        self, progress: Callable[[], float], target: float, tick: Callable[[], None]
    ) -> None:
        """Answer the gateways until ``progress()`` (events received, or uplinks accepted
        without a sink) reaches ``target``, stays still for ``STALL_S``, or ``drain_seconds``
        passed."""
        assert self.gateways is not None
        gateways = self.gateways
        deadline = time.monotonic() + self.options.drain_seconds
        last_count, last_change, next_tick = progress(), time.monotonic(), 0.0
        while progress() < target:
            now = time.monotonic()
            if now > deadline or now - last_change > STALL_S:
                return
            gateways.poll(0.05)
            if now >= next_tick:
                tick()
                next_tick = now + SAMPLE_EVERY_S
            if progress() != last_count:
                last_count, last_change = progress(), now

    def _latencies(
        self,
        result: PhaseResult,
        frames: list[Any],
        sent_ns: list[int],
        events: list[tuple[int, str, int]],
    ) -> None:
        index = {
            (str(dev_eui(f.device)).lower(), f.f_cnt): sent
            for f, sent in zip(frames, sent_ns, strict=False)
        }
        latencies, last = [], 0
        for stamp, device, f_cnt in events:
            if device == "missed":
                result.stream_skipped += f_cnt
                continue
            sent = index.pop((device, f_cnt), None)
            if sent is not None:
                latencies.append((stamp - sent) / 1e6)
                last = max(last, stamp)
        result.events = len(latencies)
        result.latency_ms = percentiles(latencies)
        if latencies and sent_ns:
            result.throughput = len(latencies) / ((last - sent_ns[0]) / 1e9)


@contextlib.contextmanager
def _workspace(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="bench-system-") as directory:
        yield Path(directory)


def run(options: Options) -> Report:
    with _workspace(options.keep) as work:
        bench = Bench(options, work)
        try:
            bench.start()
            bench.idle()
            bench.connect()
            bench.warm_up()
            for phase in options.phases:
                bench.phase(phase)
        finally:
            bench.stop()
        return bench.report
