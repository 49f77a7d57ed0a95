"""The integrations through failures: the global MQTT integration's broker (``--mqtt-url``,
ChirpStack's topics) stopped for a while under load, ``kill -9`` of the appliance, and an
application's HTTP endpoint failing with 503 for a while. Every ``up`` event that was produced
reaches the application, each device's in order, and the backlog drains by itself (the durable
outbox, appliance/integrations/outbox.py).

Skipped, saying so, while ``appliance run`` does not publish to ``--mqtt-url`` (the outbox and
targets exist in appliance/integrations/ but appliance/runtime.py does not start them yet).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.system.fleet import APPLICATION_ID, Frame, dev_eui
from tests.faults.collector import Collector
from tests.faults.rig import Rig
from tests.mosquitto_broker import BrokerFactory, MosquittoBroker

DEVICES = 20
TOPIC = "application/+/device/+/event/up"


def _persistent_broker(tmp_path: Path, factory: BrokerFactory) -> MosquittoBroker:
    state = tmp_path / "broker-state"
    state.mkdir()
    return factory(
        extra_config=f"persistence true\npersistence_location {state}/\nautosave_interval 1"
    )


def _events(messages: list[tuple[str, bytes]]) -> list[tuple[str, int]]:
    """(DevEUI, FCnt) of each ``up`` event, in arrival order."""
    return [(topic.split("/")[3], int(json.loads(body)["fCnt"])) for topic, body in messages]


def _keys(frames: list[Frame]) -> set[tuple[str, int]]:
    return {(str(dev_eui(f.device)), f.f_cnt) for f in frames}


def _start_publishing(rig: Rig, broker: MosquittoBroker, app: Collector) -> None:
    rig.start(args=("--mqtt-url", broker.url))
    probe, _ = rig.send(3, 20, confirmed_share=0.0)
    if not app.wait_until(lambda m: set(_events(m)) >= _keys(probe), 8):
        pytest.skip(
            "appliance run does not publish up events to --mqtt-url yet "
            "(appliance/runtime.py does not start appliance/integrations)"
        )


def _in_order_per_device(arrived: list[tuple[str, int]]) -> None:
    first: dict[tuple[str, int], int] = {}
    for position, key in enumerate(arrived):
        first.setdefault(key, position)  # at least once: later copies are duplicates
    by_device: dict[str, list[int]] = {}
    for (device, f_cnt), _ in sorted(first.items(), key=lambda item: item[1]):
        by_device.setdefault(device, []).append(f_cnt)
    for device, counters in by_device.items():
        assert counters == sorted(counters), (device, counters)


@pytest.mark.slow
def test_broker_outage_loses_no_event_and_keeps_order(
    tmp_path: Path, mosquitto_factory: BrokerFactory
) -> None:
    broker = _persistent_broker(tmp_path, mosquitto_factory)
    app = Collector(broker.port, TOPIC, client_id="application")
    rig = Rig(tmp_path / "data", DEVICES)
    try:
        _start_publishing(rig, broker, app)
        before, _ = rig.send(100, 50, confirmed_share=0.0)
        broker.stop()
        during, _ = rig.send(150, 50, confirmed_share=0.0)
        time.sleep(2.0)
        broker.start()
        after, _ = rig.send(100, 50, confirmed_share=0.0)
        wanted = _keys([*before, *during, *after])
        assert app.wait_until(lambda m: set(_events(m)) >= wanted, 60), (
            f"{len(wanted - set(_events(app.snapshot())))} of {len(wanted)} events missing"
        )
        _in_order_per_device(_events(app.snapshot()))
    finally:
        app.close()
        rig.close()


@pytest.mark.slow
def test_kill_minus_nine_loses_no_produced_event(
    tmp_path: Path, mosquitto_factory: BrokerFactory
) -> None:
    broker = _persistent_broker(tmp_path, mosquitto_factory)
    app = Collector(broker.port, TOPIC, client_id="application")
    rig = Rig(tmp_path / "data", DEVICES)
    try:
        _start_publishing(rig, broker, app)
        appliance = rig.appliance
        assert appliance is not None
        rig.send(450, 300)  # every uplink confirmed: an ACK means the server produced its event
        appliance.kill()
        acknowledged = {(str(dev_eui(d)), f) for d, f in rig.check_downlinks().answered}
        assert len(acknowledged) > 100
        rig.start(args=("--mqtt-url", broker.url))
        assert app.wait_until(lambda m: set(_events(m)) >= acknowledged, 60), (
            f"{len(acknowledged - set(_events(app.snapshot())))} acknowledged uplinks "
            "have no up event"
        )
        _in_order_per_device(_events(app.snapshot()))
    finally:
        app.close()
        rig.close()


@dataclass
class _EndpointState:
    failing: bool = True  # answer 503
    refused: int = 0
    received: list[tuple[str, int]] = field(default_factory=list)  # up events, in order


class _Endpoint(BaseHTTPRequestHandler):
    """An application's HTTP endpoint: 503 while failing, else 200."""

    server: _EndpointServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        state = self.server.state
        if state.failing:
            state.refused += 1
            self.send_response(503)
        else:
            if "event=up" in self.path:
                event = json.loads(body)
                state.received.append((event["deviceInfo"]["devEui"], int(event["fCnt"])))
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return None


class _EndpointServer(ThreadingHTTPServer):
    def __init__(self, state: _EndpointState) -> None:
        super().__init__(("127.0.0.1", 0), _Endpoint)
        self.state = state


def _put_http_integration(rig: Rig, url: str) -> None:
    appliance = rig.appliance
    assert appliance is not None
    body = json.dumps(
        {"config": {"urls": [url], "retry_min_s": 0.2, "retry_max_s": 1.0, "timeout_s": 2}}
    ).encode()
    request = urllib.request.Request(
        f"{appliance.url}/api/applications/{APPLICATION_ID}/integrations/http",
        data=body,
        method="PUT",
        headers={"Authorization": f"Bearer {appliance.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.mark.slow
def test_failing_http_endpoint_loses_no_event_and_keeps_order(tmp_path: Path) -> None:
    endpoint = _EndpointState()
    server = _EndpointServer(endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rig = Rig(tmp_path / "data", DEVICES)
    try:
        rig.start()
        _put_http_integration(rig, f"http://127.0.0.1:{server.server_port}/events")
        failing, _ = rig.send(60, 30, confirmed_share=0.0)
        time.sleep(2.0)
        assert endpoint.refused > 0  # the endpoint was tried and said 503
        endpoint.failing = False
        after, _ = rig.send(30, 30, confirmed_share=0.0)
        wanted = _keys([*failing, *after])
        deadline = time.monotonic() + 30
        while not set(endpoint.received) >= wanted and time.monotonic() < deadline:
            time.sleep(0.1)
        missing = wanted - set(endpoint.received)
        assert not missing, f"{len(missing)} of {len(wanted)} events missing"
        _in_order_per_device(list(endpoint.received))
    finally:
        rig.close()
        server.shutdown()
        server.server_close()
