"""The live stream and the event/frame logs of a running appliance with simulated devices."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from google.protobuf import json_format

from appliance.app.events import EVENT_MESSAGES, EventKind
from tests.appliance_process import Running, running_appliance


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_appliance(tmp_path_factory.mktemp("stream"), "--simulate", "2") as running:
        yield running


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


async def test_websocket_delivers_events_and_frames(simulated: Running) -> None:
    messages = await _collect(
        _ws_url(simulated, f"token={simulated.token}"), 50, until=("event", "up")
    )
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


async def test_filters_by_device_and_kind(simulated: Running) -> None:
    query = f"token={simulated.token}&devEui=fffe000000000002&kinds=up"
    messages = await _collect(_ws_url(simulated, query), 2)
    assert {(m["type"], m["kind"], m["devEui"]) for m in messages} == {
        ("event", "up", "fffe000000000002")
    }


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


def test_server_sent_events(simulated: Running) -> None:
    with (
        simulated.client() as api,
        api.stream("GET", "/api/stream/sse", params={"kinds": "up"}, timeout=45) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                message = json.loads(line[len("data: ") :])
                assert message["kind"] == "up"
                break


def test_device_event_and_frame_logs(simulated: Running, api: httpx.Client) -> None:
    del api
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


async def test_a_queued_downlink_brings_a_txack_event(simulated: Running) -> None:
    with simulated.client() as client:
        queued = client.post(
            "/api/devices/fffe000000000002/queue", json={"fPort": 3, "data": "AQID"}
        )
        assert queued.status_code == 201, queued.text
    query = f"token={simulated.token}&devEui=fffe000000000002&kinds=txack"
    (message,) = await _collect(_ws_url(simulated, query), 1, timeout=60)
    assert message["kind"] == "txack"
    assert message["body"]["queueItemId"] == queued.json()["id"]
    assert message["body"]["txInfo"]["frequency"] > 0
