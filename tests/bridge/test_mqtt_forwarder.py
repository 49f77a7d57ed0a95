"""Forwarder mode end to end: bridge -> real Mosquitto -> a subscriber parsing chirpstack-api
messages, and the server's commands back: command/down -> transmit -> event/ack."""

from __future__ import annotations

from pathlib import Path

import pytest
from chirpstack_api import gw
from google.protobuf import json_format  # type: ignore[import-untyped]

from appliance.bridge import DELAYED_KEY
from hal.model import (
    CodeRate,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    GatewayConfiguration,
    GatewayStats,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
)
from hal.proto import (
    downlink_to_json,
    serialize_configuration,
    serialize_downlink,
)
from tests.bridge.helpers import (
    GW,
    Subscriber,
    Transmitter,
    bridge_config,
    dev_addr_of,
    f_cnt_of,
    make_bridge,
    uplink,
    wait_until,
)
from tests.mosquitto_broker import MosquittoBroker

PREFIX = "eu868/gateway/0016c001ff10a235"


def _downlink(downlink_id: int = 7) -> DownlinkFrame:
    modulation = LoRaModulation(125_000, 7, CodeRate.CR_4_5, polarization_inversion=True)
    items = tuple(
        DownlinkItem(
            b"\x60\x01\x10\x01\x26\x00\x01\x00" + bytes(4),
            DownlinkTxInfo(
                frequency=frequency,
                power=14,
                modulation=modulation,
                timing=Delay(delay * 1_000_000_000),
                context=b"\x00\x10\x00\x00",
            ),
        )
        for frequency, delay in ((868_100_000, 1), (869_525_000, 2))
    )
    return DownlinkFrame(downlink_id, GW, items)


async def test_uplinks_stats_and_state_arrive_as_chirpstack_messages(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    async with Subscriber(mosquitto.port) as server:
        bridge = make_bridge(bridge_config(mosquitto.url), tmp_path)
        await bridge.start()
        try:
            await wait_until(lambda: bridge.connected, "connected")
            for f_cnt in range(1, 6):
                bridge.offer_uplink(uplink(f_cnt=f_cnt))
            bridge.offer_stats(
                GatewayStats(GW, time_ns=1_790_000_000 * 10**9, rx_packets_received=5)
            )
            await wait_until(lambda: len(server.on("/event/up")) == 5, "five uplinks")
            await wait_until(lambda: len(server.on("/event/stats")) == 1, "stats")
        finally:
            await bridge.stop()
        await wait_until(lambda: len(server.on("/state/conn")) == 2, "online then offline")

    frames = server.uplinks()
    assert [f_cnt_of(frame.phy_payload) for frame in frames] == [1, 2, 3, 4, 5]
    first = frames[0]
    assert first.rx_info.gateway_id == str(GW)
    assert first.rx_info.rssi == -57
    assert first.tx_info.frequency == 868_100_000
    assert first.tx_info.modulation.lora.spreading_factor == 7
    assert first.rx_info.context == b"\x00\x10\x00\x00"
    assert DELAYED_KEY not in first.rx_info.metadata  # sent at once
    assert all(m.topic == f"{PREFIX}/event/up" for m in server.on("/event/up"))
    stats = gw.GatewayStats.FromString(server.on("/event/stats")[0].payload)
    assert stats.rx_packets_received == 5
    states = [gw.ConnState.FromString(m.payload) for m in server.on("/state/conn")]
    assert [s.state for s in states] == [gw.ConnState.ONLINE, gw.ConnState.OFFLINE]
    assert states[0].gateway_id == str(GW)
    assert bridge.counters.uplinks_sent == 5
    assert bridge.counters.uplinks_spooled == 0  # the link was up: nothing touched the disk


async def test_command_down_is_transmitted_and_acknowledged(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    transmit = Transmitter()
    configurations: list[GatewayConfiguration] = []

    async def configure(configuration: GatewayConfiguration) -> None:
        configurations.append(configuration)

    async with Subscriber(mosquitto.port) as server:
        bridge = make_bridge(bridge_config(mosquitto.url), tmp_path, transmit, configure=configure)
        await bridge.start()
        try:
            await wait_until(lambda: bridge.connected, "connected")
            await server.publish(f"{PREFIX}/command/down", serialize_downlink(_downlink(7)))
            await wait_until(lambda: len(server.on("/event/ack")) == 1, "the TX ack")
            plan = GatewayConfiguration(GW, "v2", (LoRaChannel(868_100_000, 125_000, (7, 8)),))
            await server.publish(f"{PREFIX}/command/config", serialize_configuration(plan))
            await wait_until(lambda: len(configurations) == 1, "the configuration")
        finally:
            await bridge.stop()

    assert transmit.frames == [_downlink(7)]
    ack = gw.DownlinkTxAck.FromString(server.on("/event/ack")[0].payload)
    assert ack.downlink_id == 7
    assert ack.gateway_id == str(GW)
    assert [item.status for item in ack.items] == [gw.OK, gw.IGNORED]
    assert configurations == [plan]
    assert bridge.counters.downlinks["OK"] == 1
    assert bridge.counters.tx_acks_sent == 1


async def test_json_encoding_both_ways(mosquitto: MosquittoBroker, tmp_path: Path) -> None:
    transmit = Transmitter(status=TxAckStatus.TOO_LATE)
    async with Subscriber(mosquitto.port) as server:
        bridge = make_bridge(bridge_config(mosquitto.url, encoding="json"), tmp_path, transmit)
        await bridge.start()
        try:
            await wait_until(lambda: bridge.connected, "connected")
            bridge.offer_uplink(uplink(f_cnt=9))
            await wait_until(lambda: len(server.on("/event/up")) == 1, "the uplink")
            await server.publish(f"{PREFIX}/command/down", downlink_to_json(_downlink(8)).encode())
            await wait_until(lambda: len(server.on("/event/ack")) == 1, "the TX ack")
        finally:
            await bridge.stop()

    frame = json_format.Parse(server.on("/event/up")[0].payload, gw.UplinkFrame())
    assert f_cnt_of(frame.phy_payload) == 9
    assert dev_addr_of(frame.phy_payload) == 0x26011001
    assert frame.rx_info.gateway_id == str(GW)
    ack = json_format.Parse(server.on("/event/ack")[0].payload, gw.DownlinkTxAck())
    assert [item.status for item in ack.items] == [gw.TOO_LATE, gw.TOO_LATE]
    state = json_format.Parse(server.on("/state/conn")[0].payload, gw.ConnState())
    assert state.state == gw.ConnState.ONLINE


async def test_bad_commands_are_counted_and_the_bridge_goes_on(
    mosquitto: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transmit = Transmitter()
    other = _downlink(3)
    wrong_gateway = gw.DownlinkFrame.FromString(serialize_downlink(other))
    wrong_gateway.gateway_id = "0102030405060708"
    no_timing = gw.DownlinkFrame.FromString(serialize_downlink(other))
    no_timing.items[0].tx_info.ClearField("timing")
    config = bridge_config(mosquitto.url, max_command_bytes=1024)
    async with Subscriber(mosquitto.port) as server:
        bridge = make_bridge(config, tmp_path, transmit)
        await bridge.start()
        try:
            await wait_until(lambda: bridge.connected, "connected")
            for topic, payload in (
                ("command/down", b"\xff\xfe not protobuf"),
                ("command/down", bytes(2_000)),
                ("command/down", wrong_gateway.SerializeToString()),
                ("command/down", no_timing.SerializeToString()),
                ("command/config", b"\x0a\xff"),
                ("command/exec", b""),
            ):
                await server.publish(f"{PREFIX}/{topic}", payload)
            rejected = bridge.counters.commands_rejected
            await wait_until(lambda: sum(rejected.values()) == 6, "six rejections")
            await server.publish(f"{PREFIX}/command/down", serialize_downlink(_downlink(4)))
            await wait_until(lambda: len(server.on("/event/ack")) == 1, "the good command")
            assert bridge.connected
        finally:
            await bridge.stop()

    assert dict(rejected) == {
        "malformed": 3,
        "oversized": 1,
        "wrong_gateway": 1,
        "unknown_command": 1,
    }
    assert [frame.downlink_id for frame in transmit.frames] == [4]
    lines = [r.getMessage() for r in caplog.records if "command rejected" in r.getMessage()]
    assert len(lines) == 6
    assert any("oversized" in line and "2000 bytes exceed 1024" in line for line in lines)
    assert any("items[0].tx_info.timing" in line for line in lines)
