"""What the runtime hands the integrations: how to queue a downlink and how to report a
problem that concerns an application or device (it becomes a ``log`` event)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from appliance.lorawan.identifiers import EUI64

log = logging.getLogger("appliance.integrations")

# Queue a validated downlink command (ChirpStack's JSON form) for a device of an application;
# raises ValueError with one line when it cannot (no such device, a codec refusal...).
Enqueue = Callable[[uuid.UUID, EUI64, dict[str, Any]], Awaitable[None]]
# (application, device or None, one line); may return an awaitable, which is run as a task.
Report = Callable[[uuid.UUID | None, EUI64 | None, str], object]

_background: set[asyncio.Task[Any]] = set()


def call_report(
    report: Report, application_id: uuid.UUID | None, dev_eui: EUI64 | None, message: str
) -> None:
    """Hand ``message`` to ``report`` without ever letting it fail the caller."""
    try:
        result = report(application_id, dev_eui, message)
    except Exception:
        log.exception("integrations: reporting %r failed", message)
        return
    if inspect.isawaitable(result):
        task = asyncio.ensure_future(result)
        _background.add(task)
        task.add_done_callback(_finished)


def _finished(task: asyncio.Task[Any]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("integrations: reporting failed: %s", task.exception())
