"""The live stream and the event/frame logs of a running appliance with simulated devices.

The simulated devices send an uplink every 10 s each, and most of these tests wait for one (the
filter test for two of one device). Their subscriptions are therefore opened together, in
threads, as soon as the appliance runs (``streams``), and each test checks what its own
subscription received: the waits overlap instead of adding up to some 40 s.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import websockets
from google.protobuf import json_format

from appliance.app.events import EVENT_MESSAGES, EventKind
from tests.appliance_process import Running, running_appliance

UP = ("event", "up")
DEVICE_2 = "fffe000000000002"
RESULT_TIMEOUT_S = 120  # the subscriptions' own timeouts end them before this


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_appliance(tmp_path_factory.mktemp("stream"), "--simulate", "2") as running:
        yield running


@pytest.fixture(scope="module")
def streams(simulated: Running) -> Iterator[dict[str, Future[Any]]]:
    """The subscriptions of the tests below, each started at once in its own thread."""
    token = simulated.token
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield {
            "all": pool.submit(
                asyncio.run, _collect(_ws_url(simulated, f"token={token}"), 50, until=UP)
            ),
            "device_2_up": pool.submit(
                asyncio.run,
                _collect(_ws_url(simulated, f"token={token}&devEui={DEVICE_2}&kinds=up"), 2),
            ),
            "sse_up": pool.submit(_first_sse_message, simulated, {"kinds": "up"}),
            "txack": pool.submit(asyncio.run, _downlink_and_its_txack(simulated)),
        }


def _ws_url(running: Running, query: str) -> str:
    return running.url.replace("http://", "ws://") + "/api/stream?" + query


async def _collect(
    url: str, count: int, *, until: tuple[str, str] | None = None, timeout: float = 45
) -> list[dict[str, Any]]:
    """``count`` messages, or with ``until`` all messages up to the first of that
    (type, kind-or-direction)."""
    async with websockets.connect(url) as socket:
        received: list[dict[str, Any]] = []
        while len(received) < count:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
            received.append(message)
            if until == (message["type"], message.get("kind") or message.get("direction")):
                break
        return received


def test_websocket_delivers_events_and_frames(streams: dict[str, Future[Any]]) -> None:
    messages = streams["all"].result(RESULT_TIMEOUT_S)
    kinds = {(m["type"], m.get("kind") or m.get("direction")) for m in messages}
    assert ("event", "up") in kinds
    assert ("frame", "up") in kinds
    for message in messages:
        if message["type"] == "event":
            # The body is ChirpStack's event JSON: the strict protobuf parser accepts it.
            parsed = json_format.ParseDict(
                message["body"], EVENT_MESSAGES[EventKind(message["kind"])]()
            )
            assert parsed.device_info.dev_eui == message["devEui"]


def test_filters_by_device_and_kind(streams: dict[str, Future[Any]]) -> None:
    messages = streams["device_2_up"].result(RESULT_TIMEOUT_S)
    assert {(m["type"], m["kind"], m["devEui"]) for m in messages} == {("event", "up", DEVICE_2)}


async def test_refusals_close_with_a_reason(simulated: Running) -> None:
    for query, code in (
        ("token=lwa_wrong", 4401),
        (f"token={simulated.token}&kinds=bogus", 4422),
        (f"token={simulated.token}&devEui=xyz", 4422),
    ):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with websockets.connect(_ws_url(simulated, query)) as socket:
                await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code


def _first_sse_message(running: Running, params: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The content type of ``/api/stream/sse`` and its first message."""
    with (
        running.client() as api,
        api.stream("GET", "/api/stream/sse", params=params, timeout=45) as response,
    ):
        content_type = response.headers["content-type"]
        for line in response.iter_lines():
            if line.startswith("data: "):
                return content_type, json.loads(line[len("data: ") :])
    raise AssertionError("the stream ended without a message")


def test_server_sent_events(streams: dict[str, Future[Any]]) -> None:
    content_type, message = streams["sse_up"].result(RESULT_TIMEOUT_S)
    assert content_type.startswith("text/event-stream")
    assert message["kind"] == "up"


def test_device_event_and_frame_logs(simulated: Running) -> None:
    with simulated.client() as client:
        # The log is written in batches; a query sees what is queued too.
        for _ in range(90):
            events = client.get("/api/devices/fffe000000000001/events", params={"limit": 5})
            assert events.status_code == 200, events.text
            if any(e["kind"] == "up" for e in events.json()["result"]):
                break
            time.sleep(0.5)  # polling a real process's batched log
        else:
            pytest.fail("no up event logged for the simulated device")
        frames = client.get("/api/frames", params={"limit": 5}).json()["result"]
        assert frames and all(f["type"] == "frame" for f in frames)
        assert client.get("/api/frames", params={"gatewayId": "nope"}).status_code == 422


async def _downlink_and_its_txack(running: Running) -> tuple[httpx.Response, dict[str, Any]]:
    """Queue a downlink for device 2 once it has joined (a join empties its queue), then
    subscribe to its txack events: the response to the queueing and the first txack."""
    with running.client() as client:
        deadline = time.monotonic() + 30
        while client.get(f"/api/devices/{DEVICE_2}").json().get("devAddr") is None:
            assert time.monotonic() < deadline, "the simulated device did not join"
            await asyncio.sleep(0.2)
        queued = client.post(f"/api/devices/{DEVICE_2}/queue", json={"fPort": 3, "data": "AQID"})
    if queued.status_code != 201:
        return queued, {}
    query = f"token={running.token}&devEui={DEVICE_2}&kinds=txack"
    (message,) = await _collect(_ws_url(running, query), 1, timeout=60)
    return queued, message


def test_a_queued_downlink_brings_a_txack_event(streams: dict[str, Future[Any]]) -> None:
    queued, message = streams["txack"].result(RESULT_TIMEOUT_S)
    assert queued.status_code == 201, queued.text
    assert message["kind"] == "txack"
    assert message["body"]["queueItemId"] == queued.json()["id"]
    assert message["body"]["txInfo"]["frequency"] > 0
