"""An MQTT broker as a delivery target: ChirpStack's topics and payloads (or a cloud
preset's), and the downlink commands that arrive on the same connection.

One connection per target, re-established with doubling waits when it fails. Publishes of a
batch go out together (up to ``PUBLISH_WINDOW`` awaiting their PUBACK) and the batch counts
as delivered up to the first message the broker did not acknowledge; the rest goes again on
the next connection. With QoS 0 a message counts as delivered once written to the socket:
only QoS 1 or 2 lets the outbox guarantee a broker has it.

Commands are handled one at a time in arrival order (so a device's downlinks keep their
order); a bad one is counted and reported, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import aiomqtt
import paho.mqtt.client as mqtt

from appliance.app.events import EventBuildError, EventKind
from appliance.integrations.courier import Progress, TargetStats
from appliance.integrations.downlink import parse_downlink_command
from appliance.integrations.errors import DownlinkCommandError
from appliance.integrations.hooks import Enqueue
from appliance.integrations.mqtt_config import Encoding, MQTTConfig
from appliance.integrations.queue import Entry
from appliance.integrations.reporting import Reporter
from appliance.integrations.tls import LinkError, close_quietly, link_error, tls_context
from appliance.lorawan.identifiers import EUI64

log = logging.getLogger("appliance.integrations")

# Messages handed over per batch: only the last is awaited through aiomqtt (``_publish_all``),
# so a large batch costs little per message; at 64 the courier's per-batch work (outbox read,
# settling) made MQTT the bottleneck of the whole appliance above about 2,000 uplinks/s.
PUBLISH_WINDOW: Final = 256
_INCOMING_QUEUE: Final = 256  # commands waiting to be handled; beyond, the client drops them


class MQTTTarget:
    kind = "mqtt"
    batch_size = PUBLISH_WINDOW

    def __init__(
        self,
        name: str,
        config: MQTTConfig,
        *,
        application_id: uuid.UUID | None,
        enqueue: Enqueue,
        reporter: Reporter,
        stats: TargetStats | None = None,
        clock_s: Callable[[], float] = time.time,
        wait: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self.config = config
        self.application_id = application_id  # None: the global integration (every app)
        self._enqueue = enqueue
        self._reporter = reporter
        self.stats = stats or TargetStats()
        self.stats.connected = False
        self._clock_s = clock_s
        self._wait = wait
        self._topics = config.topics()
        self._client_id = config.client_id or f"appliance-{secrets.token_hex(6)}"
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._broken = asyncio.Event()
        self._lost: asyncio.Future[None] | None = None
        self._delivering = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._credentials_now: tuple[str | None, str | None, float | None] = (None, None, None)

    @property
    def destination(self) -> str:
        return self.config.url

    # --- the connection -------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._connect_loop(), name=f"mqtt {self.name}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.stats.connected = False

    async def ready(self) -> None:
        await self._connected.wait()

    async def _connect_loop(self) -> None:
        config = self.config
        delay = config.reconnect_min_s
        while True:
            try:
                renewing = await self._session()
            except LinkError as error:
                self.stats.errors[error.kind] += 1
                self.stats.last_error = str(error)
                log.warning(
                    "integration %s: %s %s; retrying in %g s",
                    self.name,
                    config.url,
                    error,
                    delay,
                )
                await self._wait(delay)
                delay = min(delay * 2, config.reconnect_max_s)
                continue
            delay = config.reconnect_min_s
            if not renewing:
                await self._wait(delay)

    def _credentials(self) -> tuple[str | None, str | None, float | None]:
        """User name, password, and when the connection must be renewed (SAS tokens)."""
        config = self.config
        azure = config.azure
        if azure is not None:
            if not azure.shared_access_key:
                return azure.username, None, None
            token, expiry = azure.token(self._clock_s())
            return azure.username, token, azure.renew_at(expiry)
        return config.username or None, config.password or None, None

    def _new_client(self, tls: Any) -> aiomqtt.Client:
        config = self.config
        username, password, _ = self._credentials_now
        client = aiomqtt.Client(
            config.host,
            config.port,
            username=username,
            password=password,
            identifier=self._client_id,
            clean_session=True,
            keepalive=config.keepalive_s,
            timeout=config.timeout_s,
            tls_context=tls,
            max_queued_incoming_messages=_INCOMING_QUEUE,
            max_inflight_messages=PUBLISH_WINDOW,
            # Small publishes must not wait for Nagle's algorithm.
            socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
        )
        client.pending_calls_threshold = PUBLISH_WINDOW * 2  # a full window is by design
        return client

    async def _session(self) -> bool:
        """One connection, until it fails (``LinkError``) or its token needs renewing
        (returns True)."""
        config = self.config
        tls = None
        if config.tls:
            try:
                tls = tls_context(config.ca_cert, config.tls_cert, config.tls_key)
            except ValueError as error:
                raise LinkError("tls", str(error)) from None
        try:
            self._credentials_now = self._credentials()
        except ValueError as error:
            raise LinkError("auth", str(error)) from None
        client = self._new_client(tls)
        try:
            async with client:
                return await self._connected_session(client)
        except (aiomqtt.MqttError, OSError) as error:
            raise link_error(error) from None
        finally:
            close_quietly(tls)

    async def _connected_session(self, client: aiomqtt.Client) -> bool:
        config = self.config
        if config.downlinks:
            await client.subscribe(
                self._topics.command_filter(self.application_id), qos=max(config.qos, 1)
            )
        loop = asyncio.get_running_loop()
        self._lost = loop.create_future()
        self._broken.clear()
        self._client = client
        self.stats.connects += 1
        self.stats.connected = True
        self._connected.set()
        log.info("integration %s: connected to %s", self.name, config.url)
        tasks = [
            asyncio.create_task(self._read_commands(client)),
            asyncio.create_task(self._broken.wait()),
        ]
        renew_at = self._credentials_now[2]
        if renew_at is not None:
            tasks.append(asyncio.create_task(self._until(renew_at)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if tasks[0] in done:
                tasks[0].result()  # raises why the connection ended
            if tasks[1] in done:
                raise LinkError("timeout", "the broker stopped acknowledging messages")
            # The token is about to expire: finish the batch on the wire, then reconnect.
            async with self._delivering:
                self._connected.clear()
                self._client = None
            log.info("integration %s: renewing the SAS token", self.name)
            return True
        finally:
            self._connected.clear()
            self._client = None
            self.stats.connected = False
            if not self._lost.done():
                self._lost.set_result(None)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _until(self, when_s: float) -> None:
        await self._wait(max(0.0, when_s - self._clock_s()))

    # --- commands ---------------------------------------------------------------------------

    async def _read_commands(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            await self._command(str(message.topic), message.payload)
        raise LinkError("closed", "the broker closed the connection")

    async def _command(self, topic: str, payload: object) -> None:
        application_id: uuid.UUID | None = None
        dev_eui: EUI64 | None = None
        try:
            address = self._topics.command(topic)
            application_id, dev_eui = address.application_id, address.dev_eui
            if self.application_id is not None and application_id != self.application_id:
                raise DownlinkCommandError(
                    "wrong_application", f"the topic names application {application_id}"
                )
            if not isinstance(payload, bytes | bytearray):
                raise DownlinkCommandError("malformed", "the payload is not bytes")
            command = parse_downlink_command(
                application_id,
                dev_eui,
                bytes(payload),
                encoding=self.config.encoding.value,
                max_bytes=self.config.max_command_bytes,
            )
            dev_eui = command.dev_eui
            assert application_id is not None  # both layouts name it or refuse the topic
            await self._enqueue(application_id, command.dev_eui, command.to_dict())
        except DownlinkCommandError as error:
            self._rejected(error.reason, str(error), application_id, dev_eui)
            return
        except ValueError as error:  # the queue refused it (unknown device, codec...)
            self._rejected("refused", str(error), application_id, dev_eui)
            return
        except Exception as error:
            log.exception("integration %s: downlink command failed", self.name)
            self._rejected("failed", f"{type(error).__name__}: {error}", application_id, dev_eui)
            return
        self.stats.commands_accepted += 1

    def _rejected(
        self,
        reason: str,
        detail: str,
        application_id: uuid.UUID | None,
        dev_eui: EUI64 | None,
    ) -> None:
        self.stats.commands_rejected[reason] += 1
        self._reporter(
            f"command/{self.name}/{reason}",  # a flood of bad commands is not a flood of reports
            f"MQTT downlink command rejected ({reason}): {detail}",
            application_id=application_id,
            dev_eui=dev_eui,
        )

    # --- events -----------------------------------------------------------------------------

    def _message(self, entry: Entry) -> tuple[str, bytes]:
        record = entry.event()
        json = self.config.encoding is Encoding.JSON
        payload = record.json().encode() if json else entry.body
        if len(payload) > self.config.max_message_bytes:
            raise ValueError(
                f"{len(payload)} bytes exceed max_message_bytes={self.config.max_message_bytes}"
            )
        topic = self._topics.event(EventKind(entry.kind), record.application_id, record.dev_eui)
        return topic, payload

    async def _publish_all(
        self,
        client: aiomqtt.Client,
        lost: asyncio.Future[None],
        messages: list[tuple[int, str, bytes]],
        refused: dict[int, str],
        entries: Sequence[Entry],
    ) -> tuple[int, BaseException | None]:
        """Publish ``messages``; how many ``entries`` count as delivered (in order, refused
        ones included), and why the first one that is not failed, if known."""
        config = self.config
        found = getattr(client, "_client", None)
        paho = found if isinstance(found, mqtt.Client) else None
        # aiomqtt waits for each message on its own (a task, an event, a scan of every pending
        # call: most of the CPU a published event cost). paho writes a batch in order and the
        # broker acknowledges QoS 1 in order (MQTT 3.1.1, 4.6), so once the batch's last
        # message is through, so are the others: only that one is awaited, the others are
        # handed to paho directly and checked afterwards.
        direct = messages[:-1] if paho is not None else []
        infos: dict[int, mqtt.MQTTMessageInfo] = {}
        failure: BaseException | None = None
        for index, topic, payload in direct:
            assert paho is not None
            info = paho.publish(topic, payload, qos=config.qos, retain=config.retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                failure = aiomqtt.MqttCodeError(info.rc, "Could not publish message")
                break
            infos[index] = info
        awaited = messages[len(infos) :] if failure is None else []
        tasks = {
            index: asyncio.create_task(
                # One deadline for the batch (below), not a timer for each message.
                client.publish(
                    topic, payload, qos=config.qos, retain=config.retain, timeout=math.inf
                )
            )
            for index, topic, payload in awaited
        }
        if tasks:
            every: asyncio.Future[Any] = asyncio.gather(*tasks.values(), return_exceptions=True)
            try:
                waits: set[asyncio.Future[Any]] = {every, lost}
                await asyncio.wait(
                    waits, timeout=config.timeout_s, return_when=asyncio.FIRST_COMPLETED
                )
            finally:  # also when the courier is stopped meanwhile: no publish outlives it
                if not every.done():
                    for task in tasks.values():
                        task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await every
        settled = 0
        for index in range(len(entries)):
            if index in refused:
                settled += 1
                continue
            sent = infos.get(index)
            if sent is not None:
                if not sent.is_published():
                    break
                settled += 1
                continue
            publish = tasks.get(index)
            if publish is not None and not publish.cancelled() and publish.exception() is None:
                settled += 1
                continue
            if publish is not None and not publish.cancelled():
                failure = publish.exception()
            break
        return settled, failure

    async def deliver(self, entries: Sequence[Entry]) -> Progress:
        client, lost = self._client, self._lost
        if client is None or lost is None or lost.done():
            return Progress(0, error="not connected", error_kind="closed", backoff=False)
        refused: dict[int, str] = {}
        messages: list[tuple[int, str, bytes]] = []
        for index, entry in enumerate(entries):
            try:
                topic, payload = self._message(entry)
            except EventBuildError as error:
                refused[index] = f"the stored event cannot be read: {error}"
                continue
            except ValueError as error:
                refused[index] = f"too large for the broker: {error}"
                continue
            messages.append((index, topic, payload))
        async with self._delivering:
            settled, failure = await self._publish_all(client, lost, messages, refused, entries)
        progress = Progress(
            settled,
            [(entries[index], reason) for index, reason in refused.items() if index < settled],
        )
        if settled < len(entries):
            self._broken.set()  # the connection is not trusted any more: reconnect
            self._connected.clear()
            if failure is not None:
                problem = link_error(failure)
            elif lost.done():
                problem = LinkError("closed", "connection lost")
            else:
                problem = LinkError("timeout", f"no PUBACK within {self.config.timeout_s:g} s")
            progress.error = f"publish failed: {problem}"
            progress.error_kind = problem.kind
            progress.backoff = False
        return progress
