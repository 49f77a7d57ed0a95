"""The global MQTT integration of a running appliance: simulated devices' events on ChirpStack's
topics, and a downlink command from the broker into the device queue."""

from __future__ import annotations

import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from chirpstack_api import integration
from google.protobuf import json_format

from tests.appliance_process import running_appliance
from tests.mosquitto_broker import MosquittoBroker

pytestmark = pytest.mark.slow


def test_events_published_and_commands_queued(tmp_path: Path, mosquitto: MosquittoBroker) -> None:
    messages: list[mqtt.MQTTMessage] = []
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscriber.on_message = lambda _c, _u, message: messages.append(message)
    subscriber.connect("127.0.0.1", mosquitto.port)
    subscriber.subscribe("application/+/device/+/event/+")
    subscriber.loop_start()
    try:
        with running_appliance(
            tmp_path / "d", "--simulate", "2", "--mqtt-url", f"mqtt://127.0.0.1:{mosquitto.port}"
        ) as running:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(
                m.topic.endswith("/event/up") for m in messages
            ):
                time.sleep(0.2)  # polling a real broker for the simulated devices' traffic
            up = next(m for m in messages if m.topic.endswith("/event/up"))
            _, app_id, _, dev_eui, _, _ = up.topic.split("/")
            event = json_format.Parse(up.payload, integration.UplinkEvent())
            assert event.device_info.dev_eui == dev_eui
            assert event.device_info.application_id == app_id
            assert any(m.topic.endswith("/event/join") for m in messages)
            command = {"devEui": dev_eui, "fPort": 7, "data": "AQID", "confirmed": False}
            subscriber.publish(
                f"application/{app_id}/device/{dev_eui}/command/down", json.dumps(command)
            )
            bad = {"devEui": "0000000000000000", "fPort": 7, "data": "AQID"}
            subscriber.publish(
                f"application/{app_id}/device/{dev_eui}/command/down", json.dumps(bad)
            )
            with running.client() as api:
                deadline = time.monotonic() + 30
                found: list[dict[str, object]] = []
                while time.monotonic() < deadline and not found:
                    queue = api.get(f"/api/devices/{dev_eui}/queue").json()
                    sent = api.get(f"/api/devices/{dev_eui}/events", params={"limit": 50})
                    found = [q for q in queue if q["fPort"] == 7] or [
                        e for e in sent.json()["result"] if e["kind"] == "txack"
                    ]
                    time.sleep(0.2)
                assert found, "the MQTT downlink command did not reach the device queue"
                metrics = api.get("/metrics").text
                assert "integration" in metrics
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
