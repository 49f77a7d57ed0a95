"""How the event log stores its rows: packed bodies, files written before they were packed,
and the checkpoints ``run()`` makes from a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from appliance.app.events import EventLog
from tests.app.events.samples import TIME
from tests.app.events.test_event_log import open_log, up, uplink_frame

# The file as the first version wrote it (schema 1, 4 KiB pages, bodies as they are).
_SCHEMA_1 = """
PRAGMA journal_mode=WAL;
CREATE TABLE events (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, kind TEXT NOT NULL,
    dev_eui BLOB NOT NULL, application_id BLOB NOT NULL, body BLOB NOT NULL);
CREATE TABLE frames (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, kind TEXT NOT NULL,
    gateway_id BLOB NOT NULL, dev_eui BLOB, dev_addr BLOB, application_id BLOB,
    tx_status INTEGER, body BLOB NOT NULL);
PRAGMA user_version=1;
"""


def _file(directory: Path) -> sqlite3.Connection:
    return sqlite3.connect(directory / "events.db")


def test_bodies_are_stored_packed_and_read_back(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    records = [up(f_cnt) for f_cnt in range(1, 21)]
    frames = [uplink_frame(f_cnt) for f_cnt in range(1, 21)]
    for record, frame in zip(records, frames, strict=True):
        log.append_event(record)
        log.append_frame(frame)
    log.flush(now=0.0, wall=TIME)
    with _file(tmp_path) as db:
        bodies = [bytes(body) for (body,) in db.execute("SELECT body FROM events ORDER BY id")]
        kinds = sorted(kind for (kind,) in db.execute("SELECT kind FROM dictionaries"))
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
    assert all(body[0] == 0 for body in bodies)  # packed
    assert sum(map(len, bodies)) < sum(len(r.to_bytes()) for r in records) / 3
    assert kinds == ["up", "uplink_frame"] and page_size == 1024
    assert [r.to_bytes() for r in reversed(log.events(limit=50).items)] == [
        r.to_bytes() for r in records
    ]
    assert [f.to_bytes() for f in reversed(log.frames(limit=50).items)] == [
        f.to_bytes() for f in frames
    ]
    log.close()
    # Another run reads them with the dictionaries in the file.
    again = EventLog.open(tmp_path)
    assert len(again.events(limit=50).items) == 20 and again.stats.unreadable == 0
    again.close()


def test_a_file_of_the_first_version_is_read_and_written_as_it_is(tmp_path: Path) -> None:
    old = up(1)
    with _file(tmp_path) as db:
        db.executescript(_SCHEMA_1)
        db.execute(
            "INSERT INTO events (time_ns, kind, dev_eui, application_id, body) "
            "VALUES (?, 'up', ?, ?, ?)",
            (old.time_ns, bytes(old.dev_eui), old.application_id.bytes, old.to_bytes()),
        )
    log = EventLog.open(tmp_path)
    new = up(2)
    log.append_event(new)
    log.flush(now=0.0, wall=TIME)
    assert [r.to_bytes() for r in log.events().items] == [new.to_bytes(), old.to_bytes()]
    log.close()
    with _file(tmp_path) as db:
        assert db.execute("PRAGMA page_size").fetchone() == (4096,)  # kept
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
        bodies = [bytes(body) for (body,) in db.execute("SELECT body FROM events ORDER BY id")]
    assert bodies[0] == old.to_bytes() and bodies[1][0] == 0


def test_a_checkpoint_copies_the_wal_into_the_file_and_the_wal_starts_over(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path, batch_size=100)
    log.checkpoint_wal_bytes = 64 * 1024
    wal = tmp_path / "events.db-wal"
    f_cnt = 0
    while not log.checkpoint_due():
        for _ in range(100):
            f_cnt += 1
            log.append_event(up(f_cnt))
        log.flush(now=float(f_cnt), wall=TIME)
    grown = wal.stat().st_size
    log.checkpoint()
    assert log.stats.checkpoints == 1
    log.append_event(up(f_cnt + 1))
    log.flush(now=float(f_cnt + 1), wall=TIME)
    assert wal.stat().st_size < grown / 4 and not log.checkpoint_due()
    assert log.counts() == (f_cnt + 1, 0)
    log.close()
    log.checkpoint()  # after close: nothing to do
    assert log.stats.checkpoints == 1


async def test_the_task_checkpoints_from_a_worker_thread_when_the_wal_is_due(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path, batch_size=50, flush_interval_s=3600.0)
    log.checkpoint_wal_bytes = 32 * 1024
    task = asyncio.create_task(log.run(wall=lambda: TIME))
    try:
        async with asyncio.timeout(30):
            f_cnt = 0
            while log.stats.checkpoints == 0:
                for _ in range(50):  # a full batch wakes the task
                    f_cnt += 1
                    log.append_event(up(f_cnt))
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert log.pending == 0 and log.counts() == (f_cnt, 0)
    log.close()
