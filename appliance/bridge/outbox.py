"""Uplinks on their way upstream: in memory while the link keeps up, in the spool while it does not.

Every uplink gets a sequence number when it is offered, and ``take`` always hands out the lowest
numbers first, whether they wait in memory or on disk; so frames leave in reception order
however often the link comes and goes. A frame leaves the outbox only when the link has
acknowledged it (``acknowledge``); a frame in flight when the link fails goes back (``link_lost``)
and is sent again: delivery is at least once, never at most once.

Disk writes happen only when a frame cannot be sent at once: while the link is down (committed in
batches, every ``flush_interval_ms`` or every ``FLUSH_BATCH`` frames) or when more than
``memory_limit`` frames wait in memory with the link up. A frame that went through the spool, or
that had to be sent again, is *delayed*: ``prepare`` gives it the delayed marker (see
``docs/bridge.md``) and keeps its original reception times.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from chirpstack_api import gw

from appliance.bridge.config import StoreLimits
from appliance.bridge.counters import BridgeCounters, Reporter
from appliance.bridge.spool import Spool, SpooledFrame, SpoolError
from appliance.lorawan.identifiers import EUI64
from hal.model import UplinkFrame
from hal.proto import ProtoConversionError, gateway_id_from_proto, parse_message, uplink_from_proto

FLUSH_BATCH: Final = 256
DELETE_BATCH: Final = 1_024  # acknowledged spool rows deleted together (fewer disk writes)
DELAYED_KEY: Final = "delayed"
DELAYED_MS_KEY: Final = "delayed_ms"
_READ_AHEAD: Final = 256
_NS_PER_MS: Final = 1_000_000
_NS_PER_S: Final = 1_000_000_000


@dataclass(slots=True)
class Entry:
    seq: int
    received_ns: int  # wall clock when the appliance received (offered) the frame
    gateway_id: EUI64
    data: bytes  # the frame as a serialized gw.UplinkFrame
    frame: UplinkFrame | None = None  # the model, when the frame came in as one
    spooled: bool = False  # a row of the spool holds it
    delayed: bool = False


class UpstreamUplink:
    """An uplink as it goes on the wire: its gw.UplinkFrame bytes (with the delayed marker when
    delayed), and the model of those bytes for links that need it (decoded on first use, so a
    protobuf replay never builds one)."""

    __slots__ = ("_frame", "data", "delayed", "gateway_id")

    def __init__(
        self, gateway_id: EUI64, data: bytes, *, delayed: bool, frame: UplinkFrame | None = None
    ) -> None:
        self.gateway_id = gateway_id
        self.data = data
        self.delayed = delayed
        self._frame = frame

    @property
    def frame(self) -> UplinkFrame:
        if self._frame is None:
            self._frame = uplink_from_proto(parse_message(self.data, gw.UplinkFrame))
        return self._frame


class Outbox:
    def __init__(
        self,
        spool: Spool,
        limits: StoreLimits,
        *,
        counters: BridgeCounters,
        reporter: Reporter,
        wall_clock: Callable[[], int],
        memory_limit: int = 1_024,
    ) -> None:
        self._spool = spool
        self._limits = limits
        self._counters = counters
        self._reporter = reporter
        self._wall_clock = wall_clock
        self._memory_limit = memory_limit
        self._next_seq = spool.max_seq() + 1
        self._memory: deque[Entry] = deque()  # not on disk, not in flight, ascending seq
        self._read_ahead: deque[Entry] = deque()  # rows read from the spool, not yet taken
        self._cursor = 0  # highest seq read from the spool since the last rewind
        self._spool_may_have_more = spool.count > 0
        self._in_flight: dict[int, Entry] = {}
        self._acknowledged_rows: list[int] = []  # sent; their spool rows await DELETE_BATCH
        self._oldest_unflushed_ns: int | None = None
        self.link_up = False

    @property
    def backlog(self) -> int:
        """Frames not yet acknowledged upstream."""
        in_flight_memory = sum(1 for entry in self._in_flight.values() if not entry.spooled)
        waiting_on_disk = self._spool.count - len(self._acknowledged_rows)
        return len(self._memory) + waiting_on_disk + in_flight_memory

    @property
    def in_flight(self) -> int:
        """Frames sent and awaiting the link's acknowledgement."""
        return len(self._in_flight)

    @property
    def spool(self) -> Spool:
        return self._spool

    def has_work(self) -> bool:
        return bool(self._memory or self._read_ahead or self._spool_may_have_more)

    # -- in ----------------------------------------------------------------------------------

    def offer(self, frame: UplinkFrame, data: bytes) -> None:
        now = self._wall_clock()
        gateway_id = frame.rx_info.gateway_id
        self._memory.append(
            Entry(self._next_seq, now, gateway_id, data, frame, delayed=not self.link_up)
        )
        self._next_seq += 1
        if self.link_up:
            if len(self._memory) > self._memory_limit:
                self.flush()  # the link cannot keep up: keep memory bounded, keep the frames
            return
        if self._oldest_unflushed_ns is None:
            self._oldest_unflushed_ns = now
        if len(self._memory) >= FLUSH_BATCH or self.flush_due(now):
            self.flush()

    def flush_due(self, now_ns: int) -> bool:
        oldest = self._oldest_unflushed_ns
        return oldest is not None and now_ns - oldest >= self._limits.flush_interval_ms * _NS_PER_MS

    def flush(self) -> None:
        """Write every frame waiting in memory to the spool (one transaction), then apply the
        limits."""
        self._oldest_unflushed_ns = None
        if self._memory:
            entries, self._memory = list(self._memory), deque()
            rows = [SpooledFrame(entry.seq, entry.received_ns, entry.data) for entry in entries]
            try:
                self._spool.append(rows)
            except SpoolError as error:
                self._counters.dropped["spool_error"] += len(rows)
                self._reporter.report("error", "spool_error", f"{error}; {len(rows)} uplinks lost")
                return
            self._counters.uplinks_spooled += len(rows)
            self._spool_may_have_more = True
        self.apply_limits()

    def apply_limits(self) -> None:
        limits = self._limits
        cutoff = self._wall_clock() - limits.max_age_s * _NS_PER_S
        try:
            trimmed = self._spool.trim(
                max_frames=limits.max_frames, max_bytes=limits.max_bytes, older_than_ns=cutoff
            )
        except SpoolError as error:
            self._reporter.report("error", "spool_error", str(error))
            return
        for reason, count, limit in (
            ("expired", trimmed.expired, f"max_age_s={limits.max_age_s}"),
            ("spool_full", trimmed.over_count, f"max_frames={limits.max_frames}"),
            ("spool_bytes", trimmed.over_bytes, f"max_bytes={limits.max_bytes}"),
        ):
            if count:
                self._counters.dropped[reason] += count
                self._reporter.report(
                    "warning", reason, f"spool limit {limit}: dropped the {count} oldest uplinks"
                )

    # -- out ---------------------------------------------------------------------------------

    def take(self, limit: int) -> list[Entry]:
        """Up to ``limit`` frames in sequence order; they stay in flight until acknowledged."""
        taken: list[Entry] = []
        while len(taken) < limit:
            if not self._read_ahead and self._spool_may_have_more:
                self._read_spool()
            spool_head = self._read_ahead[0] if self._read_ahead else None
            memory_head = self._memory[0] if self._memory else None
            if spool_head is None and memory_head is None:
                break
            if memory_head is None or (spool_head is not None and spool_head.seq < memory_head.seq):
                entry = self._read_ahead.popleft()
            else:
                entry = self._memory.popleft()
            self._in_flight[entry.seq] = entry
            taken.append(entry)
        if not taken and self._acknowledged_rows:
            self._delete_acknowledged()  # the backlog is drained: leave the spool empty
        return taken

    def _read_spool(self) -> None:
        try:
            rows = self._spool.read(self._cursor, _READ_AHEAD)
        except SpoolError as error:
            self._reporter.report("error", "spool_error", str(error))
            self._spool_may_have_more = False
            return
        if len(rows) < _READ_AHEAD:
            self._spool_may_have_more = False
        corrupt: list[int] = []
        for row in rows:
            self._cursor = max(self._cursor, row.seq)
            if row.seq in self._in_flight:
                continue
            try:
                message = parse_message(row.data, gw.UplinkFrame)
                gateway_id = gateway_id_from_proto(message.rx_info.gateway_id)
            except ProtoConversionError as error:
                corrupt.append(row.seq)
                self._reporter.report("error", "spool_corrupt", f"spool row {row.seq}: {error}")
                continue
            entry = Entry(row.seq, row.stored_ns, gateway_id, row.data, spooled=True, delayed=True)
            self._read_ahead.append(entry)
        if corrupt:
            self._counters.dropped["spool_corrupt"] += len(corrupt)
            self._delete(corrupt)

    def prepare(self, entry: Entry) -> UpstreamUplink:
        """What to send for ``entry``: its bytes unchanged, or with the delayed marker.

        The marker is set on the protobuf message itself: a replay of thousands of frames
        costs a parse and a serialization each, not two model conversions.
        """
        if not entry.delayed:
            return UpstreamUplink(entry.gateway_id, entry.data, delayed=False, frame=entry.frame)
        message: Any = parse_message(entry.data, gw.UplinkFrame)
        rx_info = message.rx_info
        delay_ms = max(0, (self._wall_clock() - entry.received_ns) // _NS_PER_MS)
        rx_info.metadata[DELAYED_KEY] = "true"
        rx_info.metadata[DELAYED_MS_KEY] = str(delay_ms)
        # Without a gateway time the central server would only know when the frame arrived
        # there; the appliance's own reception time is the better original time.
        if not rx_info.HasField("gw_time") and rx_info.HasField("ns_time"):
            rx_info.gw_time.CopyFrom(rx_info.ns_time)
        return UpstreamUplink(entry.gateway_id, bytes(message.SerializeToString()), delayed=True)

    def acknowledge(self, entries: Iterable[Entry]) -> None:
        """The link confirmed ``entries``: forget them (their spool rows go in batches; a
        restart before that sends them again: a duplicate, never a loss)."""
        for entry in entries:
            if self._in_flight.pop(entry.seq, None) is not None and entry.spooled:
                self._acknowledged_rows.append(entry.seq)
        if len(self._acknowledged_rows) >= DELETE_BATCH:
            self._delete_acknowledged()

    def _delete_acknowledged(self) -> None:
        rows, self._acknowledged_rows = self._acknowledged_rows, []
        self._delete(rows)

    def discard(self, entries: Iterable[Entry], reason: str) -> None:
        """Give up on ``entries`` (e.g. the link refuses them for good), counted as dropped."""
        entries = list(entries)
        self._counters.dropped[reason] += len(entries)
        self.acknowledge(entries)

    def _delete(self, seqs: list[int]) -> None:
        try:
            self._spool.delete(seqs)
        except SpoolError as error:
            # Rows that cannot be deleted are sent again after a restart: a duplicate, not a loss.
            self._reporter.report("error", "spool_error", str(error))

    # -- link state --------------------------------------------------------------------------

    def link_restored(self) -> None:
        self.link_up = True
        self.apply_limits()  # expired frames are not worth replaying

    def link_lost(self) -> None:
        """Frames in flight go back in order, marked delayed; what waits in memory is spooled."""
        self.link_up = False
        self._delete_acknowledged()  # before the rewind below would read them again
        returning = sorted(
            (entry for entry in self._in_flight.values() if not entry.spooled),
            key=lambda entry: entry.seq,
        )
        for entry in returning:
            entry.delayed = True
        self._in_flight.clear()
        self._memory.extendleft(reversed(returning))
        # Spooled frames in flight are still on disk: read them again from the start.
        self._read_ahead.clear()
        self._cursor = 0
        self._spool_may_have_more = True
        self.flush()

    def close(self) -> None:
        """Keep everything not acknowledged on disk and close the spool."""
        self.link_lost()
        self._spool.close()
