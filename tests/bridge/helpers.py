"""Frames, clocks and an MQTT subscriber shared by the bridge tests."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
from chirpstack_api import gw

from appliance.bridge import BridgeConfig, UpstreamBridge, parse_bridge_config
from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    DownlinkFrame,
    DownlinkTxAck,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)

GW = EUI64("0016c001ff10a235")
GW2 = EUI64("0016c001ff10a236")
S = 1_000_000_000
T0 = 1_790_000_000 * S  # a wall-clock time in 2026
WAIT_S = 15.0  # only reached when a test fails


class FakeClock:
    def __init__(self, start: int = 1_000 * S) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * S)


def data_phy(dev_addr: int, f_cnt: int, payload: bytes = b"\x01\x02\x03") -> bytes:
    """An unconfirmed data uplink (FPort 1) with a dummy MIC: enough for routing and ordering."""
    return (
        b"\x40"
        + dev_addr.to_bytes(4, "little")
        + b"\x00"
        + (f_cnt & 0xFFFF).to_bytes(2, "little")
        + b"\x01"
        + payload
        + b"MIC!"
    )


def uplink(
    dev_addr: int = 0x26011001,
    f_cnt: int = 1,
    *,
    gateway_id: EUI64 = GW,
    context: bytes = b"\x00\x10\x00\x00",
    received_ns: int = T0,
) -> UplinkFrame:
    return UplinkFrame(
        phy_payload=data_phy(dev_addr, f_cnt),
        tx_info=UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7, CodeRate.CR_4_5)),
        rx_info=UplinkRxInfo(
            gateway_id=gateway_id,
            uplink_id=f_cnt,
            rssi=-57,
            snr=7.5,
            channel=0,
            context=context,
            gw_time_ns=received_ns,
            ns_time_ns=received_ns + 1_000_000,
            metadata={"region": "eu868"},
        ),
    )


def f_cnt_of(phy: bytes) -> int:
    return int.from_bytes(phy[6:8], "little")


def dev_addr_of(phy: bytes) -> int:
    return int.from_bytes(phy[1:5], "little")


@dataclass
class Transmitter:
    """The local backend's ``send_downlink``: records frames, answers with a fixed status."""

    status: TxAckStatus = TxAckStatus.OK
    frames: list[DownlinkFrame] = field(default_factory=list)

    async def __call__(self, frame: DownlinkFrame) -> DownlinkTxAck:
        self.frames.append(frame)
        statuses = (self.status,) + (TxAckStatus.IGNORED,) * (len(frame.items) - 1)
        if self.status is not TxAckStatus.OK:
            statuses = (self.status,) * len(frame.items)
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, statuses)


class Gate:
    """A ``reconnect_wait`` the test opens: the bridge reconnects only when the test says."""

    def __init__(self, is_open: bool = False) -> None:
        self._open = asyncio.Event()
        if is_open:
            self._open.set()
        self.waits = 0

    async def __call__(self, delay_s: float) -> None:
        self.waits += 1
        await self._open.wait()
        await asyncio.sleep(0.01)  # an open gate must not become a busy loop

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._open.clear()


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll ``condition``; fail naming ``what`` when it does not hold within ``timeout``."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)
    if not condition():  # pragma: no cover - the timeout raises first
        raise AssertionError(what)


def bridge_config(url: str, **mqtt: Any) -> BridgeConfig:
    table: dict[str, Any] = {
        "mode": "forwarder",
        "transport": "mqtt",
        "reconnect_min_s": 0.01,
        "reconnect_max_s": 0.05,
        "mqtt": {"url": url, "timeout_s": 5, **mqtt},
    }
    return parse_bridge_config(table)


def make_bridge(
    config: BridgeConfig,
    data_dir: Path,
    transmit: Callable[[DownlinkFrame], Awaitable[DownlinkTxAck]] | None = None,
    **options: Any,
) -> UpstreamBridge:
    return UpstreamBridge(
        config,
        data_dir=data_dir,
        gateway_ids=options.pop("gateway_ids", (GW,)),
        transmit=transmit or Transmitter(),
        **options,
    )


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool


class Subscriber:
    """A plain MQTT client that collects every message of ``topic`` (the server's view)."""

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
        )
        await self._stack.enter_async_context(self.client)
        await self.client.subscribe(self.topic, qos=1)
        self._task = asyncio.create_task(self._read(self.client))
        return self

    async def _read(self, client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                self.messages.append(Received(str(message.topic), message.payload, message.retain))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._stack is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._stack.aclose()
        self._task = self._stack = self.client = None

    async def __aenter__(self) -> Subscriber:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def publish(self, topic: str, payload: bytes) -> None:
        assert self.client is not None
        await self.client.publish(topic, payload, qos=1)

    def on(self, suffix: str) -> list[Received]:
        return [message for message in self.messages if message.topic.endswith(suffix)]

    def uplinks(self) -> list[Any]:
        """Every ``event/up`` message parsed with chirpstack-api's ``gw.UplinkFrame``."""
        return [gw.UplinkFrame.FromString(m.payload) for m in self.on("/event/up")]
