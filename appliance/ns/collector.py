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

import gc
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
