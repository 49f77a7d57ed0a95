"""Semtech UDP upstream against a small fake network server on a real loopback UDP socket:
PUSH_DATA/PULL_DATA with their acks, PULL_RESP -> transmit -> TX_ACK, and the link going down
when acknowledgements stop (fake clock), with the spool replayed when the server answers again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from appliance.bridge import DELAYED_KEY, UpstreamBridge, parse_bridge_config
from appliance.bridge.udp_link import SemtechUDPLink
from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    Delay,
    DownlinkItem,
    DownlinkTxInfo,
    GatewayStats,
    LoRaModulation,
    TxAckStatus,
)
from hal.semtech_udp import (
    PullAck,
    PullData,
    PullResp,
    PushAck,
    PushData,
    TxAck,
    parse_packet,
    stats_from_stat,
    txpk_json,
    uplinks_from_rxpk,
)
from tests.bridge.helpers import (
    GW,
    GW2,
    T0,
    FakeClock,
    Gate,
    Transmitter,
    f_cnt_of,
    uplink,
    wait_until,
)


class FakeNetworkServer(asyncio.DatagramProtocol):
    """The server side of GWMP, just enough to see what a forwarder sends."""

    def __init__(self) -> None:
        self.answering = True
        self.transport: asyncio.DatagramTransport | None = None
        self.rxpk: list[tuple[EUI64, dict[str, Any]]] = []
        self.stat: list[tuple[EUI64, dict[str, Any]]] = []
        self.pulls: dict[EUI64, tuple[Any, ...]] = {}
        self.tx_acks: list[TxAck] = []
        self.ignored = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        assert self.transport is not None
        if not self.answering:
            self.ignored += 1  # as if the server (or the network) were gone
            return
        packet = parse_packet(data)
        if isinstance(packet, PushData):
            self.transport.sendto(PushAck(packet.version, packet.token).encode(), addr)
            document = json.loads(packet.payload)
            self.rxpk += [(packet.gateway_id, entry) for entry in document.get("rxpk", [])]
            if "stat" in document:
                self.stat.append((packet.gateway_id, document["stat"]))
        elif isinstance(packet, PullData):
            self.pulls[packet.gateway_id] = addr
            self.transport.sendto(PullAck(packet.version, packet.token).encode(), addr)
        elif isinstance(packet, TxAck):
            self.tx_acks.append(packet)

    def pull_resp(self, gateway_id: EUI64, token: int, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(PullResp(2, token, payload).encode(), self.pulls[gateway_id])


@pytest.fixture
async def network_server() -> AsyncIterator[FakeNetworkServer]:
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(
        FakeNetworkServer, local_addr=("127.0.0.1", 0)
    )
    yield server
    transport.close()


def udp_bridge(
    server: FakeNetworkServer,
    tmp_path: Path,
    clock: FakeClock,
    transmit: Transmitter | None = None,
    gate: Gate | None = None,
) -> UpstreamBridge:
    config = parse_bridge_config(
        {
            "mode": "forwarder",
            "transport": "semtech-udp",
            "semtech_udp": {
                "server": f"127.0.0.1:{server.port}",
                "keepalive_s": 10,
                "ack_timeout_ms": 500,
                "push_retries": 2,
                "down_after_s": 30,
            },
        }
    )
    return UpstreamBridge(
        config,
        data_dir=tmp_path,
        gateway_ids=(GW, GW2),
        transmit=transmit or Transmitter(),
        clock=clock,
        wall_clock=lambda: T0 + clock.now,
        reconnect_wait=gate or Gate(is_open=True),
    )


def link_of(bridge: UpstreamBridge) -> SemtechUDPLink:
    assert isinstance(bridge.link, SemtechUDPLink)
    return bridge.link


async def test_uplinks_stats_and_a_downlink_round_trip(
    network_server: FakeNetworkServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    transmit = Transmitter()
    bridge = udp_bridge(network_server, tmp_path, clock, transmit)
    await bridge.start()
    try:
        await wait_until(lambda: bridge.connected, "PULL_ACK for both gateways")
        assert set(network_server.pulls) == {GW, GW2}
        for f_cnt in range(1, 41):  # more than one PUSH_DATA holds
            bridge.offer_uplink(uplink(f_cnt=f_cnt, context=(1_000_000 * f_cnt).to_bytes(4, "big")))
        bridge.offer_uplink(uplink(f_cnt=41, gateway_id=GW2))
        bridge.offer_stats(GatewayStats(GW, time_ns=T0, rx_packets_received=41))
        await wait_until(lambda: len(network_server.rxpk) == 41, "41 rxpk")
        await wait_until(lambda: len(network_server.stat) == 1, "the stat")

        modulation = LoRaModulation(125_000, 7, CodeRate.CR_4_5)
        rx1 = DownlinkItem(
            b"\x60" + bytes(15),
            DownlinkTxInfo(
                868_100_000, 14, modulation, Delay(0), context=(6_000_000).to_bytes(4, "big")
            ),
        )
        network_server.pull_resp(GW, 77, txpk_json(rx1))
        await wait_until(lambda: len(network_server.tx_acks) == 1, "the TX_ACK")
        transmit.status = TxAckStatus.TOO_LATE
        network_server.pull_resp(GW2, 78, txpk_json(rx1))
        network_server.pull_resp(GW, 79, b'{"txpk":{"imme":true}}')  # no data: malformed
        await wait_until(lambda: len(network_server.tx_acks) == 3, "two more TX_ACKs")
    finally:
        await bridge.stop()

    frames = [
        uplinks_from_rxpk(entry, gateway, uplink_id=0, ns_time_ns=None)[0]
        for gateway, entry in network_server.rxpk
    ]
    assert [f_cnt_of(frame.phy_payload) for frame in frames] == list(range(1, 42))
    assert [gateway for gateway, _ in network_server.rxpk] == [GW] * 40 + [GW2]
    assert frames[4].rx_info.context == (5_000_000).to_bytes(4, "big")  # tmst is the counter
    assert frames[4].rx_info.gw_time_ns == T0
    assert DELAYED_KEY not in frames[0].rx_info.metadata
    gateway, entry = network_server.stat[0]
    assert gateway == GW and stats_from_stat(entry, GW).rx_packets_received == 41

    (sent,) = [frame for frame in transmit.frames if frame.gateway_id == GW]
    assert sent.items[0].tx_info.context == (6_000_000).to_bytes(4, "big")
    assert sent.items[0].tx_info.timing == Delay(0)
    assert sent.items[0].tx_info.frequency == 868_100_000
    by_token = {
        ack.token: (ack.gateway_id, json.loads(ack.payload)) for ack in network_server.tx_acks
    }
    assert by_token[77] == (GW, {"txpk_ack": {"error": "NONE"}})
    assert by_token[78] == (GW2, {"txpk_ack": {"error": "TOO_LATE"}})
    assert by_token[79] == (GW, {"txpk_ack": {"error": "INTERNAL_ERROR"}})
    assert bridge.counters.commands_rejected["malformed"] == 1
    assert bridge.counters.downlinks == {"OK": 1, "TOO_LATE": 1}


async def test_missing_push_acks_take_the_link_down_and_the_spool_is_replayed(
    network_server: FakeNetworkServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    gate = Gate()
    bridge = udp_bridge(network_server, tmp_path, clock, gate=gate)
    await bridge.start()
    try:
        await wait_until(lambda: bridge.connected, "connected")
        bridge.offer_uplink(uplink(f_cnt=1))
        await wait_until(lambda: len(network_server.rxpk) == 1, "the first uplink")
        network_server.answering = False
        bridge.offer_uplink(uplink(f_cnt=2))
        await wait_until(lambda: network_server.ignored == 1, "the unanswered PUSH_DATA")
        link = link_of(bridge)
        for attempt in range(2, 4):  # two retries, each after the ack timeout
            clock.advance(0.5)
            link.run_timers()
            await wait_until(lambda: network_server.ignored >= attempt, f"retry {attempt}")  # noqa: B023
        clock.advance(0.5)
        link.run_timers()
        await wait_until(lambda: not bridge.connected, "the link to go down")
        assert bridge.counters.link_errors["timeout"] == 1
        for f_cnt in range(3, 6):
            bridge.offer_uplink(uplink(f_cnt=f_cnt))
        await wait_until(lambda: bridge.backlog == 4, "four uplinks waiting")
        network_server.answering = True
        gate.open()
        await wait_until(lambda: len(network_server.rxpk) == 5, "the replay")
    finally:
        await bridge.stop()

    entries = [entry for _, entry in network_server.rxpk]
    assert [
        f_cnt_of(uplinks_from_rxpk(e, GW, uplink_id=0, ns_time_ns=None)[0].phy_payload)
        for e in entries
    ] == [1, 2, 3, 4, 5]
    assert "meta" not in entries[0] or DELAYED_KEY not in entries[0]["meta"]
    assert all(entry["meta"][DELAYED_KEY] == "true" for entry in entries[1:])
    assert bridge.counters.uplinks_replayed == 4


async def test_silence_takes_the_link_down(
    network_server: FakeNetworkServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    gate = Gate()
    bridge = udp_bridge(network_server, tmp_path, clock, gate=gate)
    await bridge.start()
    try:
        await wait_until(lambda: bridge.connected, "connected")
        network_server.answering = False
        link = link_of(bridge)
        for _ in range(3):  # keep-alives go unanswered
            clock.advance(10)
            link.run_timers()
        assert bridge.connected  # 30 s of silence is the limit
        clock.advance(0.001)
        link.run_timers()
        await wait_until(lambda: not bridge.connected, "the link to go down")
        assert network_server.ignored >= 6  # PULL_DATA of both gateways
    finally:
        await bridge.stop()


async def test_an_unreachable_server_is_retried(tmp_path: Path) -> None:
    clock = FakeClock()
    loop = asyncio.get_running_loop()
    transport, silent = await loop.create_datagram_endpoint(
        FakeNetworkServer, local_addr=("127.0.0.1", 0)
    )
    silent.answering = False
    gate = Gate()
    bridge = udp_bridge(silent, tmp_path, clock, gate=gate)
    await bridge.start()
    try:
        await wait_until(lambda: silent.ignored >= 2, "the first PULL_DATA")
        for _ in range(3):
            clock.advance(0.5)
            link_of(bridge).run_timers()
        await wait_until(lambda: gate.waits == 1, "a failed connection attempt")
        assert bridge.counters.link_errors["timeout"] == 1
        assert not bridge.connected
    finally:
        await bridge.stop()
        transport.close()
