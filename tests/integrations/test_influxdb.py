"""The InfluxDB integration against an InfluxDB-like local server that records the line
protocol: v2 and v3 write APIs, a batch with data the server rejects, a wrong token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.integrations import IntegrationManager, event_lines
from tests.integrations.helpers import (
    APP,
    DEVICES,
    FakeRepository,
    Gate,
    Reports,
    log_record,
    manager,
    status,
    up,
    wait_until,
)
from tests.integrations.http_server import LocalHTTPServer, Reply, Request

NAME = f"app/{APP}/influxdb"
RETRY = {"retry_min_s": 0.01, "retry_max_s": 0.05}


def _target(running: IntegrationManager) -> dict[str, Any]:
    return next(t for t in running.status()["targets"] if t["name"] == NAME)


def _lines(requests: list[Request]) -> list[str]:
    return [line for r in requests for line in r.body.decode().splitlines()]


async def test_v2_writes_chirpstack_measurements(tmp_path: Path) -> None:
    records = [up(1, decoded={"temperature": 21.5}), log_record(), status(), up(2, DEVICES[1])]
    async with LocalHTTPServer() as server:
        repository = FakeRepository()
        repository.put(
            APP,
            "influxdb",
            {"url": server.url, "org": "farm", "bucket": "lora", "token": "t0k", **RETRY},
        )
        integrations = manager(tmp_path, repository=repository)
        await integrations.start()
        try:
            await integrations.record(records)
            await wait_until(lambda: _target(integrations)["delivered"] == 3, "three events")
        finally:
            await integrations.stop()
    assert {(r.method, r.path) for r in server.requests} == {("POST", "/api/v2/write")}
    request = server.requests[0]
    assert request.query == {"org": "farm", "bucket": "lora", "precision": "ns"}
    assert request.headers["authorization"] == "Token t0k"
    assert request.headers["content-type"] == "text/plain; charset=utf-8"
    # The log event is not InfluxDB's: it never even entered this target's queue.
    expected = [line for r in records for line in event_lines(r)]
    assert _lines(server.requests) == expected
    assert [line.split(",")[0] for line in expected] == [
        "device_frmpayload_data_temperature",
        "device_uplink",
        "device_status_battery_level",
        "device_status_margin",
        "device_uplink",
    ]


async def test_v3_write_api(tmp_path: Path) -> None:
    async with LocalHTTPServer() as server:
        repository = FakeRepository()
        repository.put(
            APP, "influxdb", {"url": server.url, "version": 3, "database": "lora", "token": "x"}
        )
        integrations = manager(tmp_path, repository=repository)
        await integrations.start()
        try:
            await integrations.record([up(1)])
            await wait_until(lambda: len(server.requests) == 1, "the write")
        finally:
            await integrations.stop()
    (request,) = server.requests
    assert (request.path, request.query) == (
        "/api/v3/write_lp",
        {"db": "lora", "precision": "nanosecond"},
    )
    assert request.headers["authorization"] == "Bearer x"


async def test_rejected_data_is_found_dropped_and_reported(tmp_path: Path) -> None:
    def responder(request: Request) -> Reply:
        if b"f_cnt=2i" in request.body:
            return Reply(400, body=b'{"code":"invalid","message":"field type conflict"}')
        return Reply(204)

    reports = Reports()
    async with LocalHTTPServer(responder) as server:
        repository = FakeRepository()
        repository.put(APP, "influxdb", {"url": server.url, "org": "o", "bucket": "b", **RETRY})
        integrations = manager(tmp_path, repository=repository, reports=reports)
        await integrations.start()
        try:
            await integrations.record([up(1), up(2), up(3)])
            await wait_until(lambda: _target(integrations)["backlog"] == 0, "an empty queue")
        finally:
            await integrations.stop()
    # One batch of three, refused; then one at a time: 1 and 3 written, 2 dropped.
    assert [len(r.body.splitlines()) for r in server.requests] == [3, 1, 1, 1]
    written = [r for r in server.requests[1:] if b"f_cnt=2i" not in r.body]
    assert [r.body.split(b" f_cnt=")[1][:2] for r in written] == [b"1i", b"3i"]
    target = _target(integrations)
    assert (target["delivered"], target["refused"]) == (2, 1)
    ((_, dev_eui, line),) = reports.lines
    assert dev_eui == DEVICES[0]
    assert "InfluxDB rejected the data: HTTP 400 Bad Request" in line
    assert "field type conflict" in line


async def test_a_wrong_token_is_retried_until_the_settings_are_fixed(tmp_path: Path) -> None:
    def responder(request: Request) -> Reply:
        if request.headers.get("authorization") != "Token right":
            return Reply(401, body=b'{"code":"unauthorized"}')
        return Reply(204)

    gate = Gate()
    async with LocalHTTPServer(responder) as server:
        repository = FakeRepository()
        settings = {"url": server.url, "org": "o", "bucket": "b", **RETRY}
        repository.put(APP, "influxdb", {**settings, "token": "wrong"})
        integrations = manager(tmp_path, repository=repository, wait=gate)
        await integrations.start()
        try:
            await integrations.record([up(1), up(2)])
            # Counted once the client has read each reply, a moment after the server saw it.
            await wait_until(
                lambda: _target(integrations)["errors"].get("http_4xx", 0) >= 3, "retries"
            )
            assert len(server.requests) >= 3
            assert _target(integrations)["backlog"] == 2  # nothing dropped
            repository.put(APP, "influxdb", {**settings, "token": "right"})
            await integrations.reload(APP)
            await wait_until(lambda: _target(integrations)["delivered"] == 2, "the events")
        finally:
            await integrations.stop()
    assert _target(integrations)["refused"] == 0
    last = server.requests[-1]
    assert last.headers["authorization"] == "Token right" and len(last.body.splitlines()) == 2
