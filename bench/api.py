"""The REST API and the live stream, served in process on loopback as the appliance serves them.

- GET device: ``GET /api/devices/{devEui}`` for random devices of a store holding N devices
  (100,000 in the full run), one request at a time over a kept-alive connection, with the
  admin token; p50/p99 of the whole request as a client sees it;
- live stream: ``up`` event records published into the broker as fast as the loop allows while
  one WebSocket subscriber (``/api/stream``) receives them; events/s received, counting the
  ones the broker reported as missed separately.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets
from chirpstack_api import integration

from appliance.api.app import create_app
from appliance.api.context import APIContext
from appliance.api.server import APIServer
from appliance.app.auth import new_token, token_hash
from appliance.app.events import EventBroker, EventRecord
from appliance.app.model import APIKey, Application, Scope
from appliance.app.repository import Repository
from appliance.app.status import StatusTracker
from appliance.lorawan.identifiers import EUI64
from appliance.ns import sqlite_store
from appliance.ns.device import Device
from appliance.ns.events import Metrics
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile
from appliance.ns.sqlite_rows import device_to_json
from bench.codecs import LatencyResult
from bench.protocol import Result


@dataclass
class _Served:
    server: APIServer
    token: str
    devices: list[str]
    broker: EventBroker


async def _serve(directory: Path, devices: int) -> _Served:
    store = sqlite_store.SQLiteStore.open(directory)
    repository = Repository(store.connection)
    now = datetime.now(UTC)
    app = repository.create_application(Application(uuid.uuid4(), "bench"), now)
    profile = DeviceProfile("bench", "EU868")
    await store.add_profile(profile)
    euis = [f"{0x70B3D50000000000 + index:016x}" for index in range(devices)]
    # One transaction for the whole fleet (enrolling through the API would measure enrolment).
    rows = [
        (
            eui,
            "0000000000000000",
            device_to_json(Device(EUI64(eui), EUI64(0), f"device {index}", profile.id, app.id)),
        )
        for index, eui in enumerate(euis)
    ]
    with store.connection:
        store.connection.execute("BEGIN")
        store.connection.executemany(
            "INSERT INTO devices (dev_eui, join_eui, data) VALUES (?, ?, ?)", rows
        )
    token = new_token()
    repository.create_api_key(APIKey(uuid.uuid4(), "bench", Scope.ADMIN), token_hash(token), now)
    broker = EventBroker()
    context = APIContext(
        store=store,
        repository=repository,
        settings=NetworkSettings(),
        metrics=Metrics(),
        data_dir=directory,
        version="bench",
        status=StatusTracker(repository),
    )
    context.services["broker"] = broker
    server = APIServer(create_app(context), "127.0.0.1:0")
    await server.start()
    return _Served(server, token, euis, broker)


async def _get_devices(served: _Served, count: int) -> LatencyResult:
    rng = random.Random(7)
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {served.token}"}
    async with httpx.AsyncClient(base_url=served.server.url, headers=headers) as client:
        start = time.perf_counter()
        for _ in range(count):
            eui = rng.choice(served.devices)
            began = time.perf_counter()
            response = await client.get(f"/api/devices/{eui}")
            latencies.append(time.perf_counter() - began)
            assert response.status_code == 200, response.text
        seconds = time.perf_counter() - start
    latencies.sort()
    return LatencyResult(
        f"api GET device ({len(served.devices):,} devices)",
        count,
        seconds,
        latencies[len(latencies) // 2],
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    )


def _record(index: int) -> EventRecord:
    message = integration.UplinkEvent()
    message.deduplication_id = str(uuid.UUID(int=index))
    message.time.FromDatetime(datetime(2026, 11, 21, tzinfo=UTC))
    message.device_info.application_id = "00000000-0000-4000-8000-000000000001"
    message.device_info.dev_eui = "70b3d50000000001"
    message.device_info.device_name = "bench"
    message.f_cnt = index
    message.f_port = 1
    message.data = b"\x01\x02\x03\x04"
    return EventRecord(message)


async def _stream(served: _Served, count: int) -> Result:
    url = served.server.url.replace("http://", "ws://") + f"/api/stream?token={served.token}"
    records = [_record(i) for i in range(count)]
    async with websockets.connect(url, max_queue=None) as socket:
        await asyncio.sleep(0.05)  # let the subscription register before publishing

        async def publish() -> None:
            for index, record in enumerate(records):
                served.broker.publish(record)
                if index % 100 == 99:
                    await asyncio.sleep(0)

        start = time.perf_counter()
        publisher = asyncio.create_task(publish())
        received = missed = 0
        while received + missed < count:
            message = json.loads(await asyncio.wait_for(socket.recv(), 30))
            if message["type"] == "missed":
                missed += message["count"]
            else:
                received += 1
        seconds = time.perf_counter() - start
        await publisher
    return Result(f"api live stream to 1 WebSocket subscriber ({missed} missed)", received, seconds)


async def _run(devices: int, gets: int, events: int) -> list[Result | LatencyResult]:
    with tempfile.TemporaryDirectory() as directory:
        served = await _serve(Path(directory), devices)
        try:
            return [await _get_devices(served, gets), await _stream(served, events)]
        finally:
            await served.server.stop()


def run(quick: bool) -> list[Result | LatencyResult]:
    if quick:
        return asyncio.run(_run(devices=2_000, gets=200, events=2_000))
    return asyncio.run(_run(devices=100_000, gets=3_000, events=50_000))


if __name__ == "__main__":
    for result in run(quick=False):
        print(result.line())
