"""The Concentratord backend against an emulator on real ZeroMQ sockets (ipc:// and tcp://).

The emulator binds what Concentratord binds, wire-compatibly: XPUB for events (a PUB that also
tells when the backend has subscribed, so no event is lost to the slow-joiner race) and ROUTER
for commands (a REP that may also leave a request unanswered, as a busy Concentratord does).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.asyncio
from chirpstack_api import gw

from appliance.lorawan.identifiers import EUI64
from hal.backend import Backend, BackendError
from hal.concentratord import ConcentratordBackend, DropReason, WireProtocol
from hal.concentratord.wire import gateway_id_command
from hal.model import (
    BackendEvent,
    CRCStatus,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    DownlinkTxInfo,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    GatewayStats,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.proto import (
    configuration_from_proto,
    downlink_from_proto,
    serialize_stats,
    serialize_uplink,
    stats_to_proto,
    tx_ack_to_proto,
    uplink_to_proto,
)

GATEWAY = EUI64("0016c001ff10a235")
NOW_NS = 1_700_000_000_123_456_789
SINGLE, MULTI, AUTO = WireProtocol.SINGLE_FRAME, WireProtocol.MULTI_FRAME, WireProtocol.AUTO


def sample_uplink(gw_time_ns: int | None = 1_700_000_000_000_000_000) -> UplinkFrame:
    return UplinkFrame(
        b"\x40\x04\x03\x02\x01\x80\x01\x00\x01\xaa\xbb\xcc\xdd",
        UplinkTxInfo(868_300_000, LoRaModulation(125_000, 9)),
        UplinkRxInfo(GATEWAY, 17, -91, 7.5, 1, context=b"\x00\x0f\x42\x40", gw_time_ns=gw_time_ns),
    )


def downlink(downlink_id: int = 1, gateway_id: EUI64 = GATEWAY, items: int = 2) -> DownlinkFrame:
    modulation = LoRaModulation(125_000, 9, polarization_inversion=True)
    info = DownlinkTxInfo(868_300_000, 14, modulation, Delay(1_000_000_000), context=b"\x01" * 4)
    return DownlinkFrame(downlink_id, gateway_id, (DownlinkItem(b"\x60", info),) * items)


SINGLE_FRAME_COMMANDS = {
    "get_gateway_id": "gateway_id",
    "send_downlink_frame": "down",
    "set_gateway_configuration": "config",
}


class Emulator:
    """Concentratord's sockets speaking one generation; it records what it is sent."""

    def __init__(self, generation: WireProtocol, event_url: str, command_url: str) -> None:
        self.generation = generation
        self.context = zmq.asyncio.Context()
        self.publisher = self.context.socket(zmq.XPUB)
        self.replier = self.context.socket(zmq.ROUTER)
        for sock, url in ((self.publisher, event_url), (self.replier, command_url)):
            sock.setsockopt(zmq.LINGER, 0)
            sock.bind(url)
        self.event_url = self.publisher.getsockopt_string(zmq.LAST_ENDPOINT)
        self.command_url = self.replier.getsockopt_string(zmq.LAST_ENDPOINT)
        self.requests: list[list[bytes]] = []
        self.downlinks: list[DownlinkFrame] = []
        self.configurations: list[GatewayConfiguration] = []
        self.ack_statuses: tuple[TxAckStatus, ...] | None = None  # default: first item OK
        self.unanswered = 0  # how many of the next requests get no reply
        self.wedged = False  # a >= 4.5 Concentratord sent multipart: its REP socket is stuck
        self._task = asyncio.create_task(self._serve())

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.publisher.close(linger=0)
        self.replier.close(linger=0)
        self.context.term()

    async def wait_for_subscriber(self) -> None:
        async with asyncio.timeout(2):
            assert await self.publisher.recv() == b"\x01"  # subscribe to everything

    async def publish(self, *frames: bytes) -> None:
        await self.publisher.send_multipart(list(frames))

    async def publish_uplink(self, frame: UplinkFrame) -> None:
        if self.generation is SINGLE:
            await self.publish(gw.Event(uplink_frame=uplink_to_proto(frame)).SerializeToString())
        else:
            await self.publish(b"up", serialize_uplink(frame))

    async def publish_stats(self, stats: GatewayStats) -> None:
        if self.generation is SINGLE:
            await self.publish(gw.Event(gateway_stats=stats_to_proto(stats)).SerializeToString())
        else:
            await self.publish(b"stats", serialize_stats(stats))

    async def _serve(self) -> None:
        while True:
            peer, empty, *frames = await self.replier.recv_multipart()
            self.requests.append(frames)
            reply = self._reply(frames)
            if self.unanswered:
                self.unanswered -= 1
            elif not self.wedged:
                await self.replier.send_multipart([peer, empty, reply])

    def _reply(self, frames: list[bytes]) -> bytes:
        kind, message = self._read(frames)
        if kind == "gateway_id" and self.generation is SINGLE:
            return bytes(gw.GetGatewayIdResponse(gateway_id=str(GATEWAY)).SerializeToString())
        if kind == "gateway_id":
            return bytes(GATEWAY)
        if kind == "down":
            return self._acknowledge(downlink_from_proto(message))
        if kind == "config":
            self.configurations.append(configuration_from_proto(message))
        return b""  # what Concentratord answers to anything it does not understand

    def _read(self, frames: list[bytes]) -> tuple[str, Any]:
        """The command as the multi-frame generation names it, and its message."""
        if self.generation is SINGLE:
            if len(frames) != 1:
                self.wedged = True
                return "", None
            command = gw.Command.FromString(frames[0])
            field = command.WhichOneof("command") or ""
            return SINGLE_FRAME_COMMANDS.get(field, field), getattr(command, field, None)
        if len(frames) != 2:
            return "", None
        kind = frames[0].decode()
        types = {"down": gw.DownlinkFrame, "config": gw.GatewayConfiguration}
        return kind, types[kind].FromString(frames[1]) if kind in types else None

    def _acknowledge(self, frame: DownlinkFrame) -> bytes:
        self.downlinks.append(frame)
        count = len(frame.items)
        statuses = self.ack_statuses or (TxAckStatus.OK,) + (TxAckStatus.IGNORED,) * (count - 1)
        ack = DownlinkTxAck(GATEWAY, frame.downlink_id, statuses[:count])
        return bytes(tx_ack_to_proto(ack).SerializeToString())


@contextlib.asynccontextmanager
async def running(
    generation: WireProtocol, tmp_path: Path, transport: str = "ipc", **options: Any
) -> AsyncIterator[tuple[Emulator, ConcentratordBackend]]:
    if transport == "ipc":
        urls = (f"ipc://{tmp_path}/event", f"ipc://{tmp_path}/command")
    else:
        urls = ("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    emulator = Emulator(generation, *urls)
    settings = {"event_url": emulator.event_url, "command_url": emulator.command_url}
    settings |= {"command_timeout_s": 0.5, "start_timeout_s": 2.0} | options
    backend = ConcentratordBackend(settings, wall_clock=lambda: NOW_NS)
    try:
        await backend.start()
        await emulator.wait_for_subscriber()
        yield emulator, backend
    finally:
        await backend.stop()
        await emulator.close()


async def next_event(events: AsyncIterator[BackendEvent]) -> BackendEvent:
    async with asyncio.timeout(2):
        return await anext(events)


@pytest.mark.parametrize(
    ("generation", "protocol", "transport"),
    [
        (SINGLE, AUTO, "ipc"),
        (MULTI, AUTO, "ipc"),
        (SINGLE, SINGLE, "tcp"),
        (MULTI, MULTI, "tcp"),
    ],
)
async def test_events_downlinks_and_configuration(
    tmp_path: Path, generation: WireProtocol, protocol: WireProtocol, transport: str
) -> None:
    async with running(generation, tmp_path, transport, protocol=protocol.value) as (
        emulator,
        backend,
    ):
        assert isinstance(backend, Backend)
        assert (backend.gateway_id, backend.protocol) == (GATEWAY, generation)
        events = backend.events()
        assert await next_event(events) == GatewayConnected(
            GATEWAY, "concentratord", emulator.command_url
        )

        await emulator.publish_uplink(sample_uplink())
        received = await next_event(events)
        assert isinstance(received, UplinkFrame)
        assert received.rx_info.ns_time_ns == NOW_NS  # stamped on arrival
        assert received.rx_info.context == b"\x00\x0f\x42\x40"
        stats = GatewayStats(GATEWAY, NOW_NS, rx_packets_received=3, rx_packets_received_ok=2)
        await emulator.publish_stats(stats)
        assert await next_event(events) == stats

        emulator.ack_statuses = (TxAckStatus.TOO_LATE, TxAckStatus.OK)
        ack = await backend.send_downlink(downlink(7))
        assert ack == DownlinkTxAck(GATEWAY, 7, (TxAckStatus.TOO_LATE, TxAckStatus.OK))
        assert ack.sent_item == 1
        assert emulator.downlinks == [downlink(7)]

        configuration = GatewayConfiguration(
            GATEWAY, "v3", (LoRaChannel(868_100_000, 125_000, (7, 8, 9)),), 60
        )
        await backend.configure(configuration)
        assert emulator.configurations == [configuration]
        assert not emulator.wedged
        assert backend.drop_counts == {}

    assert [event async for event in events] == [
        GatewayDisconnected(GATEWAY, "concentratord", "backend stopped")
    ]
    # Auto mode asks in the current generation first; an old Concentratord says "not
    # understood" with an empty reply and is then asked the old way.
    probes = [gateway_id_command(SINGLE if protocol is AUTO else protocol)]
    if protocol is AUTO and generation is MULTI:
        probes.append(gateway_id_command(MULTI))
    assert emulator.requests[: len(probes)] == probes


async def test_a_lost_reply_costs_one_downlink_and_a_new_req_socket(tmp_path: Path) -> None:
    async with running(SINGLE, tmp_path) as (emulator, backend):
        emulator.unanswered = 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        lost = await backend.send_downlink(downlink(1))
        assert lost.items == (TxAckStatus.INTERNAL_ERROR, TxAckStatus.INTERNAL_ERROR)
        assert loop.time() - started < 1.0
        assert backend.command_errors == {"timeout": 1}
        # A stuck REQ socket would refuse this send; the replacement carries it.
        assert (await backend.send_downlink(downlink(2))).items == (
            TxAckStatus.OK,
            TxAckStatus.IGNORED,
        )
        assert [frame.downlink_id for frame in emulator.downlinks] == [1, 2]


async def test_a_cancelled_downlink_does_not_poison_the_next(tmp_path: Path) -> None:
    async with running(SINGLE, tmp_path) as (emulator, backend):
        emulator.unanswered = 1
        abandoned = asyncio.create_task(backend.send_downlink(downlink(1)))
        async with asyncio.timeout(2):
            while len(emulator.downlinks) < 1:
                await asyncio.sleep(0.01)
        abandoned.cancel()
        with pytest.raises(asyncio.CancelledError):
            await abandoned
        acks = await asyncio.gather(*(backend.send_downlink(downlink(n)) for n in (2, 3, 4)))
        assert [ack.sent_item for ack in acks] == [0, 0, 0]
        assert [frame.downlink_id for frame in emulator.downlinks] == [1, 2, 3, 4]
        assert backend.command_errors == {}


async def test_malformed_events_are_dropped_counted_and_survived(tmp_path: Path) -> None:
    async with running(SINGLE, tmp_path, protocol="single-frame") as (emulator, backend):
        events = backend.events()
        assert isinstance(await next_event(events), GatewayConnected)
        bad_uplink = uplink_to_proto(sample_uplink())
        bad_uplink.rx_info.crc_status = 9
        await emulator.publish(b"\xff\xff")
        await emulator.publish(gw.Event(uplink_frame=bad_uplink).SerializeToString())
        await emulator.publish(gw.Event(mesh={"gateway_id": str(GATEWAY)}).SerializeToString())
        await emulator.publish(b"one", b"two", b"three")
        await emulator.publish(b"up", serialize_uplink(sample_uplink()))  # old framing
        await emulator.publish_uplink(sample_uplink(gw_time_ns=None))
        received = await next_event(events)
        assert isinstance(received, UplinkFrame)
        assert received.rx_info.crc_status is CRCStatus.CRC_OK
        assert backend.drop_counts == {
            DropReason.UNDECODABLE: 1,
            DropReason.INVALID_UPLINK: 1,
            DropReason.UNSUPPORTED_EVENT: 1,
            DropReason.FRAME_COUNT: 1,
            DropReason.WRONG_PROTOCOL: 1,
        }


async def test_auto_mode_follows_a_concentratord_of_the_other_generation(tmp_path: Path) -> None:
    async with running(SINGLE, tmp_path) as (emulator, backend):
        events = backend.events()
        assert isinstance(await next_event(events), GatewayConnected)
        await emulator.publish(b"up", serialize_uplink(sample_uplink()))
        assert isinstance(await next_event(events), UplinkFrame)
        assert backend.protocol is MULTI


async def test_a_full_queue_drops_and_counts(tmp_path: Path) -> None:
    async with running(SINGLE, tmp_path, max_queue=2) as (emulator, backend):
        for _ in range(3):  # GatewayConnected holds the first place
            await emulator.publish_uplink(sample_uplink())
        async with asyncio.timeout(2):
            while DropReason.QUEUE_FULL not in backend.drop_counts:
                await asyncio.sleep(0.01)
        assert backend.drop_counts == {DropReason.QUEUE_FULL: 2}


async def test_downlinks_it_cannot_send_are_refused_without_a_command(tmp_path: Path) -> None:
    async with running(SINGLE, tmp_path) as (emulator, backend):
        other = await backend.send_downlink(downlink(gateway_id=EUI64(1), items=1))
        assert other == DownlinkTxAck(EUI64(1), 1, (TxAckStatus.INTERNAL_ERROR,))
        with pytest.raises(BackendError, match="serves gateway 0016c001ff10a235"):
            await backend.configure(GatewayConfiguration(EUI64(1), "v1", ()))
        assert len(emulator.requests) == 1  # only get_gateway_id
    assert (await backend.send_downlink(downlink(3, items=1))).items == (
        TxAckStatus.INTERNAL_ERROR,
    )
    assert backend.command_errors == {"wrong_gateway": 1}


async def test_start_fails_clearly_when_nobody_answers(tmp_path: Path) -> None:
    backend = ConcentratordBackend(
        {
            "event_url": f"ipc://{tmp_path}/event",
            "command_url": f"ipc://{tmp_path}/command",
            "command_timeout_s": 0.05,
            "start_timeout_s": 0.2,
        }
    )
    with pytest.raises(BackendError, match=r"did not answer at ipc://.*within 0.2 s"):
        await backend.start()
    await backend.stop()
    assert [event async for event in backend.events()] == []


async def test_stop_during_start_ends_it_promptly(tmp_path: Path) -> None:
    urls = {"event_url": f"ipc://{tmp_path}/event", "command_url": f"ipc://{tmp_path}/command"}
    backend = ConcentratordBackend(urls | {"command_timeout_s": 0.05})
    starting = asyncio.create_task(backend.start())
    await asyncio.sleep(0.02)
    await backend.stop()
    async with asyncio.timeout(1):
        with pytest.raises(BackendError, match="stopped while starting"):
            await starting


async def test_an_endpoint_zeromq_refuses_fails_start() -> None:
    backend = ConcentratordBackend({"event_url": "tcp://no-port-here"})
    with pytest.raises(BackendError, match="cannot connect event_url 'tcp://no-port-here'"):
        await backend.start()


async def test_a_fixed_generation_that_is_not_understood_fails_start(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"did not understand get_gateway_id \(single-frame\)"):
        async with running(MULTI, tmp_path, protocol="single-frame"):
            pass


async def test_without_pyzmq_start_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zmq", None)  # makes `import zmq` raise ImportError
    monkeypatch.delitem(sys.modules, "zmq.asyncio")
    monkeypatch.delitem(sys.modules, "hal.concentratord.sockets", raising=False)
    with pytest.raises(BackendError, match=r"pip install 'lorawan-appliance\[concentratord\]'"):
        await ConcentratordBackend().start()


def test_hal_imports_without_pyzmq() -> None:
    code = "import sys; sys.modules['zmq'] = None; import hal.concentratord, hal.proto"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
