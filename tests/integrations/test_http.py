"""The HTTP integration against a real local HTTP server that fails on purpose: 500s,
timeouts, 429 with Retry-After, 400 for one event; two URLs that do not hold each other back."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from chirpstack_api import integration

from appliance.integrations import IntegrationManager
from tests.integrations.helpers import (
    APP,
    DEVICES,
    FakeRepository,
    Gate,
    Reports,
    f_cnt_of,
    log_record,
    manager,
    status,
    up,
    wait_until,
)
from tests.integrations.http_server import LocalHTTPServer, Reply, Request

RETRY = {"retry_min_s": 0.01, "retry_max_s": 0.08}


def _target(running: IntegrationManager, index: int = 0) -> dict[str, Any]:
    name = f"app/{APP}/http/{index}"
    return next(t for t in running.status()["targets"] if t["name"] == name)


def _http(repository: FakeRepository, *urls: str, **options: Any) -> None:
    repository.put(APP, "http", {"urls": list(urls), **RETRY, **options})


async def test_each_event_is_posted_with_its_kind_headers_and_json(tmp_path: Path) -> None:
    records = [up(1), status(), log_record(), up(2, DEVICES[1])]
    async with LocalHTTPServer() as server:
        repository = FakeRepository()
        _http(repository, f"{server.url}/hook?token=abc", headers={"Authorization": "Bearer k"})
        integrations = manager(tmp_path, repository=repository)
        await integrations.start()
        try:
            await integrations.record(records)
            await wait_until(lambda: _target(integrations)["delivered"] == 4, "four posts")
        finally:
            await integrations.stop()
    assert [(r.method, r.path, r.query) for r in server.requests] == [
        ("POST", "/hook", {"token": "abc", "event": kind}) for kind in ("up", "status", "log", "up")
    ]
    for request, record in zip(server.requests, records, strict=True):
        assert request.headers["content-type"] == "application/json"
        assert request.headers["authorization"] == "Bearer k"
        assert request.body == record.json().encode()


async def test_protobuf_bodies(tmp_path: Path) -> None:
    record = up(5, decoded={"on": True})
    async with LocalHTTPServer() as server:
        repository = FakeRepository()
        _http(repository, server.url, json=False)  # ChirpStack's switch
        integrations = manager(tmp_path, repository=repository)
        await integrations.start()
        try:
            await integrations.record([record])
            await wait_until(lambda: len(server.requests) == 1, "the post")
        finally:
            await integrations.stop()
    (request,) = server.requests
    assert request.headers["content-type"] == "application/octet-stream"
    assert integration.UplinkEvent.FromString(request.body) == record.message


async def test_server_errors_are_retried_with_growing_pauses_and_order_is_kept(
    tmp_path: Path,
) -> None:
    failures = 4

    def responder(request: Request) -> Reply:
        nonlocal failures
        if failures:
            failures -= 1
            return Reply(500 if failures % 2 else 503)
        return Reply(200)

    gate = Gate()
    async with LocalHTTPServer(responder) as server:
        repository = FakeRepository()
        _http(repository, server.url)
        integrations = manager(tmp_path, repository=repository, wait=gate)
        await integrations.start()
        try:
            await integrations.record([up(f, d) for f in range(1, 6) for d in DEVICES])
            await wait_until(lambda: _target(integrations)["delivered"] == 15, "every event")
        finally:
            await integrations.stop()
    delivered = [f_cnt_of(r.body) for r in server.requests[4:]]
    assert delivered == [(str(d), f) for f in range(1, 6) for d in DEVICES]
    assert {f_cnt_of(r.body) for r in server.requests[:4]} == {(str(DEVICES[0]), 1)}
    target = _target(integrations)
    assert target["errors"] == {"http_5xx": 4} and target["last_error"].startswith("HTTP 50")
    retries = [w for w in gate.waits if w != integrations.limits.delete_interval_s]
    assert retries == [0.01, 0.02, 0.04, 0.08]  # doubling, capped at retry_max_s


async def test_a_refused_event_is_dropped_and_reported_the_rest_goes_on(tmp_path: Path) -> None:
    def responder(request: Request) -> Reply:
        return Reply(400) if f_cnt_of(request.body) == (str(DEVICES[0]), 2) else Reply(200)

    reports = Reports()
    async with LocalHTTPServer(responder) as server:
        repository = FakeRepository()
        _http(repository, server.url)
        integrations = manager(tmp_path, repository=repository, reports=reports)
        await integrations.start()
        try:
            await integrations.record([up(1), up(2), up(3)])
            await wait_until(lambda: len(server.requests) == 3, "three posts")
            await wait_until(lambda: _target(integrations)["backlog"] == 0, "an empty queue")
        finally:
            await integrations.stop()
    target = _target(integrations)
    assert (target["delivered"], target["refused"]) == (2, 1)
    ((app, dev_eui, line),) = reports.lines
    assert (app, dev_eui) == (APP, DEVICES[0])
    assert line == (
        f"integration app/{APP}/http/0: up event dropped: "
        f"{server.url} answered HTTP 400 Bad Request"
    )
    metrics = "\n".join(integrations.metrics())
    assert f'appliance_integration_refused_total{{target="app/{APP}/http/0",kind="http"}} 1' in (
        metrics
    )


async def test_timeouts_and_retry_after(tmp_path: Path) -> None:
    answers = [Reply(200, delay_s=1.0), Reply(429, headers={"Retry-After": "7"}), Reply(200)]

    def responder(request: Request) -> Reply:
        return answers.pop(0) if answers else Reply(200)

    gate = Gate()
    async with LocalHTTPServer(responder) as server:
        repository = FakeRepository()
        _http(repository, server.url, timeout_s=0.2, retry_max_s=60)
        integrations = manager(tmp_path, repository=repository, wait=gate)
        await integrations.start()
        try:
            await integrations.record([up(1)])
            await wait_until(lambda: _target(integrations)["delivered"] == 1, "the event")
        finally:
            await integrations.stop()
    assert len(server.requests) == 3
    target = _target(integrations)
    assert target["errors"] == {"timeout": 1, "http_4xx": 1}
    retries = [w for w in gate.waits if w != integrations.limits.delete_interval_s]
    assert retries == [0.01, 7.0]  # the server asked for 7 s


async def test_a_failing_url_does_not_hold_back_another(tmp_path: Path, caplog: Any) -> None:
    async with (
        LocalHTTPServer() as good,
        LocalHTTPServer(lambda request: Reply(502)) as bad,
    ):
        repository = FakeRepository()
        _http(repository, f"{bad.url}/a", f"{good.url}/b")
        integrations = manager(tmp_path, repository=repository)
        await integrations.start()
        try:
            await integrations.record([up(f) for f in range(1, 11)])
            await wait_until(lambda: len(good.requests) == 10, "the good endpoint")
            # Counted once the client has read the replies, a moment after the server saw them.
            await wait_until(lambda: _target(integrations, 1)["delivered"] == 10, "its count")
            await wait_until(lambda: _target(integrations, 0)["errors"], "the bad one's errors")
            assert _target(integrations, 0)["backlog"] == 10
        finally:
            await integrations.stop()
    assert _target(integrations, 1)["delivered"] == 10
    assert any("HTTP 502 Bad Gateway; 10 events wait" in r.getMessage() for r in caplog.records)


async def test_an_unreachable_endpoint_keeps_the_events(tmp_path: Path) -> None:
    server = await LocalHTTPServer().start()
    url = server.url
    await server.close()  # nothing listens there any more
    repository = FakeRepository()
    _http(repository, url)
    integrations = manager(tmp_path, repository=repository)
    await integrations.start()
    try:
        await integrations.record([up(1), up(2)])
        await wait_until(lambda: _target(integrations)["errors"].get("connect", 0) >= 2, "errors")
    finally:
        await integrations.stop()
    target = _target(integrations)
    assert target["backlog"] == 2 and target["last_error"].startswith("cannot connect")
    assert uuid.UUID(target["application_id"]) == APP
