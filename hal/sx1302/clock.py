"""Time as an input to the driver: a clock that tells the time and sleeps.

The real one is ``SystemClock``; tests and the emulator pass one whose ``sleep`` only moves
its own time forward, so a start sequence with its 500 ms radio resets runs in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from hal.sx1302.errors import StartError


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ManualClock:
    """A clock that advances only when slept on (or moved by hand)."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def wait_for(
    clock: Clock,
    step: str,
    read: Callable[[], int],
    expected: int,
    *,
    timeout_s: float,
    what: str = "status",
    poll_s: float = 0.001,
) -> None:
    """Poll ``read`` until it returns ``expected``; a ``StartError`` naming ``step`` if it
    does not within ``timeout_s``."""
    deadline = clock.monotonic() + timeout_s
    while True:
        value = read()
        if value == expected:
            return
        if clock.monotonic() >= deadline:
            raise StartError(
                step,
                f"{what} is 0x{value:02X}, expected 0x{expected:02X} (waited {timeout_s:g} s)",
            )
        clock.sleep(poll_s)
