"""Just-in-time transmit queue of a concentrator, in the concentrator's 32-bit µs counter.

Concentrators transmit at a counter value, not a wall-clock time, and must be programmed a
little before it. The queue refuses what the radio cannot do: a start too close to now (the
host needs ``jit_delay_us`` to program the radio), too far ahead (``max_advance_us``), an
overlap with a transmission already queued (with ``margin_us`` either side), or a full queue.

Timing constants follow the reference packet forwarders' JIT queue (TX_START_DELAY 1.5 ms,
TX_MARGIN_DELAY 1 ms, TX_JIT_DELAY 30 ms for SX1301 / 40 ms for SX1302, TX_MAX_ADVANCE_DELAY
(2 beacons + 1) x 128 s, 32 entries). The counter wraps every 71.6 minutes, so every
comparison is done on the signed 32-bit difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from hal.model import TxAckStatus

COUNTER_MODULO: Final = 1 << 32

T = TypeVar("T")


def counter_delta(later: int, earlier: int) -> int:
    """``later - earlier`` on the wrapping 32-bit counter, as a signed number of µs."""
    delta = (later - earlier) % COUNTER_MODULO
    return delta - COUNTER_MODULO if delta >= COUNTER_MODULO // 2 else delta


@dataclass(frozen=True, slots=True)
class JitTiming:
    start_delay_us: int = 1_500  # the radio's own delay between trigger and RF
    margin_us: int = 1_000  # guard between two transmissions
    jit_delay_us: int = 30_000  # the host must hand the packet over this early
    max_advance_us: int = 384_000_000
    max_items: int = 32


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    start_us: int
    duration_us: int
    item: T


@dataclass(slots=True)
class JitQueue(Generic[T]):
    """Pending transmissions ordered by start time; ``T`` is whatever the caller transmits."""

    timing: JitTiming = field(default_factory=JitTiming)
    _entries: list[_Entry[T]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._entries)

    def enqueue(self, item: T, *, start_us: int, duration_us: int, now_us: int) -> TxAckStatus:
        """Queue ``item`` to start at counter ``start_us``; the status says whether it was."""
        timing = self.timing
        lead = counter_delta(start_us, now_us)
        if lead < timing.jit_delay_us + timing.start_delay_us:
            return TxAckStatus.TOO_LATE
        if lead > timing.max_advance_us:
            return TxAckStatus.TOO_EARLY
        if len(self._entries) >= timing.max_items:
            return TxAckStatus.QUEUE_FULL
        for entry in self._entries:
            # Overlap test on the wrapping counter: relative offsets from the new start.
            gap_before = counter_delta(start_us, entry.start_us + entry.duration_us)
            gap_after = counter_delta(entry.start_us, start_us + duration_us)
            if gap_before < timing.margin_us and gap_after < timing.margin_us:
                return TxAckStatus.COLLISION_PACKET
        self._entries.append(_Entry(start_us, duration_us, item))
        self._entries.sort(key=lambda e: counter_delta(e.start_us, now_us))
        return TxAckStatus.OK

    def due(self, now_us: int) -> list[tuple[int, T]]:
        """Remove and return ``(start_us, item)`` for every entry to hand to the radio now."""
        ready = [
            e
            for e in self._entries
            if counter_delta(e.start_us, now_us) <= self.timing.jit_delay_us
        ]
        if ready:
            self._entries = [e for e in self._entries if e not in ready]
        return [(e.start_us, e.item) for e in ready]

    def next_due_us(self, now_us: int) -> int | None:
        """µs from ``now_us`` until the next entry is due (0 if already due), or None."""
        if not self._entries:
            return None
        lead = counter_delta(self._entries[0].start_us, now_us) - self.timing.jit_delay_us
        return max(lead, 0)
