"""Running a simulated fleet against a network server over Semtech UDP (the asyncio side).

Each gateway is a ``Forwarder`` with its own UDP socket connected to the server, as a real
packet forwarder has. One loop on the monotonic clock lets due devices transmit into every
gateway's radio, polls the forwarders (datagrams up, transmissions to the devices listening),
and prints a summary line every ``report_every_s``; datagrams from the server are answered
as they arrive. Everything protocol-shaped lives in the sans-IO parts (``Fleet``,
``Forwarder``, ``EndDevice``); this module only moves bytes and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, cast

from appliance.lorawan.regions import Region
from appliance.simulation.fleet import Fleet
from appliance.simulation.forwarder import Forwarder
from appliance.simulation.udp_fleet import FleetPlan
from hal.virtual_radio import AirPacket

_MAX_SLEEP_S: Final = 0.25
_COUNTED: Final = ("joins", "uplinks", "downlinks", "acks")


@dataclass(slots=True)
class Totals:
    """What the run did so far, as the summary lines print it."""

    devices: int
    joined: int = 0
    fleet: Counter[str] = field(default_factory=Counter)
    gateways: Counter[str] = field(default_factory=Counter)
    unreachable: int = 0  # ICMP "port unreachable" answers to our datagrams

    @property
    def server_answered(self) -> bool:
        return bool(self.gateways["push_ack"] or self.gateways["pull_ack"])

    def line(self, elapsed_s: float, previous: Counter[str]) -> str:
        parts = [
            f"{name} {self.fleet[name]} (+{self.fleet[name] - previous[name]})" for name in _COUNTED
        ]
        text = f"[{elapsed_s:6.0f} s] joined {self.joined}/{self.devices}, " + ", ".join(parts)
        if not self.server_answered:
            text += ", no answer from the network server yet"
        return text

    def final(self, elapsed_s: float) -> str:
        refused = self.fleet["downlinks_refused"]
        tx_errors = sum(v for k, v in self.gateways.items() if k.startswith("tx_") and k != "tx_ok")
        return (
            f"done after {elapsed_s:.0f} s: joined {self.joined}/{self.devices}, "
            f"joins {self.fleet['joins']}, uplinks {self.fleet['uplinks']}, "
            f"downlinks {self.fleet['downlinks']}, acks {self.fleet['acks']}, "
            f"join-requests {self.fleet['join_requests']}, "
            f"downlinks refused by devices {refused}, gateway TX errors {tx_errors}"
        )


class _Gateway(asyncio.DatagramProtocol):
    def __init__(self, forwarder: Forwarder, runner: SimulationRunner) -> None:
        self.forwarder = forwarder
        self.runner = runner
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        for reply in self.forwarder.datagram_received(data, self.runner.clock()):
            self.send(reply)
        self.runner.wake.set()  # a downlink may now be queued in the radio

    def error_received(self, exc: Exception) -> None:
        self.runner.totals.unreachable += 1

    def send(self, datagram: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(datagram)


class SimulationRunner:
    def __init__(
        self,
        plan: FleetPlan,
        region: Region,
        *,
        server: tuple[str, int],
        report: Callable[[str], None],
        report_every_s: float,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.plan = plan
        self.server = server
        self.report = report
        self.report_every_ns = round(report_every_s * 1e9)
        self.clock = clock
        self.fleet = Fleet(region, plan.devices)
        now = clock()
        self.forwarders = [Forwarder(c, now_ns=now) for c in plan.concentrators]
        self.totals = Totals(len(plan.devices))
        self.wake = asyncio.Event()
        self._gateways: list[_Gateway] = []

    def _air(self, packet: AirPacket) -> None:
        for forwarder in self.forwarders:
            forwarder.concentrator.air(packet)

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        host, port = self.server
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for forwarder in self.forwarders:
            _, protocol = await loop.create_datagram_endpoint(
                functools.partial(_Gateway, forwarder, self),
                remote_addr=(host, port),
                family=family,
            )
            self._gateways.append(protocol)

    def _step(self, now: int) -> int:
        """Move everything to ``now``; returns when something is next due."""
        self.fleet.step(now, self._air)
        for gateway in self._gateways:
            output = gateway.forwarder.poll(now)
            for datagram in output.datagrams:
                gateway.send(datagram)
            for transmission in output.transmissions:
                self.fleet.hear(transmission)
        wakeups = [f.next_wakeup_ns(now) for f in self.forwarders]
        if (device_wakeup := self.fleet.next_wakeup_ns()) is not None:
            wakeups.append(device_wakeup)
        return min(wakeups)

    def _tally(self) -> None:
        totals = self.totals
        totals.joined = sum(1 for d in self.fleet.devices if d.device.activated)
        totals.fleet = Counter(self.fleet.counters)
        totals.gateways = Counter()
        for forwarder in self.forwarders:
            totals.gateways.update(forwarder.counters)

    async def run(self, *, duration_s: float | None, stop: asyncio.Event) -> Totals:
        await self._open()
        start = self.clock()
        end = None if duration_s is None else start + round(duration_s * 1e9)
        next_report = start + self.report_every_ns
        previous: Counter[str] = Counter()
        try:
            while not stop.is_set():
                now = self.clock()
                if end is not None and now >= end:
                    break
                due = self._step(now)
                if now >= next_report:
                    self._tally()
                    self.report(self.totals.line((now - start) / 1e9, previous))
                    previous = Counter(self.totals.fleet)
                    next_report += self.report_every_ns
                due = min(due, next_report, end if end is not None else due)
                self.wake.clear()
                delay = min(max(due - self.clock(), 0) / 1e9, _MAX_SLEEP_S)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), delay)
        finally:
            for gateway in self._gateways:
                if gateway.transport is not None:
                    gateway.transport.close()
        self._tally()
        self.report(self.totals.final((self.clock() - start) / 1e9))
        return self.totals
