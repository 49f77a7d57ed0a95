from __future__ import annotations

from hal.jit_queue import COUNTER_MODULO, JitQueue, JitTiming, counter_delta
from hal.model import TxAckStatus

TIMING = JitTiming(
    start_delay_us=1_500,
    margin_us=1_000,
    jit_delay_us=30_000,
    max_advance_us=384_000_000,
    max_items=3,
)


def test_counter_delta_wraps() -> None:
    assert counter_delta(5, COUNTER_MODULO - 5) == 10
    assert counter_delta(COUNTER_MODULO - 5, 5) == -10
    assert counter_delta(1_000, 0) == 1_000


def test_lead_time_limits() -> None:
    queue: JitQueue[str] = JitQueue(TIMING)
    now = 1_000_000
    assert queue.enqueue("late", start_us=now + 31_000, duration_us=10, now_us=now) == (
        TxAckStatus.TOO_LATE
    )
    assert queue.enqueue("past", start_us=now - 5, duration_us=10, now_us=now) == (
        TxAckStatus.TOO_LATE
    )
    assert queue.enqueue("early", start_us=now + 385_000_000, duration_us=10, now_us=now) == (
        TxAckStatus.TOO_EARLY
    )
    assert queue.enqueue("ok", start_us=now + 31_500, duration_us=10, now_us=now) == (
        TxAckStatus.OK
    )
    assert len(queue) == 1


def test_overlaps_need_a_margin_and_the_queue_is_bounded() -> None:
    queue: JitQueue[str] = JitQueue(TIMING)
    now = 0
    assert queue.enqueue("a", start_us=100_000, duration_us=50_000, now_us=now) is TxAckStatus.OK
    assert queue.enqueue("b", start_us=140_000, duration_us=10_000, now_us=now) is (
        TxAckStatus.COLLISION_PACKET
    )
    # Within the 1 ms guard after "a" ends: still a collision.
    assert queue.enqueue("c", start_us=150_500, duration_us=10_000, now_us=now) is (
        TxAckStatus.COLLISION_PACKET
    )
    assert queue.enqueue("d", start_us=151_000, duration_us=10_000, now_us=now) is TxAckStatus.OK
    assert queue.enqueue("e", start_us=300_000, duration_us=10_000, now_us=now) is TxAckStatus.OK
    assert queue.enqueue("f", start_us=400_000, duration_us=10_000, now_us=now) is (
        TxAckStatus.QUEUE_FULL
    )


def test_due_hands_over_in_time_order_across_the_wrap() -> None:
    queue: JitQueue[str] = JitQueue(TIMING)
    now = COUNTER_MODULO - 100_000
    later = (now + 300_000) % COUNTER_MODULO  # after the wrap
    sooner = (now + 200_000) % COUNTER_MODULO
    assert queue.enqueue("later", start_us=later, duration_us=10, now_us=now) is TxAckStatus.OK
    assert queue.enqueue("sooner", start_us=sooner, duration_us=10, now_us=now) is TxAckStatus.OK
    assert queue.next_due_us(now) == 200_000 - 30_000
    assert queue.due(now) == []
    assert queue.due((now + 171_000) % COUNTER_MODULO) == [(sooner, "sooner")]
    assert queue.due((now + 290_000) % COUNTER_MODULO) == [(later, "later")]
    assert queue.next_due_us(now) is None
