"""The [bridge] table in a running appliance: forwarder mode sends a gateway's uplink to a
central ChirpStack's MQTT broker instead of the local network server."""

from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from chirpstack_api import gw

from tests.appliance_process import running_appliance
from tests.mosquitto_broker import MosquittoBroker

GATEWAY = "0102030405060708"


def _push_data(port: int, phy: bytes) -> None:
    rxpk = {
        "time": "2026-11-21T12:00:00.000000Z",
        "tmst": 1000,
        "chan": 0,
        "rfch": 0,
        "freq": 868.1,
        "stat": 1,
        "modu": "LORA",
        "datr": "SF7BW125",
        "codr": "4/5",
        "rssi": -60,
        "lsnr": 9.5,
        "size": len(phy),
        "data": base64.b64encode(phy).decode(),
    }
    datagram = b"\x02\x12\x34\x00" + bytes.fromhex(GATEWAY) + json.dumps({"rxpk": [rxpk]}).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(datagram, ("127.0.0.1", port))


def test_forwarder_mode_publishes_uplinks_upstream(
    tmp_path: Path, mosquitto: MosquittoBroker
) -> None:
    received: list[bytes] = []
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscriber.on_message = lambda _c, _u, message: received.append(message.payload)
    subscriber.connect("127.0.0.1", mosquitto.port)
    subscriber.subscribe(f"eu868/gateway/{GATEWAY}/event/up")
    subscriber.loop_start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    udp.close()
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    (data_dir / "appliance.toml").write_text(
        f'[bridge]\nmode = "forwarder"\ntransport = "mqtt"\ngateway_ids = ["{GATEWAY}"]\n'
        f'[bridge.mqtt]\nurl = "mqtt://127.0.0.1:{mosquitto.port}"\ntopic_prefix = "eu868"\n'
    )
    phy = bytes.fromhex("40010203048000010001") + b"\x00" * 4
    try:
        with running_appliance(data_dir, "--udp-bind", f"127.0.0.1:{port}") as running:
            deadline = time.monotonic() + 30
            while not received and time.monotonic() < deadline:
                _push_data(port, phy)
                time.sleep(0.5)  # polling a real broker for the forwarded frame
            assert received, running.seen[-5:]
            frame = gw.UplinkFrame()
            frame.ParseFromString(received[0])
            assert frame.phy_payload == phy
            assert frame.rx_info.gateway_id == GATEWAY
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()


def test_a_bridge_without_gateway_ids_is_refused(tmp_path: Path) -> None:
    from tests.cli_helpers import appliance, assert_usage_error  # noqa: PLC0415

    config = tmp_path / "c.toml"
    config.write_text('[bridge]\nmode = "forwarder"\n[bridge.mqtt]\nurl = "mqtt://127.0.0.1:1"\n')
    result = appliance("run", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert_usage_error(result, "bridge.")


pytestmark = pytest.mark.slow
