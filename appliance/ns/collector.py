"""Garbage-collector settings for a process that runs the network server.

The server keeps thousands of decoded sessions (tens of objects each) in memory for as long
as it runs, while every uplink allocates and frees a few hundred short-lived objects (tasks,
frames, events). With CPython's default thresholds (700, 10, 10) the young objects of the
uplinks in flight are collected so often that some survive into the older generations, which
soon triggers full collections over every cached session: measured at 10,000 devices, about
a third of the CPU and pauses of hundreds of milliseconds (bench/RESULTS.md).

Nearly everything the pipeline allocates is freed by reference counting, so collections can
be rare: the first threshold counts objects allocated and not yet freed, and cyclic garbage
is all the memory a larger one can hold back.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import Final

YOUNG_THRESHOLD: Final = 50_000
MIDDLE_THRESHOLD: Final = 20
OLD_THRESHOLD: Final = 10


def tune_for_network_server() -> None:
    """Collect young objects far less often (never lowers a threshold already raised)."""
    young, middle, old = gc.get_threshold()
    if young == 0:
        return  # collection switched off by whoever embeds us: leave it so
    gc.set_threshold(
        max(young, YOUNG_THRESHOLD), max(middle, MIDDLE_THRESHOLD), max(old, OLD_THRESHOLD)
    )


# --- the appliance process: full collections on a schedule ------------------------------------

# A full collection walks every tracked object: with the cached sessions of 10,000 devices,
# 50-400 ms in which nothing else runs (measured in the whole appliance at 1,000 uplinks/s),
# which is every ACK and event in flight then. CPython starts one whenever enough objects
# survived into the oldest generation, at a moment nobody chooses. The appliance process
# instead freezes what start-up made (modules, settings: never garbage) and runs a full
# collection itself every ``FULL_COLLECTION_INTERVAL_S``; the young generations are still
# collected as usual, so short-lived cycles go at once.
FULL_COLLECTION_INTERVAL_S: Final = 600.0
_SCHEDULED_OLD_THRESHOLD: Final = 1_000_000  # never reached: full collections are scheduled


def schedule_full_collections() -> None:
    """Freeze what exists now and stop automatic full collections (call once, when ready)."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    if young:
        gc.set_threshold(young, middle, _SCHEDULED_OLD_THRESHOLD)


async def run_full_collections(
    interval_s: float = FULL_COLLECTION_INTERVAL_S,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """A full collection every ``interval_s``, until cancelled."""
    while True:
        await sleep(interval_s)
        gc.collect()
