"""``appliance console --serve``: the console in a browser, through textual-serve.

Each browser connection starts its own console process. The page and its WebSocket are
behind an access token: open ``http://HOST:PORT/?token=...`` once and a cookie carries it
from then on. The API token reaches the console processes through the environment, never the
command line (where any local user could read it).
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from appliance.cli.errors import CLIUsageError
from tui.cli import TOKEN_ENV
from tui.target import Target

COOKIE = "console_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_command(target: Target) -> str:
    command = [sys.executable, "-m", "tui"]
    if target.url is not None:
        command += ["--url", target.url]
    if target.data_dir is not None:
        command += ["--data-dir", str(target.data_dir)]
    return shlex.join(command)


def _token_guard(access_token: str) -> Any:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)  # the page's scripts and fonts: nothing secret
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), access_token.encode()):
            return web.Response(
                status=401, text="the console needs its access token: open /?token=...\n"
            )
        response = await handler(request)
        if request.query.get("token") and not response.prepared:
            response.set_cookie(COOKIE, access_token, httponly=True, samesite="Strict")
        return response

    return guard


class GuardedServer(Server):
    """textual-serve's server with the token guard, bound where asked (port 0 allowed)."""

    def __init__(self, command: str, host: str, port: int, access_token: str) -> None:
        super().__init__(command, host=host, port=port, title="LoRaWAN appliance console")
        self.access_token = access_token

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[_token_guard(self.access_token)])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # The page names its WebSocket by absolute URL: use the address the browser used.
        self.public_url = f"{request.scheme}://{request.host}"
        # textual-serve's handler is wrapped by aiohttp_jinja2: it answers with the page.
        page: web.StreamResponse = await super().handle_index(request)
        return page


async def _serve(server: GuardedServer, stop: asyncio.Event) -> None:
    runner = web.AppRunner(server.make_app(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, server.host, server.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        reason = error.strerror or error
        raise CLIUsageError(f"cannot listen on {server.host}:{server.port}: {reason}") from None
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in str(host) else host
    print(
        f"console served on http://{shown}:{port}/?token={server.access_token}",
        file=sys.stderr,
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve_console(target: Target, *, host: str, port: int, access_token: str | None = None) -> int:
    if target.token is not None:
        os.environ[TOKEN_ENV] = target.token
    token = access_token or secrets.token_urlsafe(24)
    server = GuardedServer(console_command(target), host, port, token)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await _serve(server, stop)

    asyncio.run(main())
    return 0
