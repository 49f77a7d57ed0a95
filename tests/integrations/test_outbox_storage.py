"""How the outbox stores events and when it commits: packed rows with their event sizes, files
of the first schema (events waiting in them go out), damaged packed rows, and the spacing of
commits under load."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from appliance.integrations import OutboxLimits
from appliance.integrations.outbox import FULL_COMMIT, Outbox
from appliance.integrations.queue import TargetQueue
from tests.integrations.helpers import APP, DEVICES, Reports, f_cnt_of, manager, up, wait_until
from tests.integrations.http_server import LocalHTTPServer, Reply
from tests.integrations.test_outbox import NAME, PATIENT, _repository, _target

# The file as the first version wrote it (4 KiB pages, bodies as they are, no sizes).
_SCHEMA_1 = """
PRAGMA journal_mode=WAL;
CREATE TABLE targets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE items (target INTEGER NOT NULL, seq INTEGER NOT NULL, stored_ns INTEGER NOT NULL,
    kind TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (target, seq)) WITHOUT ROWID;
PRAGMA user_version=1;
"""


def _file(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "outbox.db")


async def test_rows_are_packed_and_bounds_count_the_events_own_bytes(tmp_path: Path) -> None:
    records = [up(f, DEVICES[f % 3]) for f in range(1, 31)]
    async with LocalHTTPServer(lambda request: Reply(503)) as down:
        integrations = manager(tmp_path, repository=_repository(down.url, **PATIENT))
        await integrations.start()
        try:
            await integrations.record(records)
            await wait_until(lambda: _target(integrations)["errors"], "the first failure")
            backlog_bytes = _target(integrations)["backlog_bytes"]
        finally:
            await integrations.stop()
    assert backlog_bytes == sum(len(r.to_bytes()) for r in records)
    with _file(tmp_path) as db:
        rows = db.execute("SELECT body, size FROM items ORDER BY seq").fetchall()
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        assert db.execute("PRAGMA page_size").fetchone() == (1024,)
    assert [size for _, size in rows] == [len(r.to_bytes()) for r in records]
    assert all(body[0] == 0 for body, _ in rows)
    assert sum(len(body) for body, _ in rows) < backlog_bytes / 3
    async with LocalHTTPServer() as server:  # read back from the file after a restart
        integrations = manager(tmp_path, repository=_repository(server.url))
        await integrations.start()
        try:
            assert _target(integrations)["backlog_bytes"] == backlog_bytes
            await wait_until(lambda: len(server.requests) == 30, "every event")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body)[1] for r in server.requests] == list(range(1, 31))


async def test_events_waiting_in_a_file_of_the_first_schema_go_out(tmp_path: Path) -> None:
    records = [up(f, DEVICES[f % 3]) for f in range(1, 21)]
    with _file(tmp_path) as db:
        db.executescript(_SCHEMA_1)
        db.execute("INSERT INTO targets (id, name) VALUES (1, ?)", (NAME,))
        db.executemany(
            "INSERT INTO items VALUES (1, ?, ?, 'up', ?)",
            [(seq, time.time_ns(), r.to_bytes()) for seq, r in enumerate(records, start=1)],
        )
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url))
        await integrations.start()
        try:
            target = _target(integrations)
            assert (target["backlog"], target["backlog_bytes"]) == (
                20,
                sum(len(r.to_bytes()) for r in records),
            )
            await wait_until(lambda: len(server.requests) == 20, "the waiting events")
            await integrations.record([up(21)])  # and a new one, packed
            await wait_until(lambda: len(server.requests) == 21, "the new event")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body)[1] for r in server.requests] == list(range(1, 22))
    with _file(tmp_path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        assert db.execute("PRAGMA page_size").fetchone() == (4096,)  # kept
        assert db.execute("SELECT count(*) FROM dictionaries").fetchone() == (1,)


async def test_a_packed_row_that_cannot_be_unpacked_is_reported_and_skipped(
    tmp_path: Path,
) -> None:
    async with LocalHTTPServer(lambda request: Reply(503)) as down:
        integrations = manager(tmp_path, repository=_repository(down.url, **PATIENT))
        await integrations.start()
        await integrations.record([up(1), up(2), up(3)])
        await integrations.stop()
    with _file(tmp_path) as db:  # the second row names a dictionary the file does not have
        (body,) = db.execute("SELECT body FROM items WHERE seq = 2").fetchone()
        db.execute("UPDATE items SET body = ? WHERE seq = 2", (b"\x00\x63" + body[2:],))
    reports = Reports()
    async with LocalHTTPServer() as server:
        integrations = manager(tmp_path, repository=_repository(server.url), reports=reports)
        await integrations.start()
        try:
            await wait_until(lambda: len(server.requests) == 2, "the readable events")
            await wait_until(lambda: _target(integrations)["backlog"] == 0, "an empty queue")
        finally:
            await integrations.stop()
    assert [f_cnt_of(r.body)[1] for r in server.requests] == [1, 3]
    ((app, _, line),) = reports.lines
    assert app == APP and "up event dropped: the stored event cannot be read" in line


async def _outbox(path: Path, interval: float) -> tuple[Outbox, TargetQueue]:
    outbox = Outbox(
        path,
        OutboxLimits(),
        clock=time.time_ns,
        on_drop=lambda *_: None,
        commit_interval_s=interval,
    )
    await outbox.open()
    return outbox, await outbox.queue("target")


async def test_under_load_commits_are_an_interval_apart_and_an_idle_outbox_commits_at_once(
    tmp_path: Path,
) -> None:
    outbox, queue = await _outbox(tmp_path / "outbox.db", 0.5)
    loop = asyncio.get_running_loop()
    try:
        start = loop.time()
        await outbox.append([(up(1), [queue])])  # nothing before it: written at once
        assert loop.time() - start < 0.5 and outbox.commits == 1
        # Appends within the interval after that commit wait for its end, in one commit.
        await asyncio.gather(*(outbox.append([(up(f), [queue])]) for f in range(2, 12)))
        assert loop.time() - start >= 0.5 and outbox.commits == 2
        assert queue.count == 11
    finally:
        await outbox.close()


async def test_a_full_commit_and_closing_do_not_wait_for_the_interval(tmp_path: Path) -> None:
    outbox, queue = await _outbox(tmp_path / "outbox.db", 3600.0)
    try:
        async with asyncio.timeout(30):
            await outbox.append([(up(1), [queue])])
            await outbox.append([(up(f), [queue]) for f in range(2, 2 + FULL_COMMIT)])
            assert outbox.commits == 2
            waiting = asyncio.create_task(outbox.append([(up(999), [queue])]))
            await asyncio.sleep(0.05)
            assert not waiting.done()  # held for the interval
            await outbox.close()  # writes it now
            await waiting
    finally:
        await outbox.close()
    assert outbox.commits == 3 and outbox.rows_written == FULL_COMMIT + 2
