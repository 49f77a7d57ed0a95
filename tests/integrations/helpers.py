"""Events, clocks, an MQTT subscriber and small local servers shared by the integration
tests. Events are built with the application server's own builders from real frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt

from appliance.app.events import (
    DeviceClass,
    DeviceInfo,
    EventRecord,
    LogCode,
    LogLevel,
    log_event,
    status_event,
    uplink_event,
)
from appliance.integrations import IntegrationManager, MQTTConfig, OutboxLimits
from appliance.lorawan import security
from appliance.lorawan.frames import FCtrl
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.mac.events import DeviceStatus
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import LoRaModulation, UplinkRxInfo, UplinkTxInfo

APP = uuid.UUID("17c82e96-1b8a-4f34-9b2b-6b1f1c3d0a11")
OTHER_APP = uuid.UUID("28d93fa7-2c9b-4045-8c3c-7c2a2d4e1b22")
PROFILE = uuid.UUID("14855bf7-d10d-4aee-b618-ebfcb64dc7ad")
DEVICES = (EUI64("0101010101010101"), EUI64("0202020202020202"), EUI64("0303030303030303"))
GATEWAY = EUI64("0016c001f153a14c")
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
S = 1_000_000_000
WAIT_S = 20.0  # only reached when a test fails
_KEYS = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
_TX = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7))


def device(dev_eui: EUI64 = DEVICES[0], application_id: uuid.UUID = APP, **tags: str) -> DeviceInfo:
    return DeviceInfo(
        application_id=application_id,
        application_name="Test app",
        device_profile_id=PROFILE,
        device_profile_name="EU868 A",
        device_name=f"sensor {dev_eui}",
        dev_eui=dev_eui,
        device_class=DeviceClass.CLASS_A,
        tags=tags,
    )


def up(
    f_cnt: int,
    dev_eui: EUI64 = DEVICES[0],
    *,
    application_id: uuid.UUID = APP,
    decoded: dict[str, Any] | None = None,
    payload: bytes = b"\x01\x02",
    rssi: tuple[int, ...] = (-68,),
    snr: tuple[float, ...] = (7.5,),
    tags: dict[str, str] | None = None,
    time: datetime | None = None,
) -> EventRecord:
    dev_addr = DevAddr(bytes.fromhex("2601") + bytes(dev_eui)[-2:])
    frame = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        dev_addr,
        _KEYS,
        f_cnt,
        f_ctrl=FCtrl(adr=True),
        f_port=10,
        payload=payload,
    )
    receptions = tuple(
        UplinkRxInfo(GATEWAY, uplink_id=index, rssi=level, snr=ratio, context=b"\x00\x01")
        for index, (level, ratio) in enumerate(zip(rssi, snr, strict=True))
    )
    uplink = DeduplicatedUplink(frame.encode(), _TX, receptions, 0)
    event = UplinkEvent(dev_eui, f_cnt, 10, payload, False, True, 5, uplink)
    message = uplink_event(
        event,
        device(dev_eui, application_id, **(tags or {})),
        time=time or T0 + timedelta(seconds=f_cnt),
        deduplication_id=uuid.UUID(int=f_cnt),
        region_config_id="eu868",
        decoded=decoded,
    )
    return EventRecord(message)


def status(
    dev_eui: EUI64 = DEVICES[0],
    *,
    battery: float | None = 48.5,
    margin: int = 10,
    external: bool = False,
    tags: dict[str, str] | None = None,
) -> EventRecord:
    raw = 255 if battery is None and not external else 0 if external else 120
    message = status_event(
        DeviceStatus(raw, margin, external, battery),
        device(dev_eui, **(tags or {})),
        time=T0,
        deduplication_id=uuid.UUID(int=7),
    )
    return EventRecord(message)


def log_record(dev_eui: EUI64 = DEVICES[0], text: str = "something") -> EventRecord:
    message = log_event(
        device(dev_eui), time=T0, level=LogLevel.WARNING, code=LogCode.UNKNOWN, description=text
    )
    return EventRecord(message)


def f_cnt_of(payload: bytes) -> tuple[str, int]:
    """(devEui, fCnt) of an ``up`` event's JSON."""
    body = json.loads(payload)
    return body["deviceInfo"]["devEui"], body["fCnt"]


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@dataclass
class Reports:
    """The manager's ``report`` hook: what it would turn into ``log`` events."""

    lines: list[tuple[uuid.UUID | None, EUI64 | None, str]] = field(default_factory=list)

    def __call__(self, application_id: uuid.UUID | None, dev_eui: EUI64 | None, text: str) -> None:
        self.lines.append((application_id, dev_eui, text))

    def matching(self, word: str) -> list[tuple[uuid.UUID | None, EUI64 | None, str]]:
        return [line for line in self.lines if word in line[2]]


@dataclass
class Queue:
    """The ``enqueue`` hook: validates like the runtime's (the device must be known)."""

    known: set[tuple[uuid.UUID, EUI64]] = field(default_factory=set)
    commands: list[tuple[uuid.UUID, EUI64, dict[str, Any]]] = field(default_factory=list)

    async def __call__(
        self, application_id: uuid.UUID, dev_eui: EUI64, command: dict[str, Any]
    ) -> None:
        if (application_id, dev_eui) not in self.known:
            raise ValueError(f"device {dev_eui} is not in application {application_id}")
        self.commands.append((application_id, dev_eui, command))


@dataclass
class FakeIntegration:
    application_id: uuid.UUID
    kind: str
    config: dict[str, Any]


@dataclass
class FakeRepository:
    """Stands in for ``Repository.integrations`` (the API stores them the same way)."""

    stored: list[FakeIntegration] = field(default_factory=list)

    def integrations(self, app_id: uuid.UUID | None = None) -> list[FakeIntegration]:
        return [i for i in self.stored if app_id is None or i.application_id == app_id]

    def put(self, app_id: uuid.UUID, kind: str, config: dict[str, Any]) -> None:
        self.delete(app_id, kind)
        self.stored.append(FakeIntegration(app_id, kind, config))

    def delete(self, app_id: uuid.UUID, kind: str) -> None:
        self.stored = [i for i in self.stored if (i.application_id, i.kind) != (app_id, kind)]


class Gate:
    """A ``wait`` the test controls: waits (reconnects, retries) only pass when it is open;
    every wait is recorded."""

    def __init__(self, is_open: bool = True) -> None:
        self._open = asyncio.Event()
        if is_open:
            self._open.set()
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self._open.wait()
        await asyncio.sleep(0.005)  # an open gate must not become a busy loop

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._open.clear()


FAST = OutboxLimits(delete_interval_s=0.05, maintenance_s=3600)


def manager(
    data_dir: Path,
    *,
    repository: FakeRepository | None = None,
    global_mqtt: MQTTConfig | None = None,
    enqueue: Queue | None = None,
    reports: Reports | None = None,
    limits: OutboxLimits = FAST,
    wait: Callable[[float], Any] | None = None,
    clock: Callable[[], int] | None = None,
) -> IntegrationManager:
    options: dict[str, Any] = {}
    if wait is not None:
        options["wait"] = wait
    if clock is not None:
        options["clock"] = clock
    return IntegrationManager(
        data_dir,
        repository or FakeRepository(),
        global_mqtt=global_mqtt,
        enqueue=enqueue or Queue(),
        report=reports or Reports(),
        limits=limits,
        **options,
    )


@dataclass
class Received:
    topic: str
    payload: bytes


class Subscriber:
    """A plain MQTT client collecting every message on ``topic`` (the application's view);
    ``publish`` sends commands."""

    def __init__(
        self,
        port: int,
        *,
        host: str = "127.0.0.1",
        topic: str = "#",
        tls: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.topic, self.tls = host, port, topic, tls
        self.username, self.password = username, password
        self.messages: list[Received] = []
        self.client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._stack: contextlib.AsyncExitStack | None = None

    async def connect(self) -> Subscriber:
        self._stack = contextlib.AsyncExitStack()
        self.client = aiomqtt.Client(
            self.host,
            self.port,
            tls_context=self.tls,
            username=self.username,
            password=self.password,
            timeout=5,
            max_queued_incoming_messages=0,
        )
        await self._stack.enter_async_context(self.client)
        await self.client.subscribe(self.topic, qos=1)
        self._task = asyncio.create_task(self._collect(self.client))
        return self

    async def _collect(self, client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                self.messages.append(Received(str(message.topic), message.payload))

    async def publish(self, topic: str, payload: bytes) -> None:
        assert self.client is not None
        await self.client.publish(topic, payload, qos=1)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._stack is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._stack.aclose()
            self._stack = None

    async def __aenter__(self) -> Subscriber:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def on(self, suffix: str) -> list[Received]:
        return [m for m in self.messages if m.topic.endswith(suffix)]


def first_occurrences(items: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """Per device, the frame counters in the order they first arrived (duplicates skipped)."""
    seen: set[tuple[str, int]] = set()
    order: dict[str, list[int]] = {}
    for dev_eui, f_cnt in items:
        if (dev_eui, f_cnt) not in seen:
            seen.add((dev_eui, f_cnt))
            order.setdefault(dev_eui, []).append(f_cnt)
    return order
