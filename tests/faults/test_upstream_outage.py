"""The upstream link down for a while (the central network server's MQTT broker stopped, then
started again) while gateways keep delivering uplinks to a real ``appliance run`` whose bridge
forwards everything: nothing is lost, every device's uplinks arrive in order, the ones that
waited are marked delayed, and the backlog drains by itself.

The broker keeps its state on disk, as a production broker does, so the central side's
subscription (a persistent session) outlives the outage and only the appliance's link is
tested.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from chirpstack_api import gw

from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import DataFrame
from bench.system.fleet import device_of, gateway_id
from tests.faults.collector import Collector
from tests.faults.rig import Rig
from tests.mosquitto_broker import BrokerFactory

DEVICES = 20
GATEWAYS = 2
RATE = 50  # uplinks per second
PREFIX = "eu868"


def _uplinks(messages: list[tuple[str, bytes]]) -> list[tuple[int, int, bool]]:
    """(device, FCnt, delayed) of every uplink published upstream, in arrival order."""
    found = []
    for _, payload in messages:
        frame = gw.UplinkFrame.FromString(payload)
        decoded = decode_phy_payload(frame.phy_payload)
        assert isinstance(decoded, DataFrame)
        device = device_of(int(decoded.dev_addr))
        assert device is not None
        found.append((device, decoded.f_cnt, frame.rx_info.metadata.get("delayed") == "true"))
    return found


@pytest.mark.slow
def test_upstream_outage_loses_nothing_and_keeps_order(
    tmp_path: Path, mosquitto_factory: BrokerFactory
) -> None:
    state = tmp_path / "broker-state"
    state.mkdir()
    broker = mosquitto_factory(
        extra_config=f"persistence true\npersistence_location {state}/\nautosave_interval 1"
    )
    central = Collector(broker.port, f"{PREFIX}/gateway/+/event/up", client_id="central-ns")
    bridge = {
        "mode": "forwarder",
        "transport": "mqtt",
        "gateway_ids": [str(gateway_id(i)) for i in range(GATEWAYS)],
        "reconnect_min_s": 0.2,
        "reconnect_max_s": 1.0,
        "mqtt": {"url": broker.url, "topic_prefix": PREFIX, "qos": 1, "timeout_s": 2.0},
    }
    rig = Rig(tmp_path / "data", DEVICES, gateways=GATEWAYS, settings={"bridge": bridge})
    try:
        rig.start()
        before, _ = rig.send(100, RATE, confirmed_share=0.0)
        assert central.wait_until(lambda m: len(m) >= 100, 15), len(central.snapshot())
        broker.stop()  # the link goes down: uplinks wait in the spool
        during, _ = rig.send(150, RATE, confirmed_share=0.0)
        time.sleep(1.0)
        broker.start()
        after, _ = rig.send(100, RATE, confirmed_share=0.0)
        sent = [(f.device, f.f_cnt & 0xFFFF) for f in [*before, *during, *after]]
        assert central.wait_until(lambda m: {(d, f) for d, f, _ in _uplinks(m)} >= set(sent), 60), (
            f"{len(set(sent) - {(d, f) for d, f, _ in _uplinks(central.snapshot())})} missing"
        )
        arrived = _uplinks(central.snapshot())
    finally:
        central.close()
        rig.close()
    # At least once: a frame on the wire when the link failed may come twice; the first
    # arrival of each keeps every device's order.
    first: dict[tuple[int, int], int] = {}
    for position, (device, f_cnt, _) in enumerate(arrived):
        first.setdefault((device, f_cnt), position)
    for device in range(DEVICES):
        counters = [f for (d, f), _ in sorted(first.items(), key=lambda kv: kv[1]) if d == device]
        assert counters == sorted(counters), (device, counters)
    # What waited out the outage says so; what went at once does not.
    delayed = {(d, f) for d, f, late in arrived if late}
    assert {(f.device, f.f_cnt) for f in during} <= delayed
    assert not {(f.device, f.f_cnt) for f in before} & delayed
