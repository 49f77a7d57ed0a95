"""Delivery: one courier per target takes the target's queue in order, hands batches to the
target, settles what the target finished, and waits after failures.

A target answers each batch with ``Progress``: how many entries at the head of the batch are
finished (delivered, or refused for good and reported), and, when it stopped early, why and
whether to back off (an HTTP 503) or simply wait until the target is ready again (an MQTT
connection being re-established, which has its own back-off). The rest of the batch is tried
again, in order, so nothing behind a failing event overtakes it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from appliance.integrations.http_config import Retry
from appliance.integrations.outbox import Outbox
from appliance.integrations.queue import Entry, TargetQueue

log = logging.getLogger("appliance.integrations")


@dataclass(slots=True)
class Progress:
    settled: int  # entries at the head of the batch that are done
    refused: list[tuple[Entry, str]] = field(default_factory=list)  # among them, refused
    error: str | None = None  # why the rest of the batch is not done
    error_kind: str = ""  # its metrics label
    backoff: bool = True  # wait before trying again (False: ``ready`` does the waiting)
    retry_after_s: float | None = None  # what the target asked for (HTTP Retry-After)


@dataclass(slots=True)
class TargetStats:
    """What a target counts beyond its queue (kept across a target's reconfigurations)."""

    errors: Counter[str] = field(default_factory=Counter)
    last_error: str = ""
    connected: bool | None = None  # None: the target has no connection (HTTP)
    connects: int = 0
    commands_accepted: int = 0
    commands_rejected: Counter[str] = field(default_factory=Counter)


class Target(Protocol):
    name: str
    kind: str
    application_id: uuid.UUID | None  # None: every application's events
    batch_size: int
    stats: TargetStats

    @property
    def destination(self) -> str: ...

    async def start(self) -> None: ...

    async def ready(self) -> None: ...

    async def deliver(self, entries: Sequence[Entry]) -> Progress: ...

    async def close(self) -> None: ...


RefusalReporter = Callable[[TargetQueue, Entry, str], None]


class Courier:
    def __init__(
        self,
        outbox: Outbox,
        queue: TargetQueue,
        target: Target,
        retry: Retry,
        *,
        on_refused: RefusalReporter,
        wait: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.outbox = outbox
        self.queue = queue
        self.target = target
        self.retry = retry
        self._on_refused = on_refused
        self._wait = wait
        self._task: asyncio.Task[None] | None = None
        self.failures_in_row = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"courier {self.target.name}")

    async def stop(self) -> None:
        """Stop delivering; what was handed out and not finished is taken again later."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("integration %s: the courier failed", self.target.name)
            self._task = None
        self.queue.rewind()

    async def _run(self) -> None:
        delay = self.retry.min_s
        while True:
            await self.target.ready()
            batch = await self.outbox.next_batch(self.queue, self.target.batch_size)
            if not batch:
                return  # the queue was closed
            progress = await self.target.deliver(batch)
            self.queue.settle(batch[: progress.settled], refused=len(progress.refused))
            for entry, reason in progress.refused:
                self._on_refused(self.queue, entry, reason)
            if progress.error is None:
                delay = self.retry.min_s
                self.failures_in_row = 0
                continue
            # The rest of the batch goes back to the queue: while the target is away it is
            # waiting like every event behind it (and the bounds apply to it).
            self.queue.rewind()
            self._failed(progress, delay)
            if progress.backoff:
                pause = max(delay, progress.retry_after_s or 0.0)
                await self._wait(min(pause, self.retry.max_s))
                delay = min(delay * 2, self.retry.max_s)

    def _failed(self, progress: Progress, delay: float) -> None:
        stats = self.target.stats
        stats.errors[progress.error_kind or "failed"] += 1
        stats.last_error = progress.error or ""
        self.failures_in_row += 1
        # The first failure and then every 10th: an outage must not flood the log.
        if self.failures_in_row == 1 or self.failures_in_row % 10 == 0:
            retry = f"retrying in {delay:g} s" if progress.backoff else "waiting for the link"
            log.warning(
                "integration %s (%s): %s; %d events wait, %s",
                self.target.name,
                self.target.destination,
                progress.error,
                self.queue.count,
                retry,
            )
