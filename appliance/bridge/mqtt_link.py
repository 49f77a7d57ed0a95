"""The appliance as a ChirpStack MQTT Forwarder: one MQTT connection per gateway ID.

One connection per gateway because MQTT gives a connection one last will, and each gateway
needs its own retained ``state/conn`` OFFLINE when the appliance vanishes. Uplinks are
published with the configured QoS and a batch counts as sent only when the broker has
acknowledged every message of it (QoS 1 and 2), so a broker that dies mid-batch loses nothing:
the unacknowledged frames are spooled and sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Final

import aiomqtt

from appliance.bridge.config import MQTTSettings
from appliance.bridge.counters import BridgeCounters, Reporter
from appliance.bridge.link import CommandSink, LinkError, first_to_finish
from appliance.bridge.mqtt_codec import CommandError, PayloadCodec, Topics
from appliance.bridge.outbox import UpstreamUplink
from appliance.lorawan.identifiers import EUI64
from appliance.mqtt_failures import describe_failure
from hal.model import DownlinkFrame, DownlinkTxAck, GatewayConfiguration, GatewayStats, TxAckStatus
from hal.proto import ProtoConversionError

PUBLISH_WINDOW: Final = 256  # messages awaiting PUBACK per connection (the bridge keeps 8 x 32)
_INCOMING_QUEUE: Final = 256  # commands waiting to be read; beyond, the client drops (bounded)
_MAX_DOWNLINKS: Final = 32  # commands being transmitted at once; beyond: QUEUE_FULL


def link_error(error: BaseException) -> LinkError:
    """The ``LinkError`` (with its metrics kind) of an aiomqtt or socket failure."""
    return LinkError(*describe_failure(error, fallback="connection failed"))


class MQTTLink:
    def __init__(
        self,
        settings: MQTTSettings,
        gateway_ids: Sequence[EUI64],
        *,
        counters: BridgeCounters,
        reporter: Reporter,
    ) -> None:
        self.settings = settings
        self.gateway_ids = tuple(gateway_ids)
        self.topics = Topics(settings.topic_prefix)
        self.codec = PayloadCodec(settings.encoding)
        self.counters = counters
        self.reporter = reporter

    def describe(self) -> str:
        scheme = "mqtts" if self.settings.tls else "mqtt"
        return f"mqtt {scheme}://{self.settings.host}:{self.settings.port}"

    def _tls_context(self) -> _TrackingTLSContext | None:
        settings = self.settings
        if not settings.tls:
            return None
        try:
            context = _TrackingTLSContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies cert and host name
            if settings.ca_cert is None:
                context.load_default_certs()
            else:
                context.load_verify_locations(cafile=str(settings.ca_cert))
            if settings.tls_cert is not None and settings.tls_key is not None:
                context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
        except (OSError, ssl.SSLError, ValueError) as error:
            raise LinkError("tls", f"cannot load the TLS files: {error}") from None
        return context

    def _client(self, gateway_id: EUI64, tls: ssl.SSLContext | None) -> aiomqtt.Client:
        settings = self.settings
        if not settings.client_id:
            identifier = f"appliance-{gateway_id}"
        elif len(self.gateway_ids) == 1:
            identifier = settings.client_id
        else:
            identifier = f"{settings.client_id}-{gateway_id}"
        client = aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username or None,
            password=settings.password or None,
            identifier=identifier,
            will=aiomqtt.Will(
                self.topics.state(gateway_id),
                self.codec.conn_state(gateway_id, online=False),
                qos=1,
                retain=True,
            ),
            clean_session=True,
            timeout=settings.timeout_s,
            keepalive=settings.keepalive_s,
            max_queued_incoming_messages=_INCOMING_QUEUE,
            max_inflight_messages=PUBLISH_WINDOW,
            tls_context=tls,
            # Small publishes must not wait for Nagle's algorithm: a replay is latency-bound.
            socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
        )
        # aiomqtt warns past 10 pending calls; a publish window is that by design.
        client.pending_calls_threshold = PUBLISH_WINDOW * 2
        return client

    @asynccontextmanager
    async def session(self, commands: CommandSink) -> AsyncIterator[MQTTSession]:
        try:
            async with AsyncExitStack() as stack:
                clients: dict[EUI64, aiomqtt.Client] = {}
                for gateway_id in self.gateway_ids:
                    tls = self._tls_context()  # one per connection: see _TrackingTLSContext
                    client = self._client(gateway_id, tls)
                    try:
                        await stack.enter_async_context(client)
                    except BaseException:
                        if tls is not None:
                            tls.close_sockets()
                        raise
                    clients[gateway_id] = client
                session = MQTTSession(self, clients, commands)
                stack.push_async_callback(session.cancel_commands)
                await session.announce()
                yield session
        except (aiomqtt.MqttError, OSError) as error:
            raise link_error(error) from None


class _TrackingTLSContext(ssl.SSLContext):
    """Remembers the sockets it wraps: paho leaves a socket open when the TLS handshake fails
    (it never gets to own it), so the failed connection's socket is closed here."""

    _opened: list[ssl.SSLSocket]

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        wrapped = super().wrap_socket(*args, **kwargs)
        if not hasattr(self, "_opened"):
            self._opened = []
        self._opened.append(wrapped)
        return wrapped

    def close_sockets(self) -> None:
        for sock in getattr(self, "_opened", ()):
            sock.close()


class MQTTSession:
    def __init__(
        self, link: MQTTLink, clients: dict[EUI64, aiomqtt.Client], commands: CommandSink
    ) -> None:
        self._link = link
        self._clients = clients
        self._commands = commands
        self._qos = link.settings.qos
        self._topics = link.topics
        self._codec = link.codec
        self._tasks: set[asyncio.Task[None]] = set()

    async def announce(self) -> None:
        for gateway_id, client in self._clients.items():
            state = self._codec.conn_state(gateway_id, online=True)
            await client.publish(self._topics.state(gateway_id), state, qos=1, retain=True)
            await client.subscribe(self._topics.commands(gateway_id), qos=max(self._qos, 1))

    async def say_goodbye(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            for gateway_id, client in self._clients.items():
                state = self._codec.conn_state(gateway_id, online=False)
                await client.publish(self._topics.state(gateway_id), state, qos=1, retain=True)

    async def send_uplinks(self, uplinks: Sequence[UpstreamUplink]) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for uplink in uplinks:
                    gateway_id = uplink.gateway_id
                    group.create_task(
                        self._clients[gateway_id].publish(
                            self._topics.event(gateway_id, "up"),
                            self._codec.uplink(uplink),
                            qos=self._qos,
                        )
                    )
        except* (aiomqtt.MqttError, OSError) as group_error:
            raise link_error(group_error.exceptions[0]) from None

    async def send_stats(self, stats: GatewayStats) -> None:
        client = self._clients.get(stats.gateway_id)
        if client is None:
            return
        try:
            payload = self._codec.stats(stats)
        except ProtoConversionError as error:
            self._link.counters.dropped["stats_unencodable"] += 1
            self._link.reporter.report("warning", "stats_unencodable", f"stats: {error}")
            return
        try:
            await client.publish(
                self._topics.event(stats.gateway_id, "stats"), payload, qos=self._qos
            )
        except (aiomqtt.MqttError, OSError) as error:
            raise link_error(error) from None

    async def serve(self) -> None:
        await first_to_finish(
            *(self._read(gateway_id, client) for gateway_id, client in self._clients.items())
        )

    async def _read(self, gateway_id: EUI64, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                self._handle(gateway_id, client, str(message.topic), message.payload)
        except aiomqtt.MqttError as error:
            raise link_error(error) from None
        raise LinkError("closed", "the broker closed the connection")

    def _reject(self, kind: str, reason: str, detail: str) -> None:
        self._link.counters.commands_rejected[reason] += 1
        self._link.reporter.report(
            "warning", "command_rejected", f"{kind} command rejected ({reason}): {detail}"
        )

    def _handle(
        self, gateway_id: EUI64, client: aiomqtt.Client, topic: str, payload: object
    ) -> None:
        kind = self._topics.command_kind(topic, gateway_id)
        if kind is None:
            self._reject("unknown", "unknown_command", f"unexpected topic {topic[:120]!r}")
            return
        if not isinstance(payload, bytes | bytearray):
            self._reject(kind, "malformed", "payload is not bytes")
            return
        limit = self._link.settings.max_command_bytes
        if len(payload) > limit:
            self._reject(kind, "oversized", f"{len(payload)} bytes exceed {limit}")
            return
        try:
            if kind == "down":
                frame = self._codec.downlink(bytes(payload), gateway_id)
                self._spawn(self._downlink(gateway_id, client, frame))
            elif kind == "config":
                configuration = self._codec.configuration(bytes(payload), gateway_id)
                self._spawn(self._configure(configuration))
            else:
                self._reject(kind, "unknown_command", f"{kind!r} is not supported")
        except CommandError as error:
            self._reject(kind, error.reason, str(error))
        except ValueError as error:  # a value the model refuses (e.g. a bandwidth)
            self._reject(kind, "malformed", str(error))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _downlink(
        self, gateway_id: EUI64, client: aiomqtt.Client, frame: DownlinkFrame
    ) -> None:
        if len(self._tasks) > _MAX_DOWNLINKS:
            ack = DownlinkTxAck(
                frame.gateway_id, frame.downlink_id, (TxAckStatus.QUEUE_FULL,) * len(frame.items)
            )
            self._link.counters.commands_rejected["busy"] += 1
        else:
            ack = await self._commands.downlink(frame)
        try:
            await client.publish(
                self._topics.event(gateway_id, "ack"), self._codec.tx_ack(ack), qos=self._qos
            )
        except (aiomqtt.MqttError, OSError, ProtoConversionError) as error:
            self._link.reporter.report(
                "warning", "ack_lost", f"TX ack of downlink {frame.downlink_id} not sent: {error}"
            )
            return
        self._link.counters.tx_acks_sent += 1

    async def _configure(self, configuration: GatewayConfiguration) -> None:
        self._link.counters.configurations += 1
        await self._commands.configure(configuration)

    async def cancel_commands(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
