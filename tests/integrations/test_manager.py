"""The integrations as a running part: configuration changes through the API (reload),
stored settings that are no longer valid, targets left over from an earlier run, the status
and metrics the API shows."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from appliance.integrations import IntegrationManager, parse_global_mqtt
from appliance.integrations.reporting import Reporter
from appliance.lorawan.identifiers import EUI64
from tests.integrations.helpers import (
    APP,
    OTHER_APP,
    FakeRepository,
    Queue,
    Reports,
    manager,
    up,
    wait_until,
)
from tests.integrations.http_server import LocalHTTPServer, Reply
from tests.mosquitto_broker import MosquittoBroker

_SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? -?[0-9.]+$')


async def test_reload_starts_changes_and_stops_targets(tmp_path: Path) -> None:
    async with LocalHTTPServer() as first, LocalHTTPServer() as second:
        repository = FakeRepository()
        integrations = manager(tmp_path, repository=repository)
        await integrations.start()
        try:
            await integrations.record([up(1)])  # no integration yet: nowhere to go
            repository.put(APP, "http", {"urls": [first.url]})
            await integrations.reload(APP)
            await integrations.record([up(2), up(3, application_id=OTHER_APP)])
            await wait_until(lambda: len(first.requests) == 1, "the first endpoint")
            repository.put(APP, "http", {"urls": [second.url], "headers": {"X-Key": "k"}})
            await integrations.reload(APP)
            names = [t["name"] for t in integrations.status()["targets"]]
            assert names == [f"app/{APP}/http/0"]  # the same queue, new settings
            await integrations.record([up(4)])
            await wait_until(lambda: len(second.requests) == 1, "the second endpoint")
            await integrations.reload(APP)  # nothing changed: nothing restarts
            repository.delete(APP, "http")
            await integrations.reload(APP)
            assert integrations.status()["targets"] == []
        finally:
            await integrations.stop()
    assert second.requests[0].headers["x-key"] == "k"


async def test_a_stored_config_that_is_no_longer_valid_is_reported_not_fatal(
    tmp_path: Path,
) -> None:
    reports = Reports()
    repository = FakeRepository()
    repository.put(APP, "http", {"urls": ["ftp://nope"]})
    async with LocalHTTPServer() as server:
        repository.put(OTHER_APP, "http", {"urls": [server.url]})
        integrations = manager(tmp_path, repository=repository, reports=reports)
        await integrations.start()
        try:
            await integrations.record([up(1, application_id=OTHER_APP)])
            await wait_until(lambda: len(server.requests) == 1, "the valid one delivers")
        finally:
            await integrations.stop()
    ((app, dev_eui, line),) = reports.lines
    assert (app, dev_eui) == (APP, None)
    assert line == (
        f"http integration of application {APP} not started: "
        "urls: expected http://HOST[:PORT]/PATH or https://..., got 'ftp://nope'"
    )


async def test_targets_left_from_an_earlier_run_are_dropped_and_reported(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    mosquitto.kill()  # the broker is down: events wait
    config = parse_global_mqtt(mosquitto.url, {"reconnect_min_s": 0.01})
    integrations = manager(tmp_path, global_mqtt=config)
    await integrations.start()
    await integrations.record([up(1), up(2)])
    await integrations.stop()
    reports = Reports()
    integrations = manager(tmp_path, reports=reports)  # started without the global MQTT
    await integrations.start()
    await integrations.stop()
    assert reports.lines == [
        (None, None, "integration global/mqtt removed: 2 undelivered events dropped")
    ]


async def test_an_asynchronous_report_hook_runs_as_a_task(tmp_path: Path) -> None:
    seen: list[str] = []

    async def report(application_id: uuid.UUID | None, dev_eui: EUI64 | None, text: str) -> None:
        await asyncio.sleep(0)
        seen.append(text)

    repository = FakeRepository()
    async with LocalHTTPServer(lambda request: Reply(400)) as server:
        repository.put(APP, "http", {"urls": [server.url]})
        integrations = IntegrationManager(
            tmp_path, repository, global_mqtt=None, enqueue=Queue(), report=report
        )
        await integrations.start()
        try:
            await integrations.record([up(1)])
            await wait_until(lambda: len(seen) == 1, "the report")
        finally:
            await integrations.stop()
    assert "answered HTTP 400 Bad Request" in seen[0]


async def test_status_and_metrics(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with LocalHTTPServer() as server:
        repository = FakeRepository()
        repository.put(APP, "http", {"urls": [server.url]})
        repository.put(
            APP, "influxdb", {"url": server.url, "org": "o", "bucket": "b", "token": "t"}
        )
        integrations = manager(tmp_path, repository=repository)
        await integrations.start()
        try:
            await integrations.record([up(1)])
            await wait_until(lambda: len(server.requests) == 2, "both")
            await wait_until(lambda: integrations.status()["backlog"] == 0, "an empty backlog")
            status = integrations.status()
            metrics = integrations.metrics()
            assert integrations.backlog(APP) == {
                f"app/{APP}/http/0": 0,
                f"app/{APP}/influxdb": 0,
            }
        finally:
            await integrations.stop()
    assert status["outbox"]["file"] == str(tmp_path / "outbox.db")
    assert status["outbox"]["commits"] >= 1 and status["outbox"]["rows_written"] == 2
    http: dict[str, Any] = status["targets"][0]
    assert http == {
        "name": f"app/{APP}/http/0",
        "kind": "http",
        "application_id": str(APP),
        "destination": server.url,
        "backlog": 0,
        "backlog_bytes": 0,
        "in_flight": 0,
        "delivered": 1,
        "refused": 0,
        "dropped": {},
        "connected": None,
        "connects": 0,
        "errors": {},
        "last_error": "",
        "commands_accepted": 0,
        "commands_rejected": {},
    }
    assert status["targets"][1]["destination"] == f"{server.url}/api/v2/write"
    families = [line.split()[2] for line in metrics if line.startswith("# TYPE")]
    helps = [line.split()[2] for line in metrics if line.startswith("# HELP")]
    assert families == helps and len(families) == len(set(families))
    for line in metrics:
        assert line.startswith("#") or _SAMPLE.match(line), line
    assert (
        f'appliance_integration_delivered_total{{target="app/{APP}/influxdb",kind="influxdb"}} 1'
        in metrics
    )
    # After stop, events are refused with one log line instead of waiting forever.
    await integrations.record([up(2)])
    assert "not running; 1 events not recorded" in caplog.text


def test_validate_is_the_api_hook(tmp_path: Path) -> None:
    integrations = manager(tmp_path)
    assert integrations.validate("http", {"urls": ["http://x"]})["encoding"] == "json"
    with pytest.raises(ValueError, match="urls: give at least one URL"):
        integrations.validate("http", {})


def test_reports_of_one_target_are_limited_per_minute() -> None:
    reports = Reports()
    now = [0.0]
    reporter = Reporter(reports, monotonic=lambda: now[0], burst=5, window_s=60)
    for number in range(7):
        reporter("refused/x", f"event {number} dropped", application_id=APP)
    reporter("refused/y", "another target", application_id=APP)
    assert [line for _, _, line in reports.lines] == [
        *(f"event {n} dropped" for n in range(5)),
        "another target",
    ]
    now[0] = 61.0
    reporter("refused/x", "event 7 dropped")
    assert reports.lines[-1][2] == "event 7 dropped (2 similar reports left out)"
    assert reporter.left_out == 2
