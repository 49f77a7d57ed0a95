"""A stand-in for systemd's end of the notification socket: a real AF_UNIX datagram socket."""

from __future__ import annotations

import socket


class NotifyListener:
    """What systemd does: bind a datagram socket and read one notification per datagram."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        bind_to = "\0" + address[1:] if address.startswith("@") else address
        self.socket.bind(bind_to)
        self.socket.settimeout(5)

    def receive(self) -> dict[str, str]:
        datagram = self.socket.recv(4096).decode()
        assert datagram.endswith("\n"), datagram
        return dict(line.split("=", 1) for line in datagram.splitlines())

    def nothing_pending(self) -> bool:
        self.socket.setblocking(False)
        try:
            self.socket.recv(4096)
        except BlockingIOError:
            return True
        finally:
            self.socket.settimeout(5)
        return False
