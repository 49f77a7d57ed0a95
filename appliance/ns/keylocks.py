"""One asyncio mutex per key (a DevAddr, a DevEUI), that costs nothing while nobody waits.

The pipeline holds the lock of a frame's DevAddr while it processes the frame, so two frames
of a device never interleave. Almost every frame finds its key free: an ``asyncio.Lock`` per
key would be built, taken and forgotten each time (a few microseconds a frame). Here a free
key is one dict entry, set on ``acquire`` and removed on ``release``; only a frame that finds
its key taken waits, in arrival order, on a future of its own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyLocks:
    def __init__(self) -> None:
        # A held key -> the futures of those waiting for it, first come first served.
        self._held: dict[Hashable, deque[asyncio.Future[None]]] = {}

    def __len__(self) -> int:
        """How many keys are held right now."""
        return len(self._held)

    def locked(self, key: Hashable) -> bool:
        return key in self._held

    async def acquire(self, key: Hashable) -> None:
        waiters = self._held.get(key)
        if waiters is None:
            self._held[key] = deque()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(key)  # handed over just as the wait was cancelled: pass it on
            raise

    def release(self, key: Hashable) -> None:
        """Hand the key to the first waiter still waiting, or free it."""
        waiters = self._held[key]
        while waiters:
            future = waiters.popleft()
            if not future.done():  # a cancelled waiter is done
                future.set_result(None)
                return
        del self._held[key]

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        await self.acquire(key)
        try:
            yield
        finally:
            self.release(key)
