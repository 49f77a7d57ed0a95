"""Run the benchmarks: ``python -m bench`` (full) or ``python -m bench --quick`` (seconds)."""

from __future__ import annotations

import argparse
import platform

from bench import basic_station, ns, protocol, semtech_udp


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts, one repeat")
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}"
    )
    runs = (protocol.run, semtech_udp.run, basic_station.run, ns.run)
    for result in (result for run in runs for result in run(args.quick)):
        print(result.line())


main()
