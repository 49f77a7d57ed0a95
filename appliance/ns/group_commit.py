"""Group commits of the hot path's writes: many devices' counters in one durable transaction.

Every uplink changes its device's session, and each commit costs an fsync that an SD card
pays for in wear and time. The writer collects the writes that arrive while the previous
batch is being written (and, under steady load, for at least ``interval_s`` after the
previous batch started, or ``relaxed_interval_s`` when no write of the batch has a downlink
waiting for it: an unconfirmed uplink's event can wait a few milliseconds more, and each
commit rewrites at least one 4 KiB block of the card) and commits them together, so one fsync
serves many uplinks; when
idle a write is committed at once, and so is the second write of a device within one
interval (a flow answering an uplink saves its session again before its downlink leaves: that
downlink must not wait twice). Each caller's ``await`` returns only after the batch
holding its write is durable, which is the network server's rule for anything that depends
on a counter.

What is collected per device is coalesced: the newest session wins, DevNonces add up. A
session is handed over as its encoded plaintext and sealed (AES-GCM) in the worker thread,
once per batch, so a device saved twice before its batch starts is encrypted once.

The batch runs in a worker thread on its own connection (WAL lets the event loop's
connection keep reading meanwhile). The WAL checkpoint runs in another thread on a third
connection, beside the commits (a checkpoint never blocks a writer in WAL mode): every
``checkpoint_rows`` written rows, so the database file is rewritten rarely and each page
once for many updates. ``pending`` lets reads see writes not yet durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.sqlite_wear import SECURE_DELETE_FAST

log = logging.getLogger(__name__)

Sealer = Callable[[str, bytes], bytes]  # (DevEUI, plaintext) -> what is stored


@dataclass(slots=True)
class DeviceWrite:
    """What the next batch changes for one device (later calls overwrite earlier ones)."""

    session: bytes | None = None  # encoded, not yet sealed
    dev_addr: str | None = None  # the session's DevAddr (the devices row follows it)
    new_dev_addr: bool = False  # it may differ from the stored one (else the row is left alone)
    join_nonce: int | None = None  # the last JoinNonce handed out
    dev_nonces: list[int] = field(default_factory=list)  # DevNonces to remember
    clear_sent_queue: bool = False  # a new session: sent items belonged to the old one


@dataclass(slots=True)
class CommitStats:
    commits: int = 0  # durable transactions (one fsync of the WAL each)
    rows_written: int = 0  # device writes in them
    checkpoints: int = 0


_UPDATE_SESSION = "UPDATE sessions SET session = ? WHERE dev_eui = ?"
# A device's first session; only for a device that exists (one deleted meanwhile stays gone).
_INSERT_SESSION = (
    "INSERT OR REPLACE INTO sessions (dev_eui, session) "
    "SELECT dev_eui, ? FROM devices WHERE dev_eui = ?"
)
# The WHERE clause leaves the row (and its index page) untouched when nothing changes.
_FOLLOW_DEV_ADDR = "UPDATE devices SET dev_addr = ? WHERE dev_eui = ? AND dev_addr IS NOT ?"


class GroupCommitter:
    def __init__(
        self,
        path: Path,
        seal: Sealer,
        *,
        interval_s: float = 0.0,
        relaxed_interval_s: float | None = None,
        checkpoint_rows: int = 0,
    ) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(SECURE_DELETE_FAST)
        # Checkpoints are this writer's job, at its own pace (see ``_checkpoint``).
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute("PRAGMA synchronous=FULL")
        self._checkpointer.execute("PRAGMA busy_timeout=10000")
        self._checkpointer.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointing: asyncio.Task[None] | None = None
        self._checkpoint_lock = threading.Lock()  # held while a checkpoint runs
        self._seal = seal
        self.interval_s = interval_s
        self.relaxed_interval_s = max(interval_s, relaxed_interval_s or 0.0)
        self._urgent = False  # a write waiting for the next batch has a downlink behind it
        self.checkpoint_rows = checkpoint_rows
        self.pending: dict[str, DeviceWrite] = {}  # dev_eui -> what is not yet durable
        self._pending_by_addr: dict[str, dict[str, bytes]] = {}  # DevAddr -> dev_eui -> plain
        self._waiters: list[asyncio.Future[None]] = []
        self._running: asyncio.Task[None] | None = None
        self._next_start = 0.0
        # Devices of the last batch and when it became durable: a device written again
        # within the interval is in the middle of answering an uplink (its downlink waits on
        # this commit), so its write starts the next batch at once.
        self._last_batch: dict[str, DeviceWrite] = {}
        self._last_durable = 0.0
        self._hurry: asyncio.Future[None] | None = None
        self._rows_since_checkpoint = 0
        self.stats = CommitStats()
        # Moves of devices between DevAddrs (a join, a new session): ``addr_epoch`` changes
        # when a batch with one is taken for writing and again once it is written, and
        # ``addr_moving`` is True in between, so a reader caching "which devices have this
        # DevAddr" knows when its answers may be out of date.
        self.addr_epoch = 0
        self.addr_moving = False

    # --- writes ------------------------------------------------------------------------------

    async def save(
        self,
        dev_eui: str,
        dev_addr: str,
        session: bytes,
        *,
        new_dev_addr: bool = True,
        urgent: bool = True,
    ) -> None:
        """Queue the encoded ``session`` of ``dev_eui`` and return once it is durable;
        ``new_dev_addr`` False promises the stored DevAddr is ``dev_addr`` already;
        ``urgent`` False says no downlink waits for it (the batch may wait longer)."""
        write = self._write_of(dev_eui)
        self._set_session(write, dev_eui, dev_addr, session)
        write.new_dev_addr |= new_dev_addr
        await self._durable(dev_eui, urgent=urgent)

    async def activate(
        self, dev_eui: str, dev_addr: str, session: bytes, *, dev_nonce: int | None
    ) -> None:
        """A new session (from a join when ``dev_nonce`` is given), durably."""
        write = self._write_of(dev_eui)
        self._set_session(write, dev_eui, dev_addr, session)
        write.new_dev_addr = True
        if dev_nonce is not None:
            write.dev_nonces.append(dev_nonce)
        write.clear_sent_queue = True
        await self._durable(dev_eui)

    async def join_nonce(self, dev_eui: str, join_nonce: int) -> None:
        """Record the JoinNonce handed out for ``dev_eui``, durably."""
        self._write_of(dev_eui).join_nonce = join_nonce
        await self._durable(dev_eui)

    def _write_of(self, dev_eui: str) -> DeviceWrite:
        write = self.pending.get(dev_eui)
        if write is None:
            write = self.pending[dev_eui] = DeviceWrite()
        return write

    def _set_session(self, write: DeviceWrite, dev_eui: str, dev_addr: str, plain: bytes) -> None:
        if write.dev_addr is not None and write.dev_addr != dev_addr:
            self._pending_by_addr[write.dev_addr].pop(dev_eui, None)
        write.session = plain
        write.dev_addr = dev_addr
        by_addr = self._pending_by_addr.get(dev_addr)
        if by_addr is None:
            by_addr = self._pending_by_addr[dev_addr] = {}
        by_addr[dev_eui] = plain

    async def _durable(self, dev_eui: str, *, urgent: bool = True) -> None:
        loop = asyncio.get_running_loop()
        hurry = False
        if dev_eui in self._last_batch and loop.time() - self._last_durable < self.interval_s:
            self._next_start = 0.0
            hurry = True
        if urgent and not self._urgent:
            self._urgent = hurry = True  # the batch waiting now waits interval_s at most
        if hurry and self._hurry is not None and not self._hurry.done():
            self._hurry.set_result(None)  # the writer works out its wait again
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        if self._running is None:
            self._running = loop.create_task(self._drain())
        await waiter

    # --- reads of what is not yet durable ----------------------------------------------------

    def pending_for_addr(self, dev_addr: str) -> dict[str, bytes]:
        """Sessions with this DevAddr waiting for their commit (dev_eui -> encoded session)."""
        return self._pending_by_addr.get(dev_addr, {})

    async def flush(self) -> None:
        """Wait until nothing is pending (before a write that must not be overtaken)."""
        while self._running is not None:
            await asyncio.shield(self._running)

    async def idle(self) -> None:
        """Wait until nothing is pending and no checkpoint runs (before closing)."""
        await self.flush()
        while self._checkpointing is not None:
            await asyncio.shield(self._checkpointing)

    # --- the writer --------------------------------------------------------------------------

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                await asyncio.sleep(0)  # let writes that are ready join this batch
                while (wait := self._start_at() - loop.time()) > 0:
                    self._hurry = loop.create_future()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry, wait)
                    self._hurry = None
                self._next_start = loop.time() + self.interval_s
                self._urgent = False
                batch, waiters = self.pending, self._waiters
                self.pending, self._waiters, self._pending_by_addr = {}, [], {}
                moves = any(w.new_dev_addr and w.session is not None for w in batch.values())
                if moves:
                    self.addr_epoch += 1
                    self.addr_moving = True
                try:
                    await asyncio.to_thread(self._write, batch)
                except Exception as exc:  # the callers learn of it; the writer carries on
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                finally:
                    if moves:
                        self.addr_epoch += 1
                        self.addr_moving = False
                self._last_batch, self._last_durable = batch, loop.time()
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
                self._checkpoint_if_due()
        finally:
            self._running = None

    def _start_at(self) -> float:
        """When the next batch may start: ``interval_s`` after the last one began, or
        ``relaxed_interval_s`` while none of its writes has a downlink waiting."""
        if self._urgent or not self._next_start:
            return self._next_start
        return self._next_start + self.relaxed_interval_s - self.interval_s

    def _write(self, batch: dict[str, DeviceWrite]) -> None:
        sessions, addrs, join_nonces = [], [], []
        dev_nonces: list[tuple[str, int]] = []
        last_dev_nonces: list[tuple[int, str]] = []
        cleared: list[tuple[str]] = []
        for dev_eui, write in batch.items():
            if write.session is not None:
                sessions.append((self._seal(dev_eui, write.session), dev_eui))
                if write.new_dev_addr:
                    addrs.append((write.dev_addr, dev_eui, write.dev_addr))
            if write.join_nonce is not None:
                join_nonces.append((write.join_nonce, dev_eui))
            if write.dev_nonces:
                dev_nonces.extend((dev_eui, nonce) for nonce in write.dev_nonces)
                last_dev_nonces.append((write.dev_nonces[-1], dev_eui))
            if write.clear_sent_queue:
                cleared.append((dev_eui,))
        db = self._db
        with db:
            db.execute("BEGIN IMMEDIATE")
            if db.executemany(_UPDATE_SESSION, sessions).rowcount < len(sessions):
                self._insert_missing(sessions)
            if addrs:
                db.executemany(_FOLLOW_DEV_ADDR, addrs)
            if join_nonces:
                db.executemany(
                    "UPDATE devices SET last_join_nonce = max(last_join_nonce, ?) "
                    "WHERE dev_eui = ?",
                    join_nonces,
                )
            if dev_nonces:
                db.executemany("INSERT OR IGNORE INTO dev_nonces VALUES (?, ?)", dev_nonces)
                db.executemany(
                    "UPDATE devices SET last_dev_nonce = ? WHERE dev_eui = ?", last_dev_nonces
                )
            if cleared:
                db.executemany(
                    "DELETE FROM queue WHERE dev_eui = ? AND f_cnt_down IS NOT NULL", cleared
                )
        self.stats.commits += 1
        self.stats.rows_written += len(batch)
        self._rows_since_checkpoint += len(batch)

    def _insert_missing(self, sessions: list[tuple[bytes, str]]) -> None:
        """The rows ``_UPDATE_SESSION`` did not find: first sessions of their devices."""
        stored = {
            row[0]
            for row in self._db.execute(
                "SELECT dev_eui FROM sessions WHERE dev_eui IN (SELECT value FROM json_each(?))",
                (json.dumps([dev_eui for _, dev_eui in sessions]),),
            )
        }
        self._db.executemany(_INSERT_SESSION, [row for row in sessions if row[1] not in stored])

    def _checkpoint_if_due(self) -> None:
        due = self.checkpoint_rows and self._rows_since_checkpoint >= self.checkpoint_rows
        if due and self._checkpointing is None:
            self._rows_since_checkpoint = 0
            self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(self._run_checkpoint)
        except sqlite3.Error:
            # Nothing is lost: the WAL keeps every commit, and the next checkpoint copies it.
            log.warning("WAL checkpoint failed", exc_info=True)
        finally:
            self._checkpointing = None

    def _run_checkpoint(self) -> None:
        with self._checkpoint_lock:
            # PASSIVE: never waits for readers; what it cannot copy now waits for the next one.
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.stats.checkpoints += 1

    def close(self) -> None:
        with self._checkpoint_lock:  # a checkpoint still running finishes first
            self._checkpointer.close()
        self._db.close()
