"""The durable outbox: events survive a restart and a crash, bounds drop the oldest (counted
and reported), group commits, delivered rows leave the file, damaged files and rows."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from appliance.integrations import IntegrationManager, OutboxError, OutboxLimits
from tests.integrations.helpers import (
    APP,
    DEVICES,
    FakeRepository,
    Gate,
    Reports,
    f_cnt_of,
    manager,
    up,
    wait_until,
)
from tests.integrations.http_server import LocalHTTPServer, Reply

ROOT = Path(__file__).resolve().parents[2]
NAME = f"app/{APP}/http/0"
PATIENT = {"retry_min_s": 3600, "retry_max_s": 3600}  # after a failure, wait (until stopped)


def _target(running: IntegrationManager) -> dict[str, Any]:
    return next(t for t in running.status()["targets"] if t["name"] == NAME)


def _repository(url: str, **options: Any) -> FakeRepository:
    repository = FakeRepository()
    repository.put(APP, "http", {"urls": [url], "retry_min_s": 0.01, **options})
    return repository


def _rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "outbox.db") as db:
        return int(db.execute("SELECT count(*) FROM items").fetchone()[0])


async def test_events_survive_a_restart_and_go_out_in_order(tmp_path: Path) -> None:
    async with LocalHTTPServer(lambda request: Reply(503)) as down:
        integrations = manager(tmp_path, repository=_repository(down.url, **PATIENT))
        await integrations.start()
        try:
            for f_cnt in range(1, 41):
                await integrations.record([up(f_cnt, d) for d in DEVICES])
            await wait_until(lambda: _target(integrations)["errors"], "the first failure")
        finally:
            await integrations.stop()
    assert _target(integrations)["backlog"] == 120 and _rows(tmp_path) == 120
    async with LocalHTTPServer() as up_again:
        integrations = manager(tmp_path, repository=_repository(up_again.url))
        await integrations.start()
        try:
            assert _target(integrations)["backlog"] == 120  # found on disk
            await wait_until(lambda: len(up_again.requests) == 120, "every event")
            await wait_until(lambda: _target(integrations)["backlog"] == 0, "an empty queue")
            await wait_until(lambda: _rows(tmp_path) == 0, "the rows deleted")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body) for r in up_again.requests] == [
        (str(d), f) for f in range(1, 41) for d in DEVICES
    ]


_CRASHING_APPLIANCE = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from tests.integrations.helpers import DEVICES, manager, up, FakeRepository, APP

    async def main():
        repository = FakeRepository()
        settings = {"urls": [sys.argv[2]], "retry_min_s": 3600, "retry_max_s": 3600}
        repository.put(APP, "http", settings)
        integrations = manager(Path(sys.argv[1]), repository=repository)
        await integrations.start()
        for f_cnt in range(1, 51):
            await integrations.record([up(f_cnt, DEVICES[f_cnt % 3])])
        print("recorded", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_recorded_events_survive_a_crash(tmp_path: Path) -> None:
    async with LocalHTTPServer(lambda request: Reply(500)) as down:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CRASHING_APPLIANCE,
            str(tmp_path),
            down.url,
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line == b"recorded\n"
        finally:
            process.send_signal(signal.SIGKILL)  # no clean shutdown, no checkpoint
            await process.wait()
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url))
        await integrations.start()
        try:
            await wait_until(lambda: len(server.requests) == 50, "every recorded event")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body)[1] for r in server.requests] == list(range(1, 51))


async def test_the_count_bound_drops_the_oldest_waiting_events(tmp_path: Path) -> None:
    reports = Reports()
    limits = OutboxLimits(max_events=100, delete_interval_s=0.05)
    async with LocalHTTPServer(lambda request: Reply(503)) as down:
        repository = _repository(down.url, **PATIENT)
        integrations = manager(tmp_path, repository=repository, reports=reports, limits=limits)
        await integrations.start()
        try:
            await integrations.record([up(f) for f in range(1, 11)])
            await wait_until(lambda: _target(integrations)["errors"], "the first failure")
            await integrations.record([up(f) for f in range(11, 151)])
            await wait_until(lambda: _target(integrations)["dropped"], "the trim")
            target = _target(integrations)
            metrics = "\n".join(integrations.metrics())
        finally:
            await integrations.stop()
    # Down to 90 % of the bound, the oldest first.
    assert target["dropped"] == {"max_events": 60} and target["backlog"] == 90
    ((app, dev_eui, line),) = reports.matching("max_events")
    assert (app, dev_eui) == (APP, None)
    assert line == (
        f"integration {NAME}: outbox max_events=100 reached: 60 oldest undelivered events dropped"
    )
    assert (
        f'appliance_integration_dropped_total{{target="{NAME}",kind="http",reason="max_events"}}'
        " 60" in metrics
    )
    assert f'appliance_integration_backlog{{target="{NAME}",kind="http"}} 90' in metrics
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url), limits=limits)
        await integrations.start()
        try:
            await wait_until(lambda: len(server.requests) == 90, "the rest")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body)[1] for r in server.requests] == list(range(61, 151))


async def test_the_bytes_and_age_bounds(tmp_path: Path) -> None:
    reports = Reports()
    now = [1_800_000_000 * 10**9]
    limits = OutboxLimits(max_bytes=64 * 1024, max_age_hours=1, delete_interval_s=0.05)
    async with LocalHTTPServer(lambda request: Reply(503)) as down:
        integrations = manager(
            tmp_path,
            repository=_repository(down.url, **PATIENT),
            reports=reports,
            limits=limits,
            clock=lambda: now[0],
        )
        await integrations.start()
        try:
            await integrations.record([up(f, decoded={"text": "x" * 200}) for f in range(1, 301)])
            await wait_until(lambda: "max_bytes" in _target(integrations)["dropped"], "trim")
            target = _target(integrations)
            assert target["backlog_bytes"] <= 64 * 1024 * 0.9 + 1
            kept = target["backlog"]
            # Once the first delivery failed, nothing is in flight: every event can age.
            await wait_until(lambda: _target(integrations)["errors"], "the first failure")
            await wait_until(lambda: _target(integrations)["in_flight"] == 0, "nothing in flight")
            now[0] += 2 * 3600 * 10**9
            await integrations.record([up(f) for f in range(301, 306)])
            integrations.outbox.check_ages()
            await wait_until(lambda: "max_age" in _target(integrations)["dropped"], "age trim")
            target = _target(integrations)
        finally:
            await integrations.stop()
    assert target["dropped"]["max_age"] == kept and target["backlog"] == 5
    assert reports.matching("max_bytes=65536 reached")
    assert reports.matching("older than max_age_hours=1")


async def test_group_commits_serve_many_events_with_one_transaction(tmp_path: Path) -> None:
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url))
        await integrations.start()
        try:
            await asyncio.gather(*(integrations.record([up(f)]) for f in range(1, 201)))
            commits = integrations.status()["outbox"]["commits"]
            await wait_until(lambda: len(server.requests) == 200, "every event")
        finally:
            await integrations.stop()
    assert commits <= 10  # 200 concurrent events, a handful of fsyncs


async def test_events_beyond_memory_are_read_back_from_the_file_in_order(
    tmp_path: Path,
) -> None:
    limits = OutboxLimits(memory_events=16, delete_interval_s=0.05)
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url), limits=limits)
        await integrations.start()
        try:
            for start in range(1, 301, 50):
                await integrations.record([up(f, DEVICES[f % 3]) for f in range(start, start + 50)])
            await wait_until(lambda: len(server.requests) == 300, "every event")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body)[1] for r in server.requests] == list(range(1, 301))


@pytest.mark.parametrize("damage", ["x'ffffffff'", "'an event, as text'", "42"])
async def test_an_unreadable_row_is_reported_and_skipped(tmp_path: Path, damage: str) -> None:
    async with LocalHTTPServer(lambda request: Reply(503)) as down:
        integrations = manager(tmp_path, repository=_repository(down.url, **PATIENT))
        await integrations.start()
        await integrations.record([up(1), up(2)])
        await integrations.stop()
    with sqlite3.connect(tmp_path / "outbox.db") as db:  # damage the first row's bytes
        db.execute(f"UPDATE items SET body = {damage} WHERE seq = (SELECT min(seq) FROM items)")
    reports = Reports()
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url), reports=reports)
        await integrations.start()
        try:
            await wait_until(lambda: len(server.requests) == 1, "the readable event")
            await wait_until(lambda: _target(integrations)["backlog"] == 0, "an empty queue")
        finally:
            await integrations.stop()
    assert f_cnt_of(server.requests[0].body)[1] == 2
    ((_, dev_eui, line),) = reports.lines
    assert dev_eui is None and "up event dropped: the stored event cannot be read" in line


async def test_a_removed_integration_takes_its_waiting_events_along(tmp_path: Path) -> None:
    reports = Reports()
    async with LocalHTTPServer(lambda request: Reply(503)) as down:
        repository = _repository(down.url, **PATIENT)
        integrations = manager(tmp_path, repository=repository, reports=reports)
        await integrations.start()
        try:
            await integrations.record([up(1), up(2), up(3)])
            repository.delete(APP, "http")
            await integrations.reload(APP)
            assert integrations.status()["targets"] == []
            await integrations.record([up(4)])  # no integration: nothing to record
        finally:
            await integrations.stop()
    assert _rows(tmp_path) == 0
    ((app, _, line),) = reports.lines
    assert app == APP and line == f"integration {NAME} removed: 3 undelivered events dropped"
    assert 'reason="removed"} 3' in "\n".join(integrations.metrics())


def test_damaged_or_newer_files_stop_the_start_with_one_line(tmp_path: Path) -> None:
    async def start(directory: Path) -> None:
        integrations = manager(directory)
        await integrations.start()
        await integrations.stop()

    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "outbox.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match=r"outbox\.db: cannot use the outbox file: file is not"):
        asyncio.run(start(garbage))
    newer = tmp_path / "newer"
    newer.mkdir()
    with sqlite3.connect(newer / "outbox.db") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(OutboxError, match="written by a newer version"):
        asyncio.run(start(newer))


async def test_a_full_disk_keeps_events_in_memory_and_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url), wait=Gate())
        await integrations.start()
        try:
            store = integrations.outbox.store
            # SQLite's own "disk full": the file may not grow by a single page.
            pages = store._db.execute("PRAGMA page_count").fetchone()[0]
            store._db.execute(f"PRAGMA max_page_count = {pages}")
            await integrations.record([up(f, decoded={"pad": "x" * 3000}) for f in range(1, 4)])
            assert integrations.status()["outbox"]["write_errors"] >= 1
            assert not server.requests  # nothing is sent before it is on disk
            store._db.execute("PRAGMA max_page_count = 1073741823")
            await wait_until(lambda: len(server.requests) == 3, "the events, once written")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body)[1] for r in server.requests] == [1, 2, 3]
    assert "database or disk is full; 3 events wait in memory" in caplog.text
