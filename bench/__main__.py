"""Run the benchmarks: ``python -m bench`` (full) or ``python -m bench --quick`` (seconds)."""

from __future__ import annotations

import argparse
import platform

from bench import (
    api,
    basic_station,
    bridge,
    codecs,
    console,
    events,
    integrations,
    ns,
    protocol,
    semtech_udp,
    sx1302,
    system,
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts, one repeat")
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}"
    )
    runs = (
        protocol.run,
        semtech_udp.run,
        basic_station.run,
        ns.run,
        events.run,
        api.run,
        codecs.run,
        bridge.run,
        integrations.run,
        sx1302.run,
        console.run,
        system.run,
    )
    for result in (result for run in runs for result in run(args.quick)):
        print(result.line())


main()
