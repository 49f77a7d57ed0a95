"""``python -m bench.system``: one whole-system run with the fleet, rates and waits given.

Examples (the figures of bench/RESULTS.md)::

    python -m bench.system --devices 10000 --rate 5000 --seconds 30
    python -m bench.system --devices 100000 --rate 4000 --seconds 30
    python -m bench.system --devices 10000 --rate 1000 --seconds 30 --confirmed-share 0.1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.system.fleet import FleetSpec
from bench.system.report import summary_lines
from bench.system.run import Options, Phase, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.system", description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--gateways", type=int, default=10)
    parser.add_argument("--copies", type=int, default=1, help="gateways hearing every frame")
    parser.add_argument("--rate", type=float, action="append", help="uplinks/s (repeatable)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument(
        "--confirmed-share", type=float, default=0.0, help="share of devices sending confirmed"
    )
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--dedup-window-ms", type=int, default=200)
    parser.add_argument("--downlink-wait-ms", type=int, default=100)
    parser.add_argument("--log-level", default="info", help="the appliance's (default info)")
    parser.add_argument("--warmup-rate", type=float, default=1_000.0)
    parser.add_argument("--warmup-frames", type=int, default=10_000)
    parser.add_argument("--drain-seconds", type=float, default=30.0)
    parser.add_argument("--no-mqtt", action="store_true", help="no broker, no --mqtt-url")
    parser.add_argument(
        "--sink",
        choices=("auto", "sse", "none"),
        default="auto",
        help="where up events are received: MQTT when the appliance publishes there, else the "
        "live stream (auto); the live stream; none (the network server's counters only)",
    )
    parser.add_argument("--no-strace", action="store_true", help="do not count fsyncs")
    parser.add_argument("--keep", type=Path, help="keep the data directory and logs here")
    parser.add_argument("--json", type=Path, help="also write the full report here, as JSON")
    args = parser.parse_args()
    rates = args.rate or [5_000.0]
    options = Options(
        fleet=FleetSpec(devices=args.devices, gateways=args.gateways, copies=args.copies),
        phases=tuple(
            Phase(f"at {rate:,.0f}/s", rate, args.seconds, args.confirmed_share) for rate in rates
        ),
        idle_seconds=args.idle_seconds,
        dedup_window_ms=args.dedup_window_ms,
        downlink_wait_ms=args.downlink_wait_ms,
        log_level=args.log_level,
        mqtt=not args.no_mqtt,
        sink=args.sink,
        strace=not args.no_strace,
        warmup_rate=args.warmup_rate,
        warmup_frames=args.warmup_frames,
        drain_seconds=args.drain_seconds,
        keep=args.keep,
    )
    report = run(options)
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    for line in summary_lines(report):
        print(line)


if __name__ == "__main__":
    main()
