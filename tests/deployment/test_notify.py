"""The systemd notification protocol against real AF_UNIX datagram sockets, as systemd listens."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.service import ServiceNotifier
from tests.deployment.notify_listener import NotifyListener


@pytest.fixture
def path_listener(tmp_path: Path) -> Iterator[NotifyListener]:
    listener = NotifyListener(str(tmp_path / "notify"))
    yield listener
    listener.socket.close()


@pytest.fixture
def abstract_listener() -> Iterator[NotifyListener]:
    listener = NotifyListener(f"@appliance-test-{os.getpid()}-{id(object())}")
    yield listener
    listener.socket.close()


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_every_notification_arrives_as_one_datagram(
    kind: str, path_listener: NotifyListener, abstract_listener: NotifyListener
) -> None:
    listener = path_listener if kind == "path" else abstract_listener
    notifier = ServiceNotifier.from_environment({"NOTIFY_SOCKET": listener.address})
    assert notifier is not None
    with notifier:
        assert notifier.ready("serving: region EU868, 2 backends")
        assert listener.receive() == {"READY": "1", "STATUS": "serving: region EU868, 2 backends"}
        assert notifier.status("3 gateways connected")
        assert listener.receive() == {"STATUS": "3 gateways connected"}
        assert notifier.watchdog()
        assert listener.receive() == {"WATCHDOG": "1"}
        assert notifier.extend_timeout(12.5)
        assert listener.receive() == {"EXTEND_TIMEOUT_USEC": "12500000"}
        assert notifier.stopping("stopping: SIGTERM")
        assert listener.receive() == {"STOPPING": "1", "STATUS": "stopping: SIGTERM"}
        assert notifier.ready()
        assert listener.receive() == {"READY": "1"}
    assert listener.nothing_pending()


def test_status_text_is_one_line_so_it_cannot_inject_fields(path_listener: NotifyListener) -> None:
    with ServiceNotifier(path_listener.address) as notifier:
        notifier.status("backend failed\nREADY=1\tnow")
        assert path_listener.receive() == {"STATUS": "backend failed READY=1 now"}


def test_no_notify_socket_means_no_notifier() -> None:
    assert ServiceNotifier.from_environment({}) is None
    assert ServiceNotifier.from_environment({"NOTIFY_SOCKET": ""}) is None
    assert ServiceNotifier.from_environment({"WATCHDOG_USEC": "30000000"}) is None


@pytest.mark.parametrize("address", ["relative/path", "vsock:2:1234", "@"])
def test_a_socket_that_is_not_af_unix_is_refused_with_a_warning(
    address: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="appliance.service"):
        assert ServiceNotifier.from_environment({"NOTIFY_SOCKET": address}) is None
    assert "not an AF_UNIX socket" in caplog.text


def test_the_watchdog_interval_is_half_of_watchdog_usec(path_listener: NotifyListener) -> None:
    env = {"NOTIFY_SOCKET": path_listener.address, "WATCHDOG_USEC": "30000000"}
    notifier = ServiceNotifier.from_environment(env, pid=1234)
    assert notifier is not None
    assert notifier.watchdog_interval == 15.0
    notifier.close()


@pytest.mark.parametrize(
    ("extra", "interval"),
    [
        ({}, None),  # no watchdog configured
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1234"}, 10.0),  # meant for us
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "999"}, None),  # for another process
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
    ],
)
def test_watchdog_settings_from_the_environment(
    path_listener: NotifyListener, extra: dict[str, str], interval: float | None
) -> None:
    notifier = ServiceNotifier.from_environment(
        {"NOTIFY_SOCKET": path_listener.address, **extra}, pid=1234
    )
    assert notifier is not None
    assert notifier.watchdog_interval == interval
    notifier.close()


def test_a_vanished_socket_is_logged_once_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    listener = NotifyListener(str(tmp_path / "notify"))
    notifier = ServiceNotifier(listener.address)
    listener.socket.close()
    os.unlink(listener.address)
    with caplog.at_level(logging.INFO, logger="appliance.service"):
        assert not notifier.watchdog()
        assert not notifier.watchdog()
        assert not notifier.status("still here")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot notify systemd" in warnings[0].getMessage()

    # systemd comes back (a daemon-reexec re-creates the socket): notifications flow again.
    revived = NotifyListener(listener.address)
    with caplog.at_level(logging.INFO, logger="appliance.service"):
        assert notifier.watchdog()
    assert revived.receive() == {"WATCHDOG": "1"}
    assert "works again" in caplog.text
    revived.socket.close()
    notifier.close()


def test_a_full_receive_queue_does_not_block_the_caller(path_listener: NotifyListener) -> None:
    # Nobody reads: once the kernel queue is full, sends fail at once instead of blocking.
    with ServiceNotifier(path_listener.address) as notifier:
        results = [notifier.watchdog() for _ in range(2000)]
    assert results[0] is True
    assert results[-1] is False
