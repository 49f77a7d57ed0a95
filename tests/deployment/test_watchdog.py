"""The watchdog keep-alive: pings at half of WATCHDOG_USEC while the frame path is healthy.

The coroutine's clock is its ``sleep``: the tests pass one that records each delay and lets the
test decide when the loop goes on, so no test waits for real time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.service import ServiceNotifier, run_watchdog
from tests.deployment.notify_listener import NotifyListener


class _Clock:
    """A sleep that returns at once after recording the delay, and stops the loop after N."""

    def __init__(self, ticks: int) -> None:
        self.delays: list[float] = []
        self._ticks = ticks

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        if len(self.delays) >= self._ticks:
            raise asyncio.CancelledError
        await asyncio.sleep(0)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifyListener]:
    listener = NotifyListener(str(tmp_path / "notify"))
    yield listener
    listener.socket.close()


def _notifier(listener: NotifyListener, watchdog_usec: str | None = "30000000") -> ServiceNotifier:
    env = {"NOTIFY_SOCKET": listener.address}
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = watchdog_usec
    notifier = ServiceNotifier.from_environment(env)
    assert notifier is not None
    return notifier


async def test_pings_at_half_the_timeout_while_healthy(listener: NotifyListener) -> None:
    clock = _Clock(ticks=4)
    with _notifier(listener) as notifier, pytest.raises(asyncio.CancelledError):
        await run_watchdog(notifier, lambda: True, sleep=clock.sleep)
    assert clock.delays == [15.0, 15.0, 15.0, 15.0]
    assert [listener.receive() for _ in range(4)] == [{"WATCHDOG": "1"}] * 4
    assert listener.nothing_pending()


async def test_pings_stop_while_unhealthy_and_resume_after(
    listener: NotifyListener, caplog: pytest.LogCaptureFixture
) -> None:
    health = iter([True, False, False, True, True])
    clock = _Clock(ticks=5)
    with (
        caplog.at_level(logging.INFO, logger="appliance.service"),
        _notifier(listener) as notifier,
        pytest.raises(asyncio.CancelledError),
    ):
        await run_watchdog(notifier, lambda: next(health), sleep=clock.sleep)
    messages = [listener.receive() for _ in range(5)]
    assert messages == [
        {"WATCHDOG": "1"},
        {"STATUS": "frame path unhealthy: watchdog pings withheld"},
        {"WATCHDOG": "1"},
        {"STATUS": "frame path healthy again"},
        {"WATCHDOG": "1"},
    ]
    assert listener.nothing_pending()
    assert "frame path unhealthy" in caplog.text
    assert "healthy again" in caplog.text


async def test_a_health_check_that_raises_counts_as_unhealthy(
    listener: NotifyListener, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> bool:
        raise RuntimeError("backend table gone")

    clock = _Clock(ticks=2)
    with (
        caplog.at_level(logging.ERROR, logger="appliance.service"),
        _notifier(listener) as notifier,
        pytest.raises(asyncio.CancelledError),
    ):
        await run_watchdog(notifier, broken, sleep=clock.sleep)
    assert listener.receive() == {"STATUS": "frame path unhealthy: watchdog pings withheld"}
    assert listener.nothing_pending()
    assert "backend table gone" in caplog.text


async def test_without_watchdog_usec_the_coroutine_returns_at_once(
    listener: NotifyListener,
) -> None:
    clock = _Clock(ticks=1)
    with _notifier(listener, watchdog_usec=None) as notifier:
        await run_watchdog(notifier, lambda: True, sleep=clock.sleep)
    assert clock.delays == []
    assert listener.nothing_pending()


async def test_cancelling_the_task_ends_the_pings(listener: NotifyListener) -> None:
    # As the appliance runs it: a task on the event loop with the real clock, cancelled at stop.
    with _notifier(listener, watchdog_usec="2000") as notifier:  # a ping every 1 ms
        task = asyncio.create_task(run_watchdog(notifier, lambda: True))
        first = await asyncio.get_running_loop().run_in_executor(None, listener.receive)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert first == {"WATCHDOG": "1"}
