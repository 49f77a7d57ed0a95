"""The event and frame log on a real SQLite file: batches, retention, queries, restarts and
files that cannot be used."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from appliance.app.events import (
    EventKind,
    EventLog,
    EventLogError,
    EventLogOptions,
    EventRecord,
    FrameKind,
    FrameRecord,
    ack_event,
    downlink_frame_log,
    status_event,
    uplink_event,
    uplink_frame_log,
)
from appliance.lorawan import security
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.mhdr import MType
from appliance.ns.mac.events import DeviceStatus
from hal.model import DownlinkFrame, DownlinkItem, DownlinkTxAck, TxAckStatus, UplinkFrame
from tests.app.events import samples
from tests.app.events.samples import (
    APP_ID,
    DEDUP_ID,
    DEV_ADDR,
    DEV_EUI,
    DOWNLINK_TX,
    GW1,
    GW2,
    KEYS,
    OTHER_APP_ID,
    OTHER_DEV_EUI,
    TIME,
    TX_EU868,
)


def up(
    f_cnt: int, *, at: datetime = TIME, dev_eui: EUI64 = DEV_EUI, payload: bytes = b"\xaa"
) -> EventRecord:
    app = APP_ID if dev_eui == DEV_EUI else OTHER_APP_ID
    message = uplink_event(
        samples.data_uplink(f_cnt, payload=payload),
        samples.device(dev_eui, app),
        time=at,
        deduplication_id=uuid.uuid4(),
        region_config_id="eu868",
    )
    return EventRecord(message)


def ack(at: datetime = TIME) -> EventRecord:
    message = ack_event(samples.ack(), samples.device(), time=at, deduplication_id=DEDUP_ID)
    return EventRecord(message)


def status(at: datetime = TIME) -> EventRecord:
    reading = DeviceStatus(battery=100, margin=5, external_power=False, battery_level_percent=39.4)
    message = status_event(reading, samples.device(), time=at, deduplication_id=DEDUP_ID)
    return EventRecord(message)


def uplink_frame(f_cnt: int, *, gateway: EUI64 = GW1, at: datetime = TIME) -> FrameRecord:
    phy = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP, DEV_ADDR, KEYS, f_cnt, f_port=1, payload=b"\x01"
    ).encode()
    frame = UplinkFrame(phy, TX_EU868, samples.receptions(gateway)[0])
    return uplink_frame_log(frame, time=at, dev_eui=DEV_EUI, application_id=APP_ID)


def downlink_frame(status: TxAckStatus, at: datetime = TIME) -> FrameRecord:
    phy = security.build_data_frame(
        MType.UNCONFIRMED_DATA_DOWN, DEV_ADDR, KEYS, 1, f_port=10, payload=b"\x05"
    ).encode()
    frame = DownlinkFrame(9, GW2, (DownlinkItem(phy, DOWNLINK_TX),))
    return downlink_frame_log(frame, DownlinkTxAck(GW2, 9, (status,)), time=at)


def open_log(directory: Path, **options: object) -> EventLog:
    return EventLog.open(directory, EventLogOptions(**options))  # type: ignore[arg-type]


def rows_on_disk(directory: Path, table: str) -> int:
    """What another process would see in the file now."""
    with sqlite3.connect(directory / "events.db") as db:
        (count,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


def test_entries_wait_in_memory_until_a_batch_is_full(tmp_path: Path) -> None:
    log = open_log(tmp_path, batch_size=3, frames_on_disk=True)
    log.append_event(up(1))
    log.append_frame(uplink_frame(1))
    assert not log.flush_due(0.0)
    assert rows_on_disk(tmp_path, "events") == 0
    log.append_event(ack())
    assert log.flush_due(0.0)
    assert log.flush(now=0.0, wall=TIME) == 3
    assert (rows_on_disk(tmp_path, "events"), rows_on_disk(tmp_path, "frames")) == (2, 1)
    assert (log.pending, log.stats.flushes, log.stats.events_written) == (0, 1, 2)
    assert log.stats.bytes_written > 0
    log.close()


def test_a_lone_entry_is_written_once_the_interval_has_passed(tmp_path: Path) -> None:
    log = open_log(tmp_path, batch_size=100, flush_interval_s=1.0)
    assert not log.flush_due(10.0)  # nothing queued: the clock starts
    log.append_event(up(1))
    assert not log.flush_due(10.5)
    assert log.flush_due(11.0)
    log.flush(now=11.0, wall=TIME)
    log.append_event(up(2))
    assert not log.flush_due(11.9)
    assert log.flush_due(12.0)
    log.close()


def test_a_large_backlog_is_written_one_batch_per_transaction(tmp_path: Path) -> None:
    log = open_log(tmp_path, batch_size=10)
    for f_cnt in range(25):
        log.append_event(up(f_cnt))
    assert log.flush(now=0.0, wall=TIME) == 25
    assert log.stats.flushes == 3
    log.close()


def test_retention_by_count_keeps_the_newest(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_events=5, max_frames=2, batch_size=50)
    for f_cnt in range(8):
        log.append_event(up(f_cnt))
        log.append_frame(uplink_frame(f_cnt))
    log.flush(now=0.0, wall=TIME)
    assert log.counts() == (5, 2)
    assert [r.message.f_cnt for r in log.events().items] == [7, 6, 5, 4, 3]
    assert len(log.frames().items) == 2
    log.close()


def test_retention_by_count_removes_runs_of_rows(tmp_path: Path) -> None:
    # Beyond the limit the oldest go down to 10 % below it at once, not one per insert.
    log = open_log(tmp_path, max_events=20, batch_size=1)
    for f_cnt in range(21):
        log.append_event(up(f_cnt))
        log.flush(now=float(f_cnt), wall=TIME)
    assert log.counts() == (18, 0)
    for f_cnt in range(21, 23):
        log.append_event(up(f_cnt))
        log.flush(now=float(f_cnt), wall=TIME)
    assert log.counts() == (20, 0)
    assert [r.message.f_cnt for r in log.events(limit=50).items][-1] == 3
    log.close()


def test_age_retention_runs_once_a_minute_when_flushing(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_event_age_hours=1.0)
    log.append_event(up(1, at=TIME))
    log.flush(now=0.0, wall=TIME)
    later = TIME + timedelta(hours=2)
    log.append_event(up(2, at=later))
    log.flush(now=30.0, wall=later)
    assert log.counts() == (2, 0)  # the first is too old, but the minute has not passed
    log.flush(now=60.0, wall=later)
    assert [r.message.f_cnt for r in log.events().items] == [2]
    log.close()


def test_retention_by_age(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_event_age_hours=1.0, max_frame_age_hours=0.5)
    for minutes in (150, 90, 45, 20, 0):
        at = TIME - timedelta(minutes=minutes)
        log.append_event(up(minutes, at=at))
        log.append_frame(uplink_frame(minutes, at=at))
    log.flush(now=0.0, wall=TIME)
    assert [r.message.f_cnt for r in log.events().items] == [0, 20, 45]
    assert len(log.frames().items) == 2
    # Time passes with nothing new: the next prune removes what has aged since.
    assert log.prune(TIME + timedelta(minutes=50)) == (2, 2)
    assert log.counts() == (1, 0)
    log.close()


def test_events_by_device_application_and_kind_newest_first(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    first = up(1)
    log.append_event(first)
    log.append_event(up(2, dev_eui=OTHER_DEV_EUI))
    log.append_event(ack())
    log.append_event(status())
    log.flush(now=0.0, wall=TIME)
    kinds = [r.kind for r in log.events().items]
    assert kinds == [EventKind.STATUS, EventKind.ACK, EventKind.UP, EventKind.UP]
    assert [r.kind for r in log.events(dev_eui=OTHER_DEV_EUI).items] == [EventKind.UP]
    assert len(log.events(application_id=APP_ID).items) == 3
    assert len(log.events(application_id=uuid.uuid4()).items) == 0
    both = log.events(dev_eui=DEV_EUI, kinds={EventKind.UP, EventKind.STATUS})
    assert [r.kind for r in both.items] == [EventKind.STATUS, EventKind.UP]
    assert log.events(kinds=()).items == []
    record = log.events(kinds={EventKind.UP}, dev_eui=DEV_EUI).items[0]
    assert record.id is not None
    assert (record.message, record.json()) == (first.message, first.json())
    log.close()


def test_pages_with_a_cursor(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    for f_cnt in range(7):
        log.append_event(up(f_cnt))
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = log.events(limit=3, before=cursor)
        seen.extend(r.message.f_cnt for r in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [6, 5, 4, 3, 2, 1, 0]
    assert pages == 3
    assert log.events(limit=7).next_cursor is None
    with pytest.raises(ValueError, match="limit"):
        log.events(limit=0)
    log.close()


def test_frames_by_gateway_and_device(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.append_frame(uplink_frame(1, gateway=GW1))
    log.append_frame(uplink_frame(2, gateway=GW2))
    log.append_frame(downlink_frame(TxAckStatus.TOO_LATE))
    assert [r.kind for r in log.frames(gateway_id=GW2).items] == [
        FrameKind.DOWNLINK,
        FrameKind.UPLINK,
    ]
    assert len(log.frames(dev_eui=DEV_EUI).items) == 2  # the downlink's device was not given
    assert len(log.frames(dev_addr=DEV_ADDR).items) == 3
    assert len(log.frames(application_id=APP_ID).items) == 2
    (downlink,) = log.frames(kinds={FrameKind.DOWNLINK}).items
    assert (downlink.tx_status, downlink.gateway_id) == (TxAckStatus.TOO_LATE, GW2)
    assert downlink.message.downlink_id == 9
    uplink = log.frames(gateway_id=GW1).items[0]
    assert (uplink.application_id, uplink.dev_eui, uplink.tx_status) == (APP_ID, DEV_EUI, None)
    log.close()


def test_queries_see_what_is_still_queued(tmp_path: Path) -> None:
    log = open_log(tmp_path, batch_size=100)
    log.append_event(up(1))
    assert len(log.events().items) == 1
    assert log.pending == 0
    log.close()


def test_a_restart_keeps_the_log_and_ids_go_on_increasing(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_events=2)
    for f_cnt in range(3):
        log.append_event(up(f_cnt))
    log.append_event(up(3))  # queued only: close() writes it
    log.close()
    log = open_log(tmp_path, max_events=2)
    items = log.events().items
    assert [r.message.f_cnt for r in items] == [3, 2, 1, 0]  # retention runs at the next flush
    last_id = items[0].id
    assert last_id is not None
    log.flush(now=0.0, wall=TIME)
    assert log.counts() == (2, 0)
    log.append_event(up(4))
    log.flush(now=1.0, wall=TIME)
    newest = log.events().items[0]
    assert newest.id is not None and newest.id > last_id
    log.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "events.db").write_bytes(b"this is not SQLite, just some text" * 100)
    with pytest.raises(
        EventLogError, match=r"cannot use event log .*events.db: file is not a database"
    ):
        EventLog.open(tmp_path)


def test_a_directory_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match=r"event log .*missing/events.db: unable to open"):
        EventLog.open(tmp_path / "missing")


def test_a_log_written_by_a_newer_version(tmp_path: Path) -> None:
    open_log(tmp_path).close()
    with sqlite3.connect(tmp_path / "events.db") as db:
        db.execute("PRAGMA user_version=9")
    with pytest.raises(EventLogError, match="schema version 9; this version reads 1"):
        EventLog.open(tmp_path)


def test_a_full_disk_keeps_entries_queued_and_says_so(tmp_path: Path) -> None:
    log = open_log(tmp_path, batch_size=10, max_pending=40)
    log.append_event(up(0))
    log.flush(now=0.0, wall=TIME)
    (pages,) = log._db.execute("PRAGMA page_count").fetchone()
    log._db.execute(f"PRAGMA max_page_count={pages}")  # SQLite's real "disk full" error
    # Payloads that do not deflate: a batch of them needs more than the pages there are.
    for f_cnt in range(1, 31):
        log.append_event(up(f_cnt, payload=os.urandom(200)))
    with pytest.raises(EventLogError, match=r"cannot write event log .*: database or disk is full"):
        log.flush(now=1.0, wall=TIME)
    assert (log.pending, log.stats.write_errors) == (30, 1)
    for f_cnt in range(31, 51):
        log.append_event(up(f_cnt, payload=os.urandom(200)))
    assert (log.pending, log.stats.dropped) == (40, 10)  # bounded: the oldest gave way
    log._db.execute("PRAGMA max_page_count=1073741823")
    assert log.flush(now=2.0, wall=TIME) == 40
    assert [r.message.f_cnt for r in log.events(limit=100).items][-2:] == [11, 0]
    log.close()


def test_a_damaged_row_is_skipped_and_counted(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.append_event(up(1))
    log.flush(now=0.0, wall=TIME)
    with sqlite3.connect(tmp_path / "events.db") as db:
        db.execute(
            "INSERT INTO events (time_ns, kind, dev_eui, application_id, body) "
            "VALUES (0, 'up', ?, ?, ?)",
            (bytes(DEV_EUI), APP_ID.bytes, b"\xff\xff\xff"),
        )
    assert [r.message.f_cnt for r in log.events().items] == [1]
    assert log.stats.unreadable == 1
    log.close()


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_events: must be a whole number of at least 1"):
        EventLogOptions(max_events=0)
    with pytest.raises(ValueError, match="flush_interval_s: must be a number above 0"):
        EventLogOptions(flush_interval_s=0)
    with pytest.raises(ValueError, match="max_pending: must be at least batch_size"):
        EventLogOptions(batch_size=100, max_pending=10)
    with pytest.raises(ValueError, match="frames_on_disk: must be true or false"):
        EventLogOptions.from_mapping({"frames_on_disk": "yes"})
    with pytest.raises(ValueError, match="max_event: unknown option"):
        EventLogOptions.from_mapping({"max_event": 5})
    options = EventLogOptions.from_mapping({"max_events": 500, "max_frame_age_hours": 2})
    assert (options.max_events, options.max_frame_age) == (500, timedelta(hours=2))


async def test_the_task_writes_full_batches_at_once_and_the_rest_when_stopped(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path, batch_size=2, flush_interval_s=3600.0)
    task = asyncio.create_task(log.run(wall=lambda: TIME))
    await asyncio.sleep(0)
    log.append_event(up(1))
    log.append_event(up(2))  # a full batch wakes the task
    async with asyncio.timeout(10):
        while log.stats.events_written < 2:
            await asyncio.sleep(0.001)
    log.append_event(up(3))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rows_on_disk(tmp_path, "events") == 3
    log.close()
