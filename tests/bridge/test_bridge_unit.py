"""The bridge's own bookkeeping, with a broker that is not there: what it drops, counts and
reports, and how it answers downlinks the local backend cannot send."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.bridge import BridgeConfigError, BridgeLogEvent, UpstreamBridge
from appliance.bridge.counters import Reporter
from hal.model import DownlinkFrame, DownlinkTxAck, GatewayConfiguration, GatewayStats
from tests.bridge.helpers import (
    GW,
    GW2,
    FakeClock,
    Gate,
    bridge_config,
    make_bridge,
    uplink,
    wait_until,
)
from tests.bridge.test_mqtt_forwarder import _downlink
from tests.mosquitto_broker import free_port

NOWHERE = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there


async def test_problems_are_counted_logged_and_handed_to_the_event_sink(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[BridgeLogEvent] = []
    bridge = make_bridge(
        bridge_config(NOWHERE), tmp_path, events=events.append, reconnect_wait=Gate()
    )
    bridge.offer_uplink(uplink())  # not started yet
    await bridge.start()
    try:
        await wait_until(lambda: bridge.counters.link_errors["refused"] == 1, "a refusal")
        for f_cnt in range(3):
            bridge.offer_uplink(uplink(f_cnt=f_cnt, gateway_id=GW2))
        bridge.offer_uplink(uplink(f_cnt=9))
        bridge.offer_stats(GatewayStats(GW))
        bridge.offer_stats(GatewayStats(GW2))
        with pytest.raises(RuntimeError):
            await bridge.start()
    finally:
        await bridge.stop()
    dropped = bridge.counters.dropped
    assert dropped == {
        "not_running": 1,
        "unknown_gateway": 3,
        "stats_link_down": 1,
        "stats_unknown_gateway": 1,
    }
    assert bridge.backlog == 1
    codes = [event.code for event in events]
    assert codes.count("link_refused") == 1
    assert codes.count("unknown_gateway") == 1  # once per gateway, however many frames
    assert "stopped" in codes
    refused = next(event for event in events if event.code == "link_refused")
    assert refused.level == "warning"
    assert "cannot connect: broker unreachable" in refused.message
    assert refused.message in caplog.text


async def test_downlinks_the_local_side_cannot_send_are_acknowledged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(frame: DownlinkFrame) -> DownlinkTxAck:
        raise OSError("concentrator unplugged")

    caplog.set_level(logging.INFO, "appliance.bridge")
    bridge = make_bridge(bridge_config(NOWHERE), tmp_path, broken)
    ack = await bridge.downlink(_downlink(5))
    assert ack.downlink_id == 5
    assert [status.name for status in ack.items] == ["INTERNAL_ERROR", "INTERNAL_ERROR"]
    assert "concentrator unplugged" in caplog.text

    foreign = DownlinkFrame(6, GW2, _downlink(6).items)
    ack = await bridge.downlink(foreign)
    assert ack.items[0].name == "INTERNAL_ERROR"
    assert bridge.counters.commands_rejected["unknown_gateway"] == 1
    assert bridge.counters.downlinks["INTERNAL_ERROR"] == 2

    await bridge.configure(GatewayConfiguration(GW, "v1", ()))
    assert "configuration 'v1' for 0016c001ff10a235 ignored" in caplog.text


def test_a_bridge_needs_a_gateway(tmp_path: Path) -> None:
    with pytest.raises(BridgeConfigError, match=r"bridge\.gateway_ids"):
        make_bridge(bridge_config(NOWHERE), tmp_path, gateway_ids=())
    # The configuration's list is enough on its own.
    config = replace(bridge_config(NOWHERE), gateway_ids=(GW2,))
    bridge = UpstreamBridge(config, data_dir=tmp_path, transmit=_never)
    assert bridge.gateway_ids == (GW2,)


async def _never(frame: DownlinkFrame) -> DownlinkTxAck:
    raise AssertionError("not called")


def test_reports_are_throttled_per_code(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    events: list[BridgeLogEvent] = []
    reporter = Reporter("test", events.append, clock=clock, burst=3, window_s=60)
    for index in range(10):
        reporter.report("warning", "noisy", f"line {index}")
    reporter.report("warning", "other", "a different problem is not held back")
    clock.advance(60)
    reporter.report("warning", "noisy", "line 10")
    assert [event.message for event in events] == [
        "bridge test: line 0",
        "bridge test: line 1",
        "bridge test: line 2",
        "bridge test: a different problem is not held back",
        "bridge test: line 10 (7 similar lines left out)",
    ]
    assert len(caplog.records) == 5
