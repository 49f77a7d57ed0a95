"""The API served inside the appliance's event loop by uvicorn.

The listening socket is opened here, so a port in use is a clear error from the appliance
rather than uvicorn ending the process; uvicorn's own signal handling is left out because the
appliance owns SIGINT/SIGTERM and stops the API as one part of its orderly shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from pathlib import Path

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("appliance.api")


class APIServerError(Exception):
    """The API cannot be served (the message says why)."""


def parse_bind(text: str) -> tuple[str, int]:
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise APIServerError(f"API bind address {text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port_text)


class APIServer:
    def __init__(
        self,
        app: FastAPI,
        bind: str,
        *,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
    ) -> None:
        self.host, self.port = parse_bind(bind)
        if (tls_cert is None) != (tls_key is None):
            raise APIServerError("TLS for the API needs both a certificate and a key file")
        self._app = app
        self._tls = (tls_cert, tls_key) if tls_cert is not None else None
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Inherited by accepted connections: a response written in two parts (headers,
            # body) must not wait for the client's delayed ACK (40 ms per request otherwise).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise APIServerError(
                f"cannot serve the API on {self.host}:{self.port}: {exc.strerror}"
            ) from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            access_log=False,
            log_level="warning",
            ssl_certfile=None if self._tls is None else str(self._tls[0]),
            ssl_keyfile=None if self._tls is None else str(self._tls[1]),
            ws="websockets-sansio",
            timeout_graceful_shutdown=2,
        )
        try:
            config.load()
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise APIServerError(f"cannot load the API's TLS certificate or key: {exc}") from None
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        self._server, self._socket = server, sock
        self._task = asyncio.create_task(server.main_loop(), name="api")

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.shutdown(sockets=None if self._socket is None else [self._socket])
        if self._socket is not None:
            self._socket.close()
        self._server = self._task = self._socket = None
