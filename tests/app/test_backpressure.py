"""Backpressure from the application side: a backlog of MAX_BACKLOG events stops new uplinks
at the network server's entry until half of it is handled, each change said once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.app.repository import Repository
from appliance.app.service import MAX_BACKLOG, ApplicationServer
from appliance.app.status import StatusTracker
from appliance.lorawan.identifiers import EUI64
from appliance.ns.events import LogEvent
from appliance.ns.sqlite_store import SQLiteStore
from appliance.runtime_extensions import ApplicationExtension

RESUME_BACKLOG = MAX_BACKLOG // 2
START = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def _event(number: int) -> LogEvent:
    return LogEvent(EUI64(1), "info", "test", f"event {number}")


async def test_a_full_backlog_refuses_uplinks_until_half_is_handled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore.open(tmp_path)
    try:
        repository = Repository(store.connection)
        server = ApplicationServer(repository, StatusTracker(repository), now=lambda: START)
        seen: list[tuple[int, bool]] = []  # (backlog, accepts) as each batch is handed over
        handed: list[str] = []

        async def consumer(batch: list[tuple[object, datetime]]) -> None:
            handed.extend(event.message for event, _ in batch if isinstance(event, LogEvent))
            seen.append((server.backlog, server.accepts_uplinks()))

        server.consumers.append(consumer)
        for number in range(MAX_BACKLOG - 1):
            server.handle(_event(number))
        assert server.accepts_uplinks()
        server.handle(_event(MAX_BACKLOG - 1))
        with caplog.at_level(logging.WARNING, "appliance.app"):
            assert not server.accepts_uplinks()
            assert not server.accepts_uplinks()  # said once
            assert server.overloads == 1
            await server.drain()
        # Refused while more than RESUME_BACKLOG wait, accepted from there on.
        assert all(accepts == (backlog <= RESUME_BACKLOG) for backlog, accepts in seen)
        assert [accepts for _, accepts in seen].count(True) >= 2
        assert handed == [f"event {n}" for n in range(MAX_BACKLOG)]  # none lost, in order
        messages = [r.getMessage() for r in caplog.records]
        assert messages[0] == (
            f"application side is {MAX_BACKLOG} events behind: new uplinks are refused "
            "(counted as 'overloaded') until it catches up"
        )
        assert messages[1].startswith("application side caught up")
        assert len(messages) == 2

        extension = ApplicationExtension(server)
        assert extension.status()["overloads"] == 1
        assert extension.status()["backlog"] == 0
        metrics = "\n".join(extension.metrics())
        assert "appliance_application_backlog 0" in metrics
        assert "appliance_application_overloads_total 1" in metrics
        assert f"appliance_application_events_total {MAX_BACKLOG}" in metrics
    finally:
        store.close()


async def test_the_backlog_limit_is_a_setting(tmp_path: Path) -> None:
    store = SQLiteStore.open(tmp_path)
    try:
        repository = Repository(store.connection)
        server = ApplicationServer(
            repository, StatusTracker(repository), now=lambda: START, max_backlog=64
        )
        for number in range(63):
            server.handle(_event(number))
        assert server.accepts_uplinks()
        server.handle(_event(63))
        assert not server.accepts_uplinks()
        assert ApplicationExtension(server).status()["max_backlog"] == 64
        while server.backlog > 33:
            server._queue.popleft()  # as the worker takes them
            assert not server.accepts_uplinks()
        server._queue.popleft()
        assert server.accepts_uplinks()  # at half: taken again
    finally:
        store.close()


async def test_the_worker_counts_as_running_only_while_it_runs(tmp_path: Path) -> None:
    """The systemd watchdog asks this too: with the worker gone, the backlog fills and the
    network server would refuse every uplink."""
    store = SQLiteStore.open(tmp_path)
    try:
        repository = Repository(store.connection)
        server = ApplicationServer(repository, StatusTracker(repository), now=lambda: START)
        assert not server.running()
        await server.start()
        assert server.running()
        await server.stop()
        assert not server.running()
    finally:
        store.close()
