"""The ZeroMQ side: a SUB socket for events and a REQ socket for commands.

Only ``hal.concentratord.backend`` imports this module, and only inside ``start()``, because
pyzmq is an optional extra: ``import hal.concentratord`` works without it.
"""

from __future__ import annotations

import asyncio

import zmq
import zmq.asyncio

from hal.backend import BackendError


class Sockets:
    """One ZeroMQ context with its two sockets; ``close()`` releases all three."""

    def __init__(self, event_url: str, command_url: str) -> None:
        self._command_url = command_url
        self._context = zmq.asyncio.Context()
        self._closed = False
        # REQ/REP strictly alternates send and receive: one command at a time.
        self._lock = asyncio.Lock()
        try:
            self._events = self._socket(zmq.SUB, event_url, "event_url")
            self._events.setsockopt(zmq.SUBSCRIBE, b"")
            self._commands = self._socket(zmq.REQ, command_url, "command_url")
        except BaseException:
            self._context.destroy(linger=0)
            raise

    def _socket(self, kind: int, url: str, option: str) -> zmq.asyncio.Socket:
        sock = self._context.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)  # never keep the process alive for unsent commands
        try:
            sock.connect(url)
        except zmq.ZMQError as error:
            sock.close(linger=0)
            raise BackendError(f"concentratord: cannot connect {option} {url!r}: {error}") from None
        return sock

    async def receive_event(self) -> list[bytes]:
        return await self._events.recv_multipart()

    async def request(self, frames: list[bytes], timeout_s: float) -> list[bytes] | None:
        """Send a command and wait for its reply; None after ``timeout_s`` or once closed.

        A REQ socket whose reply was lost refuses to send again, so after a timeout (or any
        socket error) it is replaced by a fresh one; a late reply then goes to the closed
        socket and is dropped.
        """
        async with self._lock:
            if self._closed:
                return None
            try:
                async with asyncio.timeout(timeout_s):
                    await self._commands.send_multipart(frames)
                    return await self._commands.recv_multipart()
            except (TimeoutError, zmq.ZMQError):
                self._replace_command_socket()
                return None
            except asyncio.CancelledError:
                # The caller gave up mid-command; the next one must not inherit a socket that
                # still waits for this reply.
                self._replace_command_socket()
                raise

    def _replace_command_socket(self) -> None:
        self._commands.close(linger=0)
        self._commands = self._socket(zmq.REQ, self._command_url, "command_url")

    async def close(self) -> None:
        """Close after the command in flight (if any) is answered or times out."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            self._events.close(linger=0)
            self._commands.close(linger=0)
            self._context.term()
