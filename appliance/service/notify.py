"""systemd's service notification protocol: readiness, status text, stopping and watchdog pings.

The protocol is one datagram of ``KEY=VALUE`` lines sent to the ``AF_UNIX`` socket named by
``$NOTIFY_SOCKET``: a file-system path, or ``@name`` for a socket in the abstract namespace.
systemd sets the variable only for ``Type=notify`` services, so outside systemd
``ServiceNotifier.from_environment()`` returns None and the caller skips notifying altogether.

Sending never blocks the event loop (the socket is non-blocking) and never raises: a failed
notification is logged and reported as False, because losing one must not stop the appliance.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from types import TracebackType

log = logging.getLogger("appliance.service")

# systemd caps a notification at this many bytes (NOTIFY_BUFFER_MAX in sd-daemon).
_MAX_DATAGRAM = 4096


class ServiceNotifier:
    """Sends notifications to one systemd notification socket."""

    def __init__(self, address: str, *, watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec
        self._target = _socket_address(address)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._socket.setblocking(False)
        self._failing = False

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, *, pid: int | None = None
    ) -> ServiceNotifier | None:
        """The notifier systemd asked for, or None when not started as a ``Type=notify`` unit.

        ``$WATCHDOG_USEC`` turns the watchdog on; ``$WATCHDOG_PID``, when set, must be this
        process (a child that inherited the variables must not ping for its parent).
        """
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if not address:
            return None
        if not (address.startswith(("/", "@"))) or len(address) < 2:
            log.warning("NOTIFY_SOCKET=%r is not an AF_UNIX socket; not notifying systemd", address)
            return None
        return cls(address, watchdog_usec=_watchdog_usec(env, os.getpid() if pid is None else pid))

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between pings: half of systemd's timeout, as sd_watchdog_enabled(3) advises."""
        if self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2_000_000

    def ready(self, status: str | None = None) -> bool:
        """The service is up: systemd ends the start job and starts the units ordered after."""
        return self.send({"READY": "1"} | _status(status))

    def status(self, text: str) -> bool:
        """A one-line description shown by ``systemctl status``."""
        return self.send(_status(text))

    def stopping(self, status: str | None = None) -> bool:
        return self.send({"STOPPING": "1"} | _status(status))

    def watchdog(self) -> bool:
        """Keep-alive ping; systemd kills and restarts the service when pings stop."""
        return self.send({"WATCHDOG": "1"})

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time in the current start or stop phase (e.g. a long migration)."""
        return self.send({"EXTEND_TIMEOUT_USEC": str(max(int(seconds * 1_000_000), 0))})

    def send(self, fields: Mapping[str, str]) -> bool:
        datagram = "".join(f"{key}={value}\n" for key, value in fields.items()).encode()
        if not datagram:
            return True
        try:
            self._socket.sendto(datagram, self._target)
        except OSError as exc:
            # Logged once per run of failures: a vanished socket would otherwise log every ping.
            if not self._failing:
                log.warning("cannot notify systemd at %s: %s", self.address, exc.strerror or exc)
            self._failing = True
            return False
        if self._failing:
            log.info("notifying systemd at %s works again", self.address)
        self._failing = False
        return True

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> ServiceNotifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _socket_address(address: str) -> bytes:
    # A leading '@' names the abstract namespace, which the kernel spells with a NUL byte.
    if address.startswith("@"):
        return b"\0" + address[1:].encode()
    return os.fsencode(address)


def _status(text: str | None) -> dict[str, str]:
    if text is None:
        return {}
    # One line, and short enough that the whole datagram fits systemd's buffer.
    return {"STATUS": " ".join(text.split())[: _MAX_DATAGRAM // 2]}


def _watchdog_usec(env: Mapping[str, str], pid: int) -> int | None:
    raw = env.get("WATCHDOG_USEC", "")
    if not raw:
        return None
    watchdog_pid = env.get("WATCHDOG_PID", "")
    if watchdog_pid and watchdog_pid != str(pid):
        return None
    try:
        usec = int(raw)
    except ValueError:
        usec = 0
    if usec <= 0:
        log.warning("WATCHDOG_USEC=%r is not a positive integer; watchdog pings are off", raw)
        return None
    return usec
