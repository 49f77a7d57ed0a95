"""The SQLite spool and the outbox in front of it: order, limits, restarts, gentle writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.bridge import DELAYED_KEY, DELAYED_MS_KEY, StoreLimits
from appliance.bridge.counters import BridgeCounters, Reporter
from appliance.bridge.outbox import FLUSH_BATCH, Outbox
from appliance.bridge.spool import Spool, SpooledFrame
from hal.proto import serialize_uplink
from tests.bridge.helpers import T0, FakeClock, f_cnt_of, uplink


def rows(*seqs: int, size: int = 10, stored_ns: int = T0) -> list[SpooledFrame]:
    return [SpooledFrame(seq, stored_ns + seq, bytes([seq % 256]) * size) for seq in seqs]


def test_rows_come_back_in_sequence_order_whatever_the_write_order(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path / "upstream.db")
    spool.append(rows(5, 6, 7))
    spool.append(rows(1, 2))  # e.g. frames that were in flight when the link failed
    spool.append(rows(6))  # already there: kept once
    assert [row.seq for row in spool.read(0, 100)] == [1, 2, 5, 6, 7]
    assert [row.seq for row in spool.read(2, 2)] == [5, 6]
    assert (spool.count, spool.size_bytes, spool.max_seq()) == (5, 50, 7)
    spool.delete([2, 6, 99])
    assert [row.seq for row in spool.read(0, 100)] == [1, 5, 7]
    assert (spool.count, spool.size_bytes) == (3, 30)
    spool.close()


def test_limits_drop_the_oldest(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path / "upstream.db")
    spool.append(rows(*range(1, 11), size=100))
    trimmed = spool.trim(max_frames=8, max_bytes=10_000, older_than_ns=0)
    assert (trimmed.over_count, trimmed.over_bytes, trimmed.expired) == (2, 0, 0)
    trimmed = spool.trim(max_frames=100, max_bytes=550, older_than_ns=0)
    assert (trimmed.over_count, trimmed.over_bytes) == (0, 3)
    assert [row.seq for row in spool.read(0, 100)] == [6, 7, 8, 9, 10]
    trimmed = spool.trim(max_frames=100, max_bytes=10_000, older_than_ns=T0 + 8)
    assert trimmed.expired == 2
    assert [row.seq for row in spool.read(0, 100)] == [8, 9, 10]
    assert (spool.count, spool.size_bytes) == (3, 300)
    spool.close()


def test_a_reopened_spool_has_its_rows_and_totals(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path / "upstream.db")
    spool.append(rows(1, 2, 3, size=7))
    spool.close()
    again = Spool.open(tmp_path / "upstream.db")
    assert (again.count, again.size_bytes, again.max_seq()) == (3, 21, 3)
    again.close()


def test_an_unreadable_spool_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "upstream.db"
    path.write_bytes(b"this is not a database" * 100)
    spool = Spool.open(path)
    assert spool.count == 0
    spool.append(rows(1))
    spool.close()
    assert len(list(tmp_path.glob("upstream.db.corrupt-*"))) == 1
    assert any("is unreadable" in record.getMessage() for record in caplog.records)


class Harness:
    def __init__(self, path: Path, **limits: int | str) -> None:
        self.clock = FakeClock(T0)
        self.counters = BridgeCounters()
        self.path = path
        self.limits = StoreLimits(**limits)  # type: ignore[arg-type]
        self.outbox = self.open()

    def open(self) -> Outbox:
        return Outbox(
            Spool.open(self.path),
            self.limits,
            counters=self.counters,
            reporter=Reporter("test"),
            wall_clock=self.clock,
            memory_limit=100,
        )

    def offer(self, *f_cnts: int) -> None:
        for f_cnt in f_cnts:
            frame = uplink(f_cnt=f_cnt, received_ns=self.clock.now)
            self.outbox.offer(frame, serialize_uplink(frame))

    def send(self, limit: int = 1_000) -> list[int]:
        """Take, 'send' and acknowledge until nothing is left (the last, empty take deletes
        the acknowledged spool rows); the frame counters in the order they went."""
        sent: list[int] = []
        while batch := self.outbox.take(limit):
            sent += [f_cnt_of(self.outbox.prepare(entry).frame.phy_payload) for entry in batch]
            self.outbox.acknowledge(batch)
        return sent


def test_nothing_touches_the_disk_while_the_link_keeps_up(tmp_path: Path) -> None:
    box = Harness(tmp_path / "upstream.db")
    box.outbox.link_restored()
    box.offer(1, 2, 3)
    assert box.send() == [1, 2, 3]
    assert box.counters.uplinks_spooled == 0
    assert box.outbox.spool.count == 0
    assert box.outbox.backlog == 0


def test_down_link_spools_in_batches_and_replays_in_order_with_the_marker(tmp_path: Path) -> None:
    box = Harness(tmp_path / "upstream.db", flush_interval_ms=1_000)
    box.offer(*range(1, FLUSH_BATCH))
    assert box.outbox.spool.count == 0  # not yet: a batch is committed at once
    box.offer(FLUSH_BATCH)
    assert box.outbox.spool.count == FLUSH_BATCH
    box.offer(FLUSH_BATCH + 1)
    box.clock.advance(1.0)
    assert box.outbox.flush_due(box.clock.now)
    box.offer(FLUSH_BATCH + 2)  # the flush interval has passed: both are written
    assert box.outbox.spool.count == FLUSH_BATCH + 2
    box.offer(FLUSH_BATCH + 3)  # waits in memory for the next flush
    box.clock.advance(60)
    box.outbox.link_restored()
    box.offer(FLUSH_BATCH + 4)  # sent live, after the backlog
    batch = box.outbox.take(1)
    first = box.outbox.prepare(batch[0])
    assert first.delayed
    metadata = first.frame.rx_info.metadata
    assert metadata[DELAYED_KEY] == "true"
    assert int(metadata[DELAYED_MS_KEY]) == 61_000
    assert metadata["region"] == "eu868"  # the gateway's own metadata stays
    assert first.frame.rx_info.gw_time_ns == T0  # the original reception time
    box.outbox.acknowledge(batch)
    assert box.send() == list(range(2, FLUSH_BATCH + 5))
    assert box.outbox.backlog == 0
    assert box.outbox.spool.count == 0


def test_frames_in_flight_when_the_link_fails_go_first_and_are_marked(tmp_path: Path) -> None:
    box = Harness(tmp_path / "upstream.db")
    box.outbox.link_restored()
    box.offer(1, 2, 3, 4)
    in_flight = box.outbox.take(2)
    box.outbox.link_lost()
    box.offer(5)
    box.outbox.link_restored()
    assert [entry.seq for entry in in_flight] == [1, 2]
    replay = [box.outbox.prepare(entry) for entry in box.outbox.take(10)]
    assert [f_cnt_of(uplink.frame.phy_payload) for uplink in replay] == [1, 2, 3, 4, 5]
    assert all(uplink.delayed for uplink in replay)


def test_memory_is_bounded_when_the_link_is_slow(tmp_path: Path) -> None:
    box = Harness(tmp_path / "upstream.db")
    box.outbox.link_restored()
    box.offer(1, 2)
    in_flight = box.outbox.take(2)
    box.offer(*range(3, 150))  # beyond memory_limit=100: spilled to disk, order kept
    assert box.outbox.spool.count >= 100
    box.outbox.acknowledge(in_flight)
    assert box.send() == list(range(3, 150))
    assert box.outbox.spool.count == 0


def test_limits_count_and_report_what_they_drop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    box = Harness(tmp_path / "upstream.db", max_frames=10, max_age_s=3600, flush_interval_ms=0)
    box.offer(*range(1, 16))
    assert box.outbox.spool.count == 10
    assert box.counters.dropped["spool_full"] == 5
    box.clock.advance(1800)
    box.offer(16, 17)
    assert box.counters.dropped["spool_full"] == 7
    box.clock.advance(1801)  # 8..15 are now older than an hour
    box.outbox.link_restored()
    assert box.counters.dropped["expired"] == 8
    assert box.send() == [16, 17]
    assert any("max_frames=10" in record.getMessage() for record in caplog.records)
    assert any("max_age_s=3600" in record.getMessage() for record in caplog.records)


def test_frames_survive_a_restart_and_new_ones_follow_them(tmp_path: Path) -> None:
    box = Harness(tmp_path / "upstream.db")
    box.offer(1, 2, 3)  # the link never came up
    box.outbox.close()
    box.outbox = box.open()
    box.offer(4)
    box.outbox.link_restored()
    assert box.send() == [1, 2, 3, 4]
    assert box.counters.uplinks_spooled == 3  # 4 was sent from memory: never written
    box.outbox.close()
    reopened = Spool.open(tmp_path / "upstream.db")
    assert reopened.count == 0
    reopened.close()


def test_a_corrupt_row_is_dropped_and_counted(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path / "upstream.db")
    spool.append([SpooledFrame(1, T0, b"\xff\xff\xff")])
    spool.close()
    box = Harness(tmp_path / "upstream.db")
    box.offer(2)
    box.outbox.link_restored()
    assert box.send() == [2]
    assert box.counters.dropped["spool_corrupt"] == 1
    assert box.outbox.spool.count == 0
