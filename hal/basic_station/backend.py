"""The asyncio adapter: a WebSocket server that runs one ``StationSession`` per station.

Thin by design: it moves texts between sockets and sessions, keeps the event queue, and turns a
session's deadlines into asyncio timeouts. Every protocol decision lives in the sans-IO modules.
One station's misbehaviour (floods, garbage, stalls) costs only its own connection task: the
event queue never blocks a reader, and replies are awaited per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import random
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendError
from hal.basic_station.channels import UpChannel, channels_from_configuration
from hal.basic_station.datarates import StationDataRates
from hal.basic_station.discovery import (
    ROUTER_INFO_PATH,
    answer_router_info,
    gateway_from_path,
    safe_host,
)
from hal.basic_station.downlink import refused
from hal.basic_station.eui import parse_eui
from hal.basic_station.options import BasicStationOptions
from hal.basic_station.router_config import station_knows_region
from hal.basic_station.session import (
    Reply,
    SessionConfig,
    StationInfo,
    StationSession,
    Unacknowledged,
)
from hal.basic_station.sx1301 import sx1301_conf
from hal.basic_station.timing import NS_PER_S, unix_ns_to_gps_ns
from hal.model import (
    BackendEvent,
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    TxAckStatus,
    UplinkFrame,
)

logger = logging.getLogger(__name__)

NAME: Final = "basic-station"
ROUTER_INFO_TIMEOUT_S: Final = 10.0
MESSAGE_TOO_BIG: Final = 1009  # the close code websockets sends when max_size is exceeded


@dataclass(eq=False, slots=True)
class _Link:
    session: StationSession
    connection: ServerConnection
    waiters: dict[int, asyncio.Future[DownlinkTxAck]] = field(default_factory=dict)


def _peer_common_name(connection: ServerConnection) -> str | None:
    certificate = connection.transport.get_extra_info("peercert")
    if not certificate:
        return None
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


class BasicStationBackend:
    """LoRa Basics Station LNS endpoint (``/router-info`` and ``/gateway/<id>``)."""

    def __init__(
        self,
        options: BasicStationOptions,
        *,
        clock: Callable[[], int] = time.time_ns,
        gps_clock: Callable[[], int] | None = None,
    ) -> None:
        self._options = options
        self._clock = clock
        self._gps_clock = gps_clock or (lambda: unix_ns_to_gps_ns(self._clock()))
        self._rates = StationDataRates(options.region)
        self._drops: Counter[str] = Counter()
        self._events: asyncio.Queue[BackendEvent | None] = asyncio.Queue()
        self._links: dict[EUI64, _Link] = {}
        self._channels: dict[EUI64, tuple[UpChannel, ...]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self._scheme = "wss" if options.tls_cert else "ws"

    @property
    def name(self) -> str:
        return NAME

    @property
    def port(self) -> int:
        """The port actually bound (useful with ``bind = "127.0.0.1:0"``)."""
        if self._server is None:
            raise BackendError("basic-station backend is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def drop_counts(self) -> Mapping[str, int]:
        """Messages dropped so far, by reason (see docs/basic-station.md)."""
        return dict(self._drops)

    @property
    def connected_gateways(self) -> frozenset[EUI64]:
        return frozenset(self._links)

    def station_info(self, gateway_id: EUI64) -> StationInfo | None:
        link = self._links.get(gateway_id)
        return None if link is None else link.session.info

    def _ssl_context(self) -> ssl.SSLContext | None:
        options = self._options
        if options.tls_cert is None or options.tls_key is None:
            return None
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(options.tls_cert, options.tls_key)
            if options.tls_client_ca is not None:
                context.load_verify_locations(options.tls_client_ca)
                context.verify_mode = ssl.CERT_REQUIRED
        except (OSError, ssl.SSLError) as exc:
            raise BackendError(f"basic-station TLS set-up failed: {exc}") from exc
        return context

    async def start(self) -> None:
        if self._server is not None:
            raise BackendError("basic-station backend already started")
        if not station_knows_region(self._options.region):
            logger.warning(
                "Basics Station 2.0.6 does not know region %s: it will forward uplinks but "
                "drop every downlink",
                self._options.region.name,
            )
        options = self._options
        try:
            self._server = await serve(
                self._handler,
                options.host,
                options.port,
                process_request=self._process_request,
                max_size=options.max_message_bytes,
                compression=None,  # Station does not negotiate it; no inflate bombs either
                ssl=self._ssl_context(),
            )
        except OSError as exc:
            raise BackendError(
                f"basic-station cannot listen on {options.host}:{options.port}: {exc}"
            ) from exc

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._events.put_nowait(None)

    async def events(self) -> AsyncIterator[BackendEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    def _refusal(
        self, gateway_id: EUI64, authorization: str | None, connection: ServerConnection
    ) -> tuple[HTTPStatus, str] | None:
        options = self._options
        if not options.admits(gateway_id):
            return HTTPStatus.FORBIDDEN, f"gateway {gateway_id} is not allowed here"
        if options.tokens is not None:
            expected = options.tokens[gateway_id].encode()
            if not hmac.compare_digest(expected, (authorization or "").encode()):
                return HTTPStatus.UNAUTHORIZED, "wrong or missing Authorization header"
        if options.tls_client_ca is not None:
            common_name = _peer_common_name(connection)
            try:
                matches = common_name is not None and parse_eui(common_name) == gateway_id
            except InvalidValueError:
                matches = False
            if not matches:
                return HTTPStatus.FORBIDDEN, f"client certificate is not for gateway {gateway_id}"
        return None

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == ROUTER_INFO_PATH:
            return None
        gateway_id = gateway_from_path(path)
        if gateway_id is None:
            self._drops["bad_path"] += 1
            return connection.respond(HTTPStatus.NOT_FOUND, "use /router-info or /gateway/<eui>\n")
        refusal = self._refusal(gateway_id, request.headers.get("Authorization"), connection)
        if refusal is not None:
            self._drops["refused_connection"] += 1
            logger.warning("station %s refused: %s", gateway_id, refusal[1])
            return connection.respond(refusal[0], refusal[1] + "\n")
        return None

    async def _handler(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None  # the handshake has completed
        path = request.path.split("?", 1)[0]
        if path == ROUTER_INFO_PATH:
            await self._router_info(connection, request.headers)
            return
        gateway_id = gateway_from_path(path)
        assert gateway_id is not None  # _process_request refused every other path
        await self._serve_station(connection, gateway_id)

    async def _router_info(self, connection: ServerConnection, headers: Headers) -> None:
        local_host, local_port = connection.local_address[:2]
        if ":" in local_host:
            local_host = f"[{local_host}]"
        host = safe_host(headers.get("Host"), f"{local_host}:{local_port}")
        base_uri = f"{self._scheme}://{host}"
        authorization = headers.get("Authorization")

        def refuse(gateway_id: EUI64) -> str | None:
            refusal = self._refusal(gateway_id, authorization, connection)
            return None if refusal is None else refusal[1]

        try:
            text = await asyncio.wait_for(connection.recv(), ROUTER_INFO_TIMEOUT_S)
            answer = answer_router_info(text, base_uri=base_uri, refuse=refuse)
            logger.info("router-info for %s: %s", answer.gateway_id, answer.text)
            await connection.send(answer.text)
        except (TimeoutError, ConnectionClosed):
            self._drops["router_info_abandoned"] += 1

    def _session_config(self, gateway_id: EUI64) -> SessionConfig:
        options = self._options
        return SessionConfig(
            rates=self._rates,
            channels=self._channels.get(gateway_id, options.channels),
            settings=options.settings,
            tx_ack_timeout_ns=round(options.tx_ack_timeout_s * NS_PER_S),
            rate_limit_per_s=options.rate_limit_per_s,
            max_pending_downlinks=options.max_pending_downlinks,
            gps_timed_as_dnsched=options.gps_timed_downlinks == "dnsched",
        )

    async def _serve_station(self, connection: ServerConnection, gateway_id: EUI64) -> None:
        session = StationSession(
            gateway_id,
            self._session_config(gateway_id),
            now_ns=self._clock(),
            drops=self._drops,
            first_uplink_id=random.getrandbits(32),
        )
        link = _Link(session, connection)
        previous = self._links.get(gateway_id)
        if previous is not None:
            # A station reconnecting after a network outage: the old socket may be half-open,
            # so the newcomer wins and the old connection is closed without waiting for it.
            self._finish(previous, "replaced by a new connection")
            self._spawn(previous.connection.close(1000, "replaced by a new connection"))
        self._links[gateway_id] = link
        remote = ":".join(str(part) for part in connection.remote_address[:2])
        self._events.put_nowait(GatewayConnected(gateway_id, NAME, remote))
        logger.info("station %s connected from %s", gateway_id, remote)
        reason = "closed"
        try:
            async for data in connection:
                if isinstance(data, str):
                    await self._receive(link, data)
                else:
                    session.receive_binary()
        except ConnectionClosed as exc:
            if exc.sent is not None and exc.sent.code == MESSAGE_TOO_BIG:
                self._drops["oversized"] += 1
            reason = str(exc)
        else:
            reason = str(connection.close_reason or "closed")
        finally:
            if self._links.get(gateway_id) is link:
                self._finish(link, reason)

    def _finish(self, link: _Link, reason: str) -> None:
        """Forget a connection: fail its pending downlinks and report the gateway gone."""
        gateway_id = link.session.gateway_id
        del self._links[gateway_id]
        for ack in link.session.close():
            self._resolve(link, ack)
        self._events.put_nowait(GatewayDisconnected(gateway_id, NAME, reason))
        logger.info("station %s disconnected: %s", gateway_id, reason)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _receive(self, link: _Link, text: str) -> None:
        try:
            outputs = link.session.receive_text(text, self._clock(), self._gps_clock())
        except Exception:  # a bug must cost one message, not the station's connection
            logger.exception("station %s: message handling failed", link.session.gateway_id)
            self._drops["internal_error"] += 1
            return
        for output in outputs:
            if isinstance(output, Reply):
                await link.connection.send(output.text)
            elif isinstance(output, UplinkFrame):
                if self._events.qsize() >= self._options.max_queue:
                    self._drops["queue_full"] += 1
                else:
                    self._events.put_nowait(output)
            else:
                self._resolve(link, output)

    @staticmethod
    def _resolve(link: _Link, ack: DownlinkTxAck) -> None:
        waiter = link.waiters.pop(ack.downlink_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)

    async def send_downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        link = self._links.get(frame.gateway_id)
        if link is None:
            self._drops["downlink_not_connected"] += 1
            return refused(frame, TxAckStatus.INTERNAL_ERROR)
        now = self._clock()
        result = link.session.send_downlink(frame, now, self._gps_clock())
        if isinstance(result, DownlinkTxAck):
            return result
        if isinstance(result, Unacknowledged):
            try:
                await link.connection.send(result.reply.text)
            except ConnectionClosed:
                return refused(frame, TxAckStatus.INTERNAL_ERROR)
            return result.ack
        waiter = asyncio.get_running_loop().create_future()
        link.waiters[frame.downlink_id] = waiter
        deadline = link.session.deadline_of(frame.downlink_id)
        assert deadline is not None
        # If the connection is closing, its handler fails every pending downlink as it ends.
        with contextlib.suppress(ConnectionClosed):
            await link.connection.send(result.text)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), (deadline - now) / NS_PER_S)
        except TimeoutError:
            # The session's deadline has come: let it decide what is overdue, at that time.
            for ack in link.session.expire(deadline):
                self._resolve(link, ack)
            link.waiters.pop(frame.downlink_id, None)
            return waiter.result() if waiter.done() else refused(frame, TxAckStatus.TOO_LATE)

    async def configure(self, configuration: GatewayConfiguration) -> None:
        """Listen on the configuration's channels from now on (a connected station at once)."""
        try:
            channels = channels_from_configuration(configuration, self._rates)
            sx1301_conf(channels, self._rates)  # refuse what one SX1301 cannot hear
        except InvalidValueError as exc:
            raise BackendError(f"gateway {configuration.gateway_id}: {exc}") from exc
        self._channels[configuration.gateway_id] = channels
        link = self._links.get(configuration.gateway_id)
        if link is not None:
            reply = link.session.reconfigure(channels, self._clock())
            with contextlib.suppress(ConnectionClosed):  # else it gets them on reconnecting
                await link.connection.send(reply.text)
