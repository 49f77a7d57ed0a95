"""The asyncio backend over real UDP sockets on 127.0.0.1, against an emulated packet forwarder.

The emulator uses two sockets, as lora_pkt_fwd does (PUSH_DATA from one port, PULL_DATA from
another), so the tests show downlinks go to the pull address. Timeouts use a fake clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from appliance.lorawan.identifiers import EUI64
from hal.backend import Backend, BackendConfigError, BackendError, create_backend
from hal.model import (
    BackendEvent,
    CodeRate,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    GatewayConnected,
    GatewayDisconnected,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
)
from hal.semtech_udp import (
    PacketType,
    PullData,
    PullResp,
    PushData,
    SemtechUDPBackend,
    TxAck,
    parse_packet,
)

GW = EUI64("0102030405060708")
RXPK = {
    "tmst": 1000,
    "freq": 868.1,
    "stat": 1,
    "datr": "SF7BW125",
    "codr": "4/5",
    "rssi": -40,
    "lsnr": 9.5,
    "size": 2,
    "data": "AQI=",
}
S = 1_000_000_000
WAIT = 2.0  # seconds; only reached when a test fails


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000 * S

    def __call__(self) -> int:
        return self.now


class _Socket(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received.put_nowait(data)


class Forwarder:
    """A packet forwarder made of two plain UDP client sockets."""

    def __init__(self, port: int, gateway_id: EUI64 = GW, version: int = 2) -> None:
        self.port, self.gateway_id, self.version = port, gateway_id, version
        self._sockets: list[tuple[asyncio.DatagramTransport, _Socket]] = []

    async def __aenter__(self) -> Forwarder:
        loop = asyncio.get_running_loop()
        for _ in range(2):
            transport, protocol = await loop.create_datagram_endpoint(
                _Socket, remote_addr=("127.0.0.1", self.port)
            )
            self._sockets.append((transport, protocol))
        return self

    async def __aexit__(self, *_: object) -> None:
        for transport, _protocol in self._sockets:
            transport.close()

    @property
    def pull_port(self) -> int:
        return int(self._sockets[1][0].get_extra_info("sockname")[1])

    def send_up(self, data: bytes) -> None:
        self._sockets[0][0].sendto(data)

    def send_down(self, data: bytes) -> None:
        self._sockets[1][0].sendto(data)

    async def receive_up(self) -> bytes:
        return await asyncio.wait_for(self._sockets[0][1].received.get(), WAIT)

    async def receive_down(self) -> bytes:
        return await asyncio.wait_for(self._sockets[1][1].received.get(), WAIT)

    async def push(self, body: dict[str, Any], token: int = 0x0102) -> bytes:
        self.send_up(
            PushData(self.version, token, self.gateway_id, json.dumps(body).encode()).encode()
        )
        return await self.receive_up()

    async def pull(self, token: int = 0x0304) -> bytes:
        self.send_down(PullData(self.version, token, self.gateway_id).encode())
        return await self.receive_down()

    async def pull_resp(self) -> PullResp:
        packet = parse_packet(await self.receive_down())
        assert isinstance(packet, PullResp)
        return packet

    def tx_ack(self, token: int, error: str = "") -> None:
        payload = json.dumps({"txpk_ack": {"error": error}}).encode() if error else b""
        self.send_down(TxAck(self.version, token, self.gateway_id, payload).encode())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def backend(clock: FakeClock) -> AsyncIterator[SemtechUDPBackend]:
    server = SemtechUDPBackend({"bind": "127.0.0.1:0"}, clock=clock, wall_clock=lambda: 42)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def next_event(
    server: SemtechUDPBackend, events: AsyncIterator[BackendEvent]
) -> BackendEvent:
    return await asyncio.wait_for(anext(events), WAIT)


def downlink(*delays_s: int) -> DownlinkFrame:
    modulation = LoRaModulation(125_000, 9, CodeRate.CR_4_5)
    items = tuple(
        DownlinkItem(
            b"\x60\x01",
            DownlinkTxInfo(
                868_100_000, 14, modulation, Delay(d * S), context=(1000).to_bytes(4, "big")
            ),
        )
        for d in delays_s
    )
    return DownlinkFrame(9, GW, items)


async def test_push_data_gets_push_ack_and_becomes_events(backend: SemtechUDPBackend) -> None:
    events = backend.events()
    async with Forwarder(backend.port) as gw:
        assert await gw.push({"rxpk": [RXPK]}, token=0xBEEF) == b"\x02\xef\xbe\x01"
        connected = await next_event(backend, events)
        assert isinstance(connected, GatewayConnected)
        assert connected.gateway_id == GW
        uplink = await next_event(backend, events)
        assert isinstance(uplink, UplinkFrame)
        assert uplink.phy_payload == b"\x01\x02"
        assert uplink.rx_info.ns_time_ns == 42


async def test_pull_data_gets_pull_ack(backend: SemtechUDPBackend) -> None:
    async with Forwarder(backend.port, version=1) as gw:
        assert await gw.pull(token=0x0A0B) == b"\x01\x0b\x0a\x04"
        assert backend.core.pull_address(GW) == ("127.0.0.1", gw.pull_port)


async def test_downlink_goes_to_the_pull_address_and_is_acknowledged(
    backend: SemtechUDPBackend,
) -> None:
    async with Forwarder(backend.port) as gw:
        await gw.push({})
        await gw.pull()
        sending = asyncio.create_task(backend.send_downlink(downlink(1, 2)))
        resp = await gw.pull_resp()  # arrives on the pull socket, not the push socket
        assert json.loads(resp.payload)["txpk"]["tmst"] == 1000 + 1_000_000
        gw.tx_ack(resp.token)
        ack = await asyncio.wait_for(sending, WAIT)
        assert (ack.gateway_id, ack.downlink_id) == (GW, 9)
        assert ack.items == (TxAckStatus.OK, TxAckStatus.IGNORED)


async def test_too_late_falls_back_to_the_next_item(backend: SemtechUDPBackend) -> None:
    async with Forwarder(backend.port) as gw:
        await gw.pull()
        sending = asyncio.create_task(backend.send_downlink(downlink(1, 2)))
        first = await gw.pull_resp()
        gw.tx_ack(first.token, "TOO_LATE")
        second = await gw.pull_resp()
        assert json.loads(second.payload)["txpk"]["tmst"] == 1000 + 2_000_000
        gw.tx_ack(second.token)
        ack = await asyncio.wait_for(sending, WAIT)
        assert ack.items == (TxAckStatus.TOO_LATE, TxAckStatus.OK)
        assert ack.sent_item == 1


async def test_missing_tx_ack_times_out_by_the_injected_clock(
    backend: SemtechUDPBackend, clock: FakeClock
) -> None:
    async with Forwarder(backend.port) as gw:
        await gw.pull()
        sending = asyncio.create_task(backend.send_downlink(downlink(1, 2)))
        await gw.pull_resp()
        clock.now += S  # the default 1 s timeout
        backend.run_timers()
        ack = await asyncio.wait_for(sending, WAIT)
        assert ack.items == (TxAckStatus.INTERNAL_ERROR, TxAckStatus.IGNORED)


async def test_version_1_gateway_needs_no_tx_ack(backend: SemtechUDPBackend) -> None:
    async with Forwarder(backend.port, version=1) as gw:
        await gw.pull()
        ack = await asyncio.wait_for(backend.send_downlink(downlink(1, 2)), WAIT)
        assert ack.items == (TxAckStatus.OK, TxAckStatus.IGNORED)
        resp = await gw.pull_resp()
        assert (resp.version, resp.token) == (1, 0)


async def test_downlink_before_any_pull_data_fails(backend: SemtechUDPBackend) -> None:
    ack = await backend.send_downlink(downlink(1, 2))
    assert ack.items == (TxAckStatus.INTERNAL_ERROR, TxAckStatus.INTERNAL_ERROR)


async def test_allow_list_rejection_is_counted(clock: FakeClock) -> None:
    allowed = EUI64("1111111111111111")
    server = SemtechUDPBackend(
        {"bind": "127.0.0.1:0", "allowed_gateways": [str(allowed)]}, clock=clock
    )
    await server.start()
    try:
        async with Forwarder(server.port) as stranger, Forwarder(server.port, allowed) as friend:
            stranger.send_up(PushData(2, 1, GW, b'{"rxpk":[]}').encode())
            assert await friend.push({}) == b"\x02\x02\x01\x01"
            assert server.drop_counts == {"unknown_gateway": 1}
            assert stranger._sockets[0][1].received.empty()
    finally:
        await server.stop()


async def test_garbage_never_stops_the_socket(backend: SemtechUDPBackend) -> None:
    async with Forwarder(backend.port) as gw:
        for junk in (b"\x02", b"\x02\x00\x00\x00" + bytes(GW) + b"{", b"\x07" * 40):
            gw.send_up(junk)
        assert await gw.push({}) == b"\x02\x02\x01\x01"
    assert backend.drop_counts == {"truncated": 1, "bad_json": 1, "bad_version": 1}


async def test_full_event_queue_drops_and_counts(clock: FakeClock) -> None:
    server = SemtechUDPBackend({"bind": "127.0.0.1:0", "max_queue": 2}, clock=clock)
    await server.start()
    try:
        async with Forwarder(server.port) as gw:
            await gw.push({"rxpk": [RXPK, RXPK, RXPK]})
        assert server.drop_counts == {"event_queue_full": 2}  # Connected + 1 uplink kept
    finally:
        await server.stop()
    assert [type(e) async for e in server.events()] == [GatewayConnected, UplinkFrame]


async def test_silent_gateway_disconnects(backend: SemtechUDPBackend, clock: FakeClock) -> None:
    events = backend.events()
    async with Forwarder(backend.port) as gw:
        await gw.pull()
    assert isinstance(await next_event(backend, events), GatewayConnected)
    clock.now += 60 * S
    backend.run_timers()
    assert isinstance(await next_event(backend, events), GatewayDisconnected)
    assert backend.core.gateway_ids() == ()


async def test_stop_ends_events_and_aborts_downlinks(clock: FakeClock) -> None:
    server = SemtechUDPBackend({"bind": "127.0.0.1:0"}, clock=clock)
    await server.start()
    async with Forwarder(server.port) as gw:
        await gw.pull()
        sending = asyncio.create_task(server.send_downlink(downlink(1)))
        await gw.pull_resp()
        await server.stop()
        assert (await sending).items == (TxAckStatus.INTERNAL_ERROR,)
    assert [type(e) async for e in server.events()] == [GatewayConnected]
    assert (await server.send_downlink(downlink(1))).items == (TxAckStatus.INTERNAL_ERROR,)


async def test_registered_by_kind_and_options_are_checked() -> None:
    server = create_backend("semtech-udp", {"bind": "127.0.0.1:0", "tx_ack_timeout_s": 0.5})
    assert isinstance(server, SemtechUDPBackend)
    assert isinstance(server, Backend)
    assert server.name == "semtech-udp"
    assert server.options.tx_ack_timeout_s == 0.5
    bad_options: list[tuple[dict[str, Any], str]] = [
        ({"bnid": "x"}, "unknown option"),
        ({"bind": "localhost"}, "not host:port"),
        ({"bind": 1700}, "bind must be text"),
        ({"allowed_gateways": "0102030405060708"}, "list of EUIs"),
        ({"allowed_gateways": ["12"]}, "allowed_gateways"),
        ({"tx_ack_timeout_s": 0}, "tx_ack_timeout_s"),
        ({"disconnect_after_s": True}, "disconnect_after_s"),
        ({"max_queue": 0}, "max_queue"),
        ({"forward_crc_errors": "yes"}, "forward_crc_errors"),
        ({"receive_buffer_bytes": 1024}, "receive_buffer_bytes"),
        ({"receive_buffer_bytes": 1 << 31}, "receive_buffer_bytes"),
        ({"receive_buffer_bytes": "4M"}, "receive_buffer_bytes"),
    ]
    for bad, message in bad_options:
        with pytest.raises(BackendConfigError, match=message):
            create_backend("semtech-udp", bad)


def _rmem_max() -> int | None:
    try:
        return int(Path("/proc/sys/net/core/rmem_max").read_text())
    except (OSError, ValueError):
        return None


async def test_receive_buffer_is_asked_for_and_a_kernel_cap_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert SemtechUDPBackend().options.receive_buffer_bytes == 4 << 20
    rmem_max = _rmem_max()
    if not sys.platform.startswith("linux") or rmem_max is None or rmem_max < 65_536:
        pytest.skip("needs Linux, whose cap is net.core.rmem_max")
    caplog.set_level(logging.WARNING, logger="hal.semtech_udp.backend")
    small = SemtechUDPBackend({"bind": "127.0.0.1:0", "receive_buffer_bytes": 65_536})
    assert small.receive_buffer_bytes == 0  # not started
    await small.start()
    await small.stop()
    assert small.receive_buffer_bytes == 65_536
    assert caplog.records == []
    wanted = rmem_max + 65_536
    big = SemtechUDPBackend({"bind": "127.0.0.1:0", "receive_buffer_bytes": wanted})
    await big.start()
    await big.stop()
    assert big.receive_buffer_bytes == rmem_max
    (record,) = caplog.records
    assert "net.core.rmem_max" in record.getMessage()
    assert f"{rmem_max} bytes of the {wanted} asked" in record.getMessage()


async def test_bind_failure_is_a_backend_error(backend: SemtechUDPBackend) -> None:
    clash = SemtechUDPBackend({"bind": f"127.0.0.1:{backend.port}"})
    with pytest.raises(BackendError, match="cannot bind"):
        await clash.start()
    await clash.stop()
    with pytest.raises(BackendError, match="started once"):
        await backend.start()


async def test_ipv6_bind_form() -> None:
    server = SemtechUDPBackend({"bind": "[::1]:0"})
    try:
        await server.start()
    except BackendError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert server.local_address[0] == "::1"
    finally:
        await server.stop()


def test_packet_type_ids_match_the_protocol() -> None:
    assert [t.value for t in PacketType] == [0, 1, 2, 3, 4, 5]


async def test_timer_task_expires_waits_by_the_real_clock() -> None:
    # The one test on real time: proves the adapter's timer task wakes by itself.
    server = SemtechUDPBackend({"bind": "127.0.0.1:0", "tx_ack_timeout_s": 0.05})
    await server.start()
    try:
        async with Forwarder(server.port) as gw:
            await gw.pull()
            ack = await asyncio.wait_for(server.send_downlink(downlink(1)), WAIT)
            assert ack.items == (TxAckStatus.INTERNAL_ERROR,)
    finally:
        await server.stop()


async def test_a_bug_in_the_core_costs_one_datagram(
    backend: SemtechUDPBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object) -> None:
        raise ZeroDivisionError

    async with Forwarder(backend.port) as gw:
        with monkeypatch.context() as patch:
            patch.setattr(backend.core, "datagram_received", explode)
            gw.send_up(b"\x02\x00\x00\x02" + bytes(GW))
            await asyncio.sleep(0.05)
        assert await gw.push({}) == b"\x02\x02\x01\x01"
    assert backend.drop_counts == {"internal_error": 1}
