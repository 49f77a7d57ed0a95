"""Per-key locks: exclusive per key, first come first served, cancellation-safe, no leftovers."""

from __future__ import annotations

import asyncio

import pytest

from appliance.ns.keylocks import KeyLocks


async def test_one_holder_per_key_in_arrival_order_and_other_keys_free() -> None:
    locks = KeyLocks()
    order: list[str] = []
    inside: set[str] = set()

    async def work(name: str, key: bytes) -> None:
        async with locks.hold(key):
            assert not any(other.startswith(key.decode()) for other in inside)
            inside.add(name)
            order.append(name)
            await asyncio.sleep(0.001)
            inside.discard(name)

    await asyncio.gather(*(work(f"a{i}", b"a") for i in range(5)), work("b0", b"b"))
    assert [name for name in order if name.startswith("a")] == [f"a{i}" for i in range(5)]
    assert order.index("b0") < 2  # a free key does not wait behind another key's queue
    assert len(locks) == 0


async def test_a_cancelled_waiter_is_skipped() -> None:
    locks = KeyLocks()
    await locks.acquire(b"k")
    waiter = asyncio.create_task(locks.acquire(b"k"))
    after = asyncio.create_task(locks.acquire(b"k"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    locks.release(b"k")
    await asyncio.wait_for(after, 1)  # the next one in line got it
    assert locks.locked(b"k")
    locks.release(b"k")
    assert not locks.locked(b"k") and len(locks) == 0


async def test_a_waiter_cancelled_as_it_is_handed_the_key_passes_it_on() -> None:
    locks = KeyLocks()
    await locks.acquire(b"k")
    first = asyncio.create_task(locks.acquire(b"k"))
    second = asyncio.create_task(locks.acquire(b"k"))
    await asyncio.sleep(0)
    locks.release(b"k")  # hands the key to ``first``, which has not run yet
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)
    locks.release(b"k")
    assert len(locks) == 0


async def test_release_of_a_free_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        KeyLocks().release(b"never held")
