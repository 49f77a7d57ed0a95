"""The MQTT link under trouble, against a real Mosquitto: the broker killed and restarted
mid-stream, wrong credentials, TLS (good and bad), the last will of a crashed appliance."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
from chirpstack_api import gw

from appliance.bridge import DELAYED_KEY, DELAYED_MS_KEY
from tests.bridge.helpers import (
    GW,
    T0,
    Gate,
    Subscriber,
    bridge_config,
    dev_addr_of,
    f_cnt_of,
    make_bridge,
    uplink,
    wait_until,
)
from tests.mosquitto_broker import BrokerFactory, MosquittoBroker, make_tls_files

ROOT = Path(__file__).resolve().parents[2]
DEVICES = (0x26011001, 0x26011002, 0x26011003)


def _first_occurrences(frames: list[gw.UplinkFrame]) -> dict[int, list[int]]:
    """Per device, the frame counters in the order they first arrived (duplicates skipped)."""
    seen: set[tuple[int, int]] = set()
    order: dict[int, list[int]] = defaultdict(list)
    for frame in frames:
        key = (dev_addr_of(frame.phy_payload), f_cnt_of(frame.phy_payload))
        if key not in seen:
            seen.add(key)
            order[key[0]].append(key[1])
    return order


async def test_broker_killed_and_restarted_mid_stream_loses_nothing_and_keeps_order(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    gate = Gate()
    bridge = make_bridge(bridge_config(mosquitto.url), tmp_path, reconnect_wait=gate)
    server = await Subscriber(mosquitto.port).connect()
    await bridge.start()

    def offer(f_cnts: range) -> None:
        for f_cnt in f_cnts:
            for dev_addr in DEVICES:
                bridge.offer_uplink(uplink(dev_addr, f_cnt, received_ns=T0 + f_cnt))

    try:
        await wait_until(lambda: bridge.connected, "connected")
        offer(range(1, 101))
        await wait_until(lambda: len(server.on("/event/up")) == 300, "the first 100 per device")
        # Mid-stream: the broker hangs with uplinks on the wire and dies before acknowledging
        # them. (A broker killed after its PUBACK loses what it had not yet passed on: that is
        # the broker's loss, which no client can see; freezing it first keeps the test exact.)
        mosquitto.pause()
        offer(range(101, 151))
        await wait_until(lambda: bridge.in_flight > 0, "uplinks in flight")
        mosquitto.kill()
        await wait_until(lambda: not bridge.connected, "the bridge to notice")
        offer(range(151, 201))
        assert bridge.backlog == 300
        await server.close()
        mosquitto.start()
        await server.connect()  # the server side listens again before the bridge is back
        gate.open()
        everything = {(d, f) for d in DEVICES for f in range(1, 201)}
        await wait_until(
            lambda: (
                {(dev_addr_of(u.phy_payload), f_cnt_of(u.phy_payload)) for u in server.uplinks()}
                >= everything
            ),
            "every uplink",
        )
        await wait_until(lambda: bridge.backlog == 0, "an empty backlog")
    finally:
        await bridge.stop()
        await server.close()

    frames = server.uplinks()
    order = _first_occurrences(frames)
    for dev_addr in DEVICES:
        assert order[dev_addr] == list(range(1, 201)), f"device {dev_addr:08x}"
    late = [u for u in frames if f_cnt_of(u.phy_payload) > 100]
    assert late and all(u.rx_info.metadata[DELAYED_KEY] == "true" for u in late)
    assert all(int(u.rx_info.metadata[DELAYED_MS_KEY]) >= 0 for u in late)
    # Original reception times survive the spool.
    sample = next(u for u in late if f_cnt_of(u.phy_payload) == 150)
    assert sample.rx_info.gw_time.ToNanoseconds() == T0 + 150
    counters = bridge.counters
    assert counters.uplinks_spooled > 0
    assert counters.connects == 2
    assert counters.link_errors["closed"] >= 1
    assert counters.uplinks_sent == 600
    assert counters.uplinks_replayed == 300
    assert not counters.dropped


async def test_wrong_credentials_are_retried_and_frames_wait_on_disk(
    mosquitto_factory: BrokerFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto_factory(users={"gateway": "right", "server": "server"})
    wrong = bridge_config(broker.url, username="gateway", password="wrong")
    bridge = make_bridge(wrong, tmp_path, reconnect_wait=Gate(is_open=True))
    await bridge.start()
    try:
        bridge.offer_uplink(uplink(f_cnt=1))
        bridge.offer_uplink(uplink(f_cnt=2))
        await wait_until(lambda: bridge.counters.link_errors["auth"] >= 2, "two refusals")
        assert not bridge.connected
    finally:
        await bridge.stop()
    assert bridge.backlog == 2
    refusals = [r for r in caplog.records if "broker refused the connection" in r.getMessage()]
    assert refusals and all(r.levelname == "WARNING" for r in refusals)
    assert "retrying in" in refusals[0].getMessage()

    # A new bridge object on the same data directory with the right password sends both.
    right = bridge_config(broker.url, username="gateway", password="right")
    async with Subscriber(broker.port, username="server", password="server") as server:
        bridge = make_bridge(right, tmp_path)
        await bridge.start()
        try:
            await wait_until(lambda: len(server.on("/event/up")) == 2, "the spooled uplinks")
        finally:
            await bridge.stop()
    assert [f_cnt_of(frame.phy_payload) for frame in server.uplinks()] == [1, 2]


@pytest.fixture
def tls_broker(mosquitto_factory: BrokerFactory, tmp_path: Path) -> tuple[MosquittoBroker, Path]:
    files = make_tls_files(tmp_path / "tls")
    return mosquitto_factory(tls=files), files.ca_cert


async def test_tls_link(tls_broker: tuple[MosquittoBroker, Path], tmp_path: Path) -> None:
    broker, ca_cert = tls_broker
    context = ssl.create_default_context(cafile=str(ca_cert))
    async with Subscriber(broker.port, host="localhost", tls=context) as server:
        bridge = make_bridge(bridge_config(broker.url, ca_cert=str(ca_cert)), tmp_path)
        await bridge.start()
        try:
            await wait_until(lambda: bridge.connected, "connected over TLS")
            bridge.offer_uplink(uplink(f_cnt=3))
            await wait_until(lambda: len(server.on("/event/up")) == 1, "the uplink")
        finally:
            await bridge.stop()
    assert f_cnt_of(server.uplinks()[0].phy_payload) == 3


async def test_tls_failures_are_reported_not_fatal(
    tls_broker: tuple[MosquittoBroker, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker, _ = tls_broker
    stranger = make_tls_files(tmp_path / "other-ca", common_name="Some other CA")
    for name, ca_cert in (("wrong-ca", stranger.ca_cert), ("missing", tmp_path / "nope.pem")):
        config = bridge_config(broker.url, ca_cert=str(ca_cert))
        bridge = make_bridge(config, tmp_path / name, reconnect_wait=Gate(is_open=True))
        (tmp_path / name).mkdir()
        await bridge.start()
        try:
            errors = bridge.counters.link_errors
            await wait_until(lambda: errors["tls"] >= 2, f"{name}: TLS")  # noqa: B023
            assert not bridge.connected
        finally:
            await bridge.stop()
    lines = [r.getMessage() for r in caplog.records if "TLS" in r.getMessage()]
    assert any("certificate verify failed" in line for line in lines)
    assert any("cannot load the TLS files" in line for line in lines)


_CRASHING_APPLIANCE = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from appliance.bridge import UpstreamBridge, parse_bridge_config
    from appliance.lorawan.identifiers import EUI64

    async def transmit(frame):
        raise AssertionError("no downlinks in this test")

    async def main():
        config = parse_bridge_config(
            {"mode": "forwarder", "mqtt": {"url": sys.argv[1], "keepalive_s": 60}}
        )
        bridge = UpstreamBridge(
            config, data_dir=Path(sys.argv[2]), gateway_ids=[EUI64(sys.argv[3])],
            transmit=transmit,
        )
        await bridge.start()
        while not bridge.connected:
            await asyncio.sleep(0.01)
        print("up", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_last_will_marks_a_crashed_appliance_offline(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_APPLIANCE, mosquitto.url, str(tmp_path), str(GW)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
        assert line.strip() == b"up"
    finally:
        process.kill()
        process.communicate(timeout=30)

    # A server connecting afterwards finds the retained state the broker set from the will.
    state_topic = f"eu868/gateway/{GW}/state/conn"
    async with Subscriber(mosquitto.port, topic=state_topic) as server:
        await wait_until(
            lambda: any(
                m.retain and gw.ConnState.FromString(m.payload).state == gw.ConnState.OFFLINE
                for m in server.messages
            ),
            "a retained OFFLINE state",
        )
