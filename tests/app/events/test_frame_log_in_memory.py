"""The frame log in memory (the default): nothing of it reaches the file while the appliance
runs; a clean stop saves it to the file and the next start loads it; a process that dies
keeps only what the last clean stop saved. ``frames_on_disk`` writes it as it goes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from appliance.app.events import EventLog, EventLogOptions
from tests.app.events.test_event_log import TIME, up, uplink_frame


def _frames_in_file(directory: Path) -> int:
    """What another process would see in the file now."""
    with sqlite3.connect(directory / "events.db") as db:
        (count,) = db.execute("SELECT count(*) FROM frames").fetchone()
    return int(count)


def _f_cnts(log: EventLog) -> list[int]:
    """The FCnt of each stored frame, newest first (MHDR, DevAddr and FCtrl come before it)."""
    return [
        int.from_bytes(record.message.phy_payload[6:8], "little")
        for record in log.frames(limit=50).items
    ]


def test_frames_stay_in_memory_until_a_clean_stop_and_come_back(tmp_path: Path) -> None:
    log = EventLog.open(tmp_path)
    for f_cnt in range(3):
        log.append_event(up(f_cnt))
        log.append_frame(uplink_frame(f_cnt))
    log.flush(now=0.0, wall=TIME)
    assert log.counts() == (3, 3)
    assert _frames_in_file(tmp_path) == 0  # the events are there, the frames are not
    assert _f_cnts(log) == [2, 1, 0]
    last_id = log.frames().items[0].id
    log.close()
    assert _frames_in_file(tmp_path) == 3

    log = EventLog.open(tmp_path)
    assert _f_cnts(log) == [2, 1, 0]
    log.append_frame(uplink_frame(3))
    assert _f_cnts(log) == [3, 2, 1, 0]
    newest = log.frames().items[0]
    assert newest.id is not None and last_id is not None and newest.id > last_id  # cursors hold
    log.close()
    assert _frames_in_file(tmp_path) == 4


def test_retention_applies_to_the_frames_in_memory(tmp_path: Path) -> None:
    log = EventLog.open(tmp_path, EventLogOptions(max_frames=2, batch_size=50))
    for f_cnt in range(5):
        log.append_frame(uplink_frame(f_cnt))
    log.flush(now=0.0, wall=TIME)
    assert _f_cnts(log) == [4, 3]
    log.close()
    assert _frames_in_file(tmp_path) == 2


def test_a_process_that_dies_keeps_the_last_clean_stops_frames(tmp_path: Path) -> None:
    log = EventLog.open(tmp_path)
    log.append_frame(uplink_frame(1))
    log.close()
    # Another run appends and flushes, then ends without stopping cleanly (os._exit).
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from appliance.app.events import EventLog
        from tests.app.events.test_event_log import TIME, up, uplink_frame
        log = EventLog.open(Path({str(tmp_path)!r}))
        log.append_event(up(2))
        log.append_frame(uplink_frame(2))
        log.flush(now=0.0, wall=TIME)
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    log = EventLog.open(tmp_path)
    assert [r.message.f_cnt for r in log.events().items] == [2]  # the events were written
    assert _f_cnts(log) == [1]  # the frames of the run that died are gone
    log.close()


def test_frames_on_disk_are_written_as_they_go(tmp_path: Path) -> None:
    log = EventLog.open(tmp_path, EventLogOptions(frames_on_disk=True))
    log.append_frame(uplink_frame(1))
    log.flush(now=0.0, wall=TIME)
    assert _frames_in_file(tmp_path) == 1
    assert _f_cnts(log) == [1]
    log.close()


def test_an_entry_that_cannot_be_serialised_is_dropped_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows are built when an entry is appended (a flush used to build 200 at once on the
    event loop); one that cannot be built costs that entry, never the caller."""
    log = EventLog.open(tmp_path)
    broken = up(1)
    broken.message = object()  # no protobuf message: it cannot be serialised
    log.append_event(broken)
    log.append_event(up(2))
    log.flush(now=0.0, wall=TIME)
    assert log.stats.dropped == 1
    assert "up entry not kept" in caplog.text
    log.close()
