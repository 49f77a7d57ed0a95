"""The watchdog keep-alive: ping systemd from the event loop while the frame path is healthy.

Pinging from a task on the appliance's own event loop means a blocked loop stops the pings by
itself; the health callback covers what a running loop can still get wrong (a backend whose
receive path died, a network server that stopped consuming frames). When pings stop for
``WatchdogSec=``, systemd kills the service and ``Restart=on-failure`` starts it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from appliance.service.notify import ServiceNotifier

log = logging.getLogger("appliance.service")

Sleep = Callable[[float], Awaitable[object]]


async def run_watchdog(
    notifier: ServiceNotifier,
    healthy: Callable[[], bool],
    *,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Ping every ``notifier.watchdog_interval`` seconds while ``healthy()`` is True.

    Returns at once when systemd asked for no watchdog; otherwise runs until cancelled. A
    health callback that raises counts as unhealthy. ``sleep`` is the clock: tests pass one
    that records the delays instead of waiting.
    """
    interval = notifier.watchdog_interval
    if interval is None:
        return
    was_healthy = True
    while True:
        is_healthy = _ask(healthy)
        if is_healthy:
            notifier.watchdog()
        if is_healthy != was_healthy:
            if is_healthy:
                log.info("frame path healthy again; watchdog pings resumed")
                notifier.status("frame path healthy again")
            else:
                log.error("frame path unhealthy; watchdog pings withheld so systemd restarts us")
                notifier.status("frame path unhealthy: watchdog pings withheld")
            was_healthy = is_healthy
        await sleep(interval)


def _ask(healthy: Callable[[], bool]) -> bool:
    try:
        return bool(healthy())
    except Exception:
        log.exception("frame path health check failed")
        return False
