"""The appliance process's garbage-collector schedule: start-up frozen, no automatic full
collections, one every interval (a fake sleep: nothing waits)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from appliance.ns import collector


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_start_up_is_frozen_and_full_collections_are_left_to_the_schedule(
    restored: None,
) -> None:
    made_at_start_up = [object() for _ in range(10)]
    before = gc.get_freeze_count()
    collector.schedule_full_collections()
    assert gc.get_freeze_count() > before
    young, middle, old = gc.get_threshold()
    assert old >= 1_000_000 and young and middle
    assert made_at_start_up


async def test_a_full_collection_every_interval(
    restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    collected: list[tuple[int, ...]] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) > 3:
            raise asyncio.CancelledError

    monkeypatch.setattr(gc, "collect", lambda *generation: collected.append(generation) or 0)
    with pytest.raises(asyncio.CancelledError):
        await collector.run_full_collections(300.0, sleep)
    assert slept == [300.0] * 4
    assert collected == [(), (), ()]  # a full collection after each interval
