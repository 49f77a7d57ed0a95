"""A real ``appliance run`` with ABP devices behind Semtech UDP gateways on loopback, for fault
tests: the benchmark's fleet, gateways and downlink checks (``bench.system``), plus a look
into the data directory while the appliance is down."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.app.events import EventKind, EventLog
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore
from bench.system.downlinks import DownlinkCheck
from bench.system.fleet import FleetSpec, Frame, Traffic, dev_eui, provision
from bench.system.gateways import Gateways, Sent
from bench.system.processes import Appliance, free_port, start_appliance, write_config


class Rig:
    def __init__(
        self,
        data_dir: Path,
        devices: int,
        *,
        gateways: int = 2,
        settings: dict[str, Any] | None = None,
        fresh: bool = True,
    ) -> None:
        """``fresh``: provision the devices into ``data_dir`` (else they are there already)."""
        self.data_dir = data_dir
        self.spec = FleetSpec(devices, gateways=gateways)
        if fresh:
            provision(data_dir, self.spec)
        write_config(data_dir, {"log_level": "info", **(settings or {})})
        self.traffic = Traffic(self.spec)
        self.downlinks = DownlinkCheck()
        # One port for the whole test: the gateways keep their sockets across restarts.
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.appliance: Appliance | None = None
        self.gateways = Gateways(("127.0.0.1", self.udp_port), gateways)
        self.sent: list[tuple[list[Frame], Sent]] = []
        self.traffic_log: list[Frame] = []  # every frame sent, in order

    def start(self, **options: Any) -> Appliance:
        self.appliance = start_appliance(self.data_dir, udp_port=self.udp_port, **options)
        gateways = self.gateways
        before = gateways.pull_acks
        gateways.pull()
        assert gateways.wait_until(lambda: gateways.pull_acks >= before + len(gateways.sockets), 10)
        return self.appliance

    def send(
        self, count: int, rate: float, *, confirmed_share: float = 1.0
    ) -> tuple[list[Frame], Sent]:
        frames = self.traffic.frames(
            count, spacing_us=round(1e6 / rate), confirmed_share=confirmed_share
        )
        sent = self.gateways.play(frames, rate)
        self.sent.append((frames, sent))
        self.traffic_log.extend(frames)
        return frames, sent

    def wait(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Answer the gateways' downlinks until ``done()``; whether it came true."""
        return self.gateways.wait_until(done, timeout_s)

    def uplinks(self) -> int:
        assert self.appliance is not None
        return int(self.appliance.metrics().get("appliance_uplinks_total", 0))

    def check_downlinks(self) -> DownlinkCheck:
        """Every PULL_RESP so far, checked as the devices would (MIC, fresh counter, ACK)."""
        frames = [frame for batch, _ in self.sent for frame in batch]
        stamps = [stamp for _, sent in self.sent for stamp in sent.sent_ns]
        self.downlinks.check(self.gateways.pull_resps, frames, stamps)
        self.gateways.pull_resps.clear()
        self.sent.clear()
        return self.downlinks

    def sessions(self) -> dict[int, DeviceSession]:
        """The durable sessions, read from the data directory (the appliance must be down)."""

        async def read() -> dict[int, DeviceSession]:
            store = SQLiteStore.open(self.data_dir)
            try:
                found = {}
                for index in range(self.spec.devices):
                    device = await store.device(dev_eui(index))
                    assert device is not None and device.session is not None
                    found[index] = device.session
                return found
            finally:
                await store.aclose()

        return asyncio.run(read())

    def written_up_events(self) -> int:
        """How many ``up`` events the event log has written to its file so far, read beside the
        running appliance (a reader of the WAL file does not hold up its writer)."""
        path = self.data_dir / "events.db"
        if not path.exists():
            return 0
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            (count,) = db.execute(
                "SELECT count(*) FROM events WHERE kind = ?", (EventKind.UP.value,)
            ).fetchone()
        return int(count)

    def logged_up_events(self) -> set[tuple[str, int]]:
        """(DevEUI, FCnt) of the ``up`` events in the event log (the appliance must be down)."""
        return set(self._logged_up_events())

    def logged_up_event_count(self) -> int:
        return len(self._logged_up_events())

    def _logged_up_events(self) -> list[tuple[str, int]]:
        log = EventLog.open(self.data_dir)
        found: list[tuple[str, int]] = []
        try:
            before = None
            while True:
                page = log.events(kinds={EventKind.UP}, before=before, limit=1000)
                found.extend((str(r.dev_eui), int(r.message.f_cnt)) for r in page.items)
                if page.next_cursor is None:
                    return found
                before = page.next_cursor
        finally:
            log.close()

    def close(self) -> None:
        self.gateways.close()
        if self.appliance is not None:
            self.appliance.stop()
