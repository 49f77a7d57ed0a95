"""Group commits of session updates: many devices' counters in one durable transaction.

Every uplink changes its device's session, and each commit costs an fsync that an SD card
pays for in wear and time. The writer collects the updates that arrive while the previous
batch is being written and commits them together, so under load one fsync serves many
uplinks, and when idle an update is written at once (latency stays one commit). Each caller's
``await`` returns only after the batch holding its update is durable, which is the network
server's rule for anything that depends on a counter.

The batch runs in a worker thread on its own connection (WAL lets the event loop's
connection keep reading meanwhile); ``pending`` lets reads see updates not yet written.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

Row = tuple[str, bytes]  # (DevAddr, sealed session) of one device


class GroupCommitter:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self.pending: dict[str, Row] = {}  # dev_eui -> newest update not yet durable
        self._pending_by_addr: dict[str, dict[str, bytes]] = {}  # DevAddr -> dev_eui -> session
        self._waiters: list[asyncio.Future[None]] = []
        self._running: asyncio.Task[None] | None = None
        self.commits = 0
        self.rows_written = 0

    async def save(self, dev_eui: str, row: Row) -> None:
        """Queue ``row`` for ``dev_eui`` and return once it is durable."""
        loop = asyncio.get_running_loop()
        previous = self.pending.get(dev_eui)
        if previous is not None and previous[0] != row[0]:
            self._pending_by_addr[previous[0]].pop(dev_eui, None)
        self.pending[dev_eui] = row
        self._pending_by_addr.setdefault(row[0], {})[dev_eui] = row[1]
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        if self._running is None:
            self._running = loop.create_task(self._drain())
        await waiter

    def pending_for_addr(self, dev_addr: str) -> dict[str, bytes]:
        """Sessions with this DevAddr waiting for their commit (dev_eui -> sealed session)."""
        return self._pending_by_addr.get(dev_addr, {})

    async def flush(self) -> None:
        """Wait until nothing is pending (before a write that must not be overtaken)."""
        while self._running is not None:
            await asyncio.shield(self._running)

    async def _drain(self) -> None:
        try:
            while self.pending:
                await asyncio.sleep(0)  # let updates that are ready join this batch
                batch, waiters = self.pending, self._waiters
                self.pending, self._waiters, self._pending_by_addr = {}, [], {}
                try:
                    await asyncio.to_thread(self._write, batch)
                except Exception as exc:  # the callers learn of it; the writer carries on
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._running = None

    def _write(self, batch: dict[str, Row]) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE devices SET dev_addr = ?, session = ? WHERE dev_eui = ?",
                [(dev_addr, session, dev_eui) for dev_eui, (dev_addr, session) in batch.items()],
            )
        self.commits += 1
        self.rows_written += len(batch)

    def close(self) -> None:
        self._db.close()
