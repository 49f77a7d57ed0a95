"""The whole-system report as text: a summary line per phase and a detailed listing."""

from __future__ import annotations

from bench.system.run import PhaseResult, Report


def _ms(figures: dict[str, float]) -> str:
    if not figures:
        return "none"
    return f"p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, max {figures['max']:.1f} ms"


def phase_line(report: Report, phase: PhaseResult) -> str:
    p = phase.phase
    # Refused at the entry when overloaded, dropped by the kernel, or still on their way
    # when the drain ended: the reasons follow in the line.
    undelivered = phase.frames - phase.events
    text = (
        f"system {p.name}: {report.devices:,} devices, {report.gateways} gateways, "
        f"{p.rate:,.0f}/s offered for {p.seconds:g} s: "
    )
    if report.sink != "none":
        text += (
            f"{phase.throughput:,.0f} up events/s via {report.sink}, {undelivered} not delivered; "
        )
    text += f"network server accepted {phase.accepted:,} ({phase.ns_throughput:,.0f}/s)"
    if report.sink != "none":
        text += f"; up latency {_ms(phase.latency_ms)} (dedup {report.dedup_window_ms} ms)"
    if phase.acks_expected:
        text += (
            f"; ACK latency {_ms(phase.ack_latency_ms)}, without dedup+downlink wait "
            f"({report.dedup_window_ms}+{report.downlink_wait_ms} ms) "
            f"p99 {phase.ack_latency_excl_ms.get('p99', float('nan')):.1f} ms, "
            f"{len(phase.ack_latency_ms) and int(phase.ack_latency_ms['n'])}"
            f"/{phase.acks_expected} ACKs"
        )
    fsyncs = "n/a" if phase.fsyncs_per_s is None else f"{phase.fsyncs_per_s:,.0f}"
    text += (
        f"; CPU {phase.cpu_percent:.0f}% ({phase.cpu_per_uplink_us:,.0f} µs per uplink), "
        f"{phase.written_per_uplink / 1024:.2f} KiB written "
        f"per uplink, {fsyncs} fsyncs/s, peak RSS so far {phase.peak_rss_mb:.0f} MB"
    )
    if phase.stream_skipped:
        text += f"; the live stream skipped {phase.stream_skipped} events for its slow reader"
    if phase.kernel_drops:
        text += f"; kernel dropped {phase.kernel_drops} datagrams"
    if phase.dropped:
        text += f"; appliance dropped {phase.dropped}"
    if phase.downlink_problems:
        text += f"; DOWNLINK PROBLEMS {phase.downlink_problems}"
    return text


def summary_lines(report: Report) -> list[str]:
    head = (
        f"system start-up and idle, {report.devices:,} devices: first PULL_ACK "
        f"{report.answer_s:.2f} s, API ready {report.ready_s:.2f} s; idle CPU "
        f"{report.idle_cpu_percent:.2f}%, idle RSS {report.idle_rss_mb:.0f} MB "
        f"({report.idle_tree_rss_mb:.0f} MB with the codec worker) "
        f"(provisioning {report.provision_s:.1f} s)"
    )
    lines = [head, *(phase_line(report, phase) for phase in report.phases)]
    if report.sink_note:
        lines.append(f"note: {report.sink_note}")
    lines.extend(f"note: {note}" for note in report.notes)
    return lines
