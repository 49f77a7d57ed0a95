"""What the bridge needs of an upstream transport (MQTT forwarder, Semtech UDP client).

A ``Link`` opens a ``LinkSession`` (connect, announce the gateways); the session sends uplinks
and statistics, and its ``serve`` handles the server's commands until the link fails. Every
failure is a ``LinkError`` whose ``kind`` is a metrics label; the bridge then spools and
reconnects. Nothing else escapes a link.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from appliance.bridge.outbox import UpstreamUplink
from hal.model import DownlinkFrame, DownlinkTxAck, GatewayConfiguration, GatewayStats


class LinkError(Exception):
    """The upstream link cannot be opened or has failed; ``kind`` says how (``refused``,
    ``auth``, ``tls``, ``timeout``, ``closed``, ``dns``, ``protocol``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class CommandSink(Protocol):
    """Where a link hands the server's commands (the bridge)."""

    async def downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        """Transmit locally; never raises (a failure is an acknowledgement with a status)."""
        ...

    async def configure(self, configuration: GatewayConfiguration) -> None: ...


class LinkSession(Protocol):
    async def send_uplinks(self, uplinks: Sequence[UpstreamUplink]) -> None:
        """Returns when the server (or broker) has acknowledged every uplink; else raises."""
        ...

    async def send_stats(self, stats: GatewayStats) -> None: ...

    async def serve(self) -> None:
        """Handle commands until the link fails (raises ``LinkError``)."""
        ...

    async def say_goodbye(self) -> None:
        """Tell the server the gateways are going offline (graceful stop only)."""
        ...


class Link(Protocol):
    def describe(self) -> str:
        """For log lines, e.g. ``mqtt mqtts://broker:8883``."""
        ...

    def session(self, commands: CommandSink) -> AbstractAsyncContextManager[LinkSession]:
        """Connect; raises ``LinkError`` when that is not possible."""
        ...


async def first_to_finish(*coroutines: Coroutine[Any, Any, None]) -> None:
    """Run the coroutines until one finishes; cancel the rest; re-raise the first's error."""
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
