"""The MQTT integration against a real Mosquitto: ChirpStack's topics and payloads, the broker
killed and restarted mid-stream, wrong credentials, TLS with CA and client certificates,
downlink commands good and bad."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import pytest
from chirpstack_api import integration

from appliance.integrations import parse_global_mqtt
from tests.integrations.helpers import (
    APP,
    DEVICES,
    OTHER_APP,
    FakeRepository,
    Gate,
    Queue,
    Reports,
    Subscriber,
    f_cnt_of,
    first_occurrences,
    log_record,
    manager,
    status,
    up,
    wait_until,
)
from tests.mosquitto_broker import BrokerFactory, MosquittoBroker, make_client_cert, make_tls_files

FAST = {"reconnect_min_s": 0.01, "reconnect_max_s": 0.05, "timeout_s": 2}


def _target(status: dict[str, Any], name: str = "global/mqtt") -> dict[str, Any]:
    return next(t for t in status["targets"] if t["name"] == name)


async def test_events_on_chirpstack_topics_with_chirpstack_json(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    config = parse_global_mqtt(mosquitto.url, {"qos": 1, **FAST})
    records = [up(1), up(2, DEVICES[1], application_id=OTHER_APP), status(), log_record()]
    async with Subscriber(mosquitto.port) as subscriber:
        integrations = manager(tmp_path, global_mqtt=config)
        await integrations.start()
        try:
            await integrations.record(records)
            await wait_until(lambda: len(subscriber.messages) == 4, "four events")
            await wait_until(lambda: integrations.status()["backlog"] == 0, "an empty backlog")
        finally:
            await integrations.stop()
    assert [(m.topic, m.payload.decode()) for m in subscriber.messages] == [
        (f"application/{r.application_id}/device/{r.dev_eui}/event/{r.kind}", r.json())
        for r in records
    ]
    target = _target(integrations.status())
    assert target["delivered"] == 4 and target["backlog"] == 0


async def test_protobuf_encoding_and_retained_messages(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    config = parse_global_mqtt(
        mosquitto.url, {"encoding": "protobuf", "retain": True, "topic_prefix": "site/a", **FAST}
    )
    record = up(9, decoded={"temperature": 21.5})
    integrations = manager(tmp_path, global_mqtt=config)
    await integrations.start()
    try:
        await integrations.record([record])
        await wait_until(lambda: integrations.status()["targets"][0]["delivered"] == 1, "sent")
    finally:
        await integrations.stop()
    # Subscribed after the publish: only a retained message can arrive.
    async with Subscriber(mosquitto.port, topic="site/a/#") as late:
        await wait_until(lambda: len(late.messages) == 1, "the retained event")
    message = late.messages[0]
    assert message.topic == f"site/a/{APP}/device/{DEVICES[0]}/event/up"
    assert integration.UplinkEvent.FromString(message.payload) == record.message


async def test_broker_killed_and_restarted_mid_stream_loses_nothing_and_keeps_order(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    gate = Gate()
    config = parse_global_mqtt(mosquitto.url, {"qos": 1, **FAST})
    integrations = manager(tmp_path, global_mqtt=config, wait=gate)
    subscriber = await Subscriber(mosquitto.port, topic="application/#").connect()
    await integrations.start()

    async def record(f_cnts: range) -> None:
        for f_cnt in f_cnts:
            await integrations.record([up(f_cnt, dev_eui) for dev_eui in DEVICES])

    def target() -> dict[str, Any]:
        return _target(integrations.status())

    try:
        await wait_until(lambda: target()["connected"], "connected")
        await record(range(1, 101))
        await wait_until(lambda: len(subscriber.messages) == 300, "the first 100 per device")
        # Mid-stream: the broker hangs with events on the wire and dies before acknowledging
        # them. (A broker killed after its PUBACK loses what it had not passed on yet: the
        # broker's loss, which no client can see; freezing it first keeps the test exact.)
        gate.close()
        mosquitto.pause()
        await record(range(101, 151))
        await wait_until(lambda: target()["in_flight"] > 0, "events in flight")
        mosquitto.kill()
        await wait_until(lambda: not target()["connected"], "the integration to notice")
        await record(range(151, 201))
        assert target()["backlog"] == 300
        await subscriber.close()
        mosquitto.start()
        await subscriber.connect()
        gate.open()
        everything = {(str(d), f) for d in DEVICES for f in range(1, 201)}
        await wait_until(
            lambda: {f_cnt_of(m.payload) for m in subscriber.messages} >= everything,
            "every event",
        )
        await wait_until(lambda: target()["backlog"] == 0, "an empty backlog")
    finally:
        await integrations.stop()
        await subscriber.close()
    order = first_occurrences(f_cnt_of(m.payload) for m in subscriber.messages)
    for dev_eui in DEVICES:
        assert order[str(dev_eui)] == list(range(1, 201)), str(dev_eui)
    final = target()
    assert final["connects"] == 2 and final["errors"]["closed"] >= 1
    assert final["dropped"] == {}


async def test_wrong_credentials_are_retried_and_events_survive_a_restart(
    mosquitto_factory: BrokerFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto_factory(users={"appliance": "right", "reader": "reader"})
    wrong = parse_global_mqtt(
        broker.url, {"username": "appliance", "password": "wrong-secret", **FAST}
    )
    integrations = manager(tmp_path, global_mqtt=wrong)
    await integrations.start()
    try:
        await integrations.record([up(1), up(2)])
        await wait_until(
            lambda: _target(integrations.status())["errors"].get("auth", 0) >= 2, "refusals"
        )
        assert not _target(integrations.status())["connected"]
    finally:
        await integrations.stop()
    assert _target(integrations.status())["backlog"] == 2
    refusals = [r for r in caplog.records if "broker refused the connection" in r.getMessage()]
    assert refusals and all(r.levelname == "WARNING" for r in refusals)
    assert "retrying in" in refusals[0].getMessage()
    assert not any("wrong-secret" in r.getMessage() for r in caplog.records)

    # A new manager on the same data directory, with the right password, sends both.
    right = parse_global_mqtt(broker.url, {"username": "appliance", "password": "right", **FAST})
    async with Subscriber(broker.port, username="reader", password="reader") as subscriber:
        integrations = manager(tmp_path, global_mqtt=right)
        await integrations.start()
        try:
            await wait_until(lambda: len(subscriber.messages) == 2, "the stored events")
        finally:
            await integrations.stop()
    assert [f_cnt_of(m.payload)[1] for m in subscriber.messages] == [1, 2]


@pytest.fixture
def client_cert_broker(
    mosquitto_factory: BrokerFactory, tmp_path: Path
) -> tuple[MosquittoBroker, Any, tuple[Path, Path]]:
    files = make_tls_files(tmp_path / "tls")
    client = make_client_cert(files, tmp_path / "tls", common_name="appliance")
    broker = mosquitto_factory(tls=files, extra_config="require_certificate true")
    return broker, files, client


@pytest.mark.parametrize("as_text", [False, True], ids=["files", "pem-text"])
async def test_tls_with_ca_and_client_certificates(
    client_cert_broker: tuple[MosquittoBroker, Any, tuple[Path, Path]],
    tmp_path: Path,
    as_text: bool,
) -> None:
    broker, files, (cert, key) = client_cert_broker
    reader_cert, reader_key = make_client_cert(files, tmp_path / "reader", common_name="reader")
    context = ssl.create_default_context(cafile=str(files.ca_cert))
    context.load_cert_chain(reader_cert, reader_key)
    tls = {"ca_cert": files.ca_cert, "tls_cert": cert, "tls_key": key}
    # Through the API the certificates may come as PEM text rather than file names.
    options = {name: path.read_text() if as_text else str(path) for name, path in tls.items()}
    config = parse_global_mqtt(broker.url, {**options, **FAST})
    async with Subscriber(broker.port, host="localhost", tls=context) as subscriber:
        integrations = manager(tmp_path / "data", global_mqtt=config)
        (tmp_path / "data").mkdir()
        await integrations.start()
        try:
            await integrations.record([up(3)])
            await wait_until(lambda: len(subscriber.messages) == 1, "the event over TLS")
        finally:
            await integrations.stop()
    assert f_cnt_of(subscriber.messages[0].payload) == (str(DEVICES[0]), 3)


async def test_tls_failures_are_counted_and_logged_never_fatal(
    client_cert_broker: tuple[MosquittoBroker, Any, tuple[Path, Path]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker, files, (_cert, _key) = client_cert_broker
    stranger = make_tls_files(tmp_path / "other", common_name="Some other CA")
    cases = {
        "wrong-ca": {"ca_cert": str(stranger.ca_cert)},
        "no-client-cert": {"ca_cert": str(files.ca_cert)},
        "missing-file": {"ca_cert": str(tmp_path / "nope.pem")},
    }
    for name, options in cases.items():
        config = parse_global_mqtt(broker.url, {**options, **FAST})
        (tmp_path / name).mkdir()
        integrations = manager(tmp_path / name, global_mqtt=config)
        await integrations.start()
        try:
            await integrations.record([up(1)])

            def failures(running: Any = integrations) -> int:
                return int(sum(_target(running.status())["errors"].values()))

            await wait_until(lambda: failures() >= 2, f"{name}: failures")
            assert _target(integrations.status())["backlog"] == 1
        finally:
            await integrations.stop()
    lines = [r.getMessage() for r in caplog.records]
    assert any("certificate verify failed" in line for line in lines)
    assert any("cannot load the TLS files" in line for line in lines)


def _command(dev_eui: str = str(DEVICES[0]), **fields: Any) -> bytes:
    return json.dumps({"devEui": dev_eui, "fPort": 10, "data": "AQI=", **fields}).encode()


async def test_downlink_commands_good_and_bad(mosquitto: MosquittoBroker, tmp_path: Path) -> None:
    queue = Queue(known={(APP, DEVICES[0])})
    reports = Reports()
    config = parse_global_mqtt(mosquitto.url, {"qos": 1, **FAST})
    integrations = manager(tmp_path, global_mqtt=config, enqueue=queue, reports=reports)
    await integrations.start()
    down = f"application/{APP}/device/{DEVICES[0]}/command/down"
    bad = [
        (down, b"{not json", "bad_json"),
        (down, _command(str(DEVICES[1])), "wrong_device"),
        (down, _command(fPort=0), "bad_f_port"),
        (down, _command(object={"x": "a" * 20_000}, data=None), "oversized"),
        (
            f"application/{APP}/device/{DEVICES[1]}/command/down",
            _command(str(DEVICES[1])),
            "refused",
        ),
        (f"application/{APP}/device/{DEVICES[0]}/command/flush", b"{}", "unknown_command"),
        (f"application/nope/device/{DEVICES[0]}/command/down", _command(), "bad_topic"),
    ]
    try:
        await wait_until(lambda: _target(integrations.status())["connected"], "connected")
        async with Subscriber(mosquitto.port, topic="nothing") as sender:
            for topic, payload, _ in bad:
                await sender.publish(topic, payload)
            await sender.publish(down, _command(confirmed=True))
            await wait_until(lambda: len(queue.commands) == 1, "the good command")
        status_now = _target(integrations.status())
        assert status_now["connected"] and status_now["connects"] == 1  # never dropped
    finally:
        await integrations.stop()
    assert queue.commands == [
        (
            APP,
            DEVICES[0],
            {"devEui": str(DEVICES[0]), "confirmed": True, "fPort": 10, "data": "AQI="},
        )
    ]
    rejected = status_now["commands_rejected"]
    assert rejected == {reason: 1 for _, _, reason in bad}
    assert status_now["commands_accepted"] == 1
    assert len(reports.lines) == len(bad)
    by_reason = {reason: line for (_, _, reason), line in zip(bad, reports.lines, strict=True)}
    assert by_reason["wrong_device"] == (
        APP,
        DEVICES[0],
        "MQTT downlink command rejected (wrong_device): devEui 0202020202020202 does not match "
        "the topic's 0101010101010101",
    )
    assert by_reason["bad_topic"][0] is None
    assert "is not in application" in by_reason["refused"][2]
    assert all("\n" not in line for _, _, line in reports.lines)
    metrics = "\n".join(integrations.metrics())
    assert (
        'appliance_integration_downlink_commands_total{target="global/mqtt",kind="mqtt",'
        'result="bad_f_port"} 1' in metrics
    )


async def test_an_application_integration_gets_only_its_application(
    mosquitto_factory: BrokerFactory, tmp_path: Path
) -> None:
    own = mosquitto_factory()
    repository = FakeRepository()
    repository.put(APP, "mqtt", {"url": own.url, "qos": 1, **FAST})
    queue = Queue(known={(APP, DEVICES[0]), (OTHER_APP, DEVICES[1])})
    integrations = manager(tmp_path, repository=repository, enqueue=queue)
    async with Subscriber(own.port) as subscriber:
        await integrations.start()
        try:
            await integrations.record([up(1), up(2, DEVICES[1], application_id=OTHER_APP), up(3)])
            await wait_until(lambda: len(subscriber.on("/event/up")) == 2, "the app's events")
            # Its command topic is its own: another application's command never arrives.
            await subscriber.publish(
                f"application/{OTHER_APP}/device/{DEVICES[1]}/command/down",
                _command(str(DEVICES[1])),
            )
            await subscriber.publish(
                f"application/{APP}/device/{DEVICES[0]}/command/down", _command()
            )
            await wait_until(lambda: len(queue.commands) == 1, "the command")
        finally:
            await integrations.stop()
    assert [f_cnt_of(m.payload)[1] for m in subscriber.on("/event/up")] == [1, 3]
    assert queue.commands[0][:2] == (APP, DEVICES[0])


async def test_an_event_too_large_for_the_broker_is_dropped_and_reported(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    reports = Reports()
    config = parse_global_mqtt(mosquitto.url, {"max_message_bytes": 1024, **FAST})
    integrations = manager(tmp_path, global_mqtt=config, reports=reports)
    async with Subscriber(mosquitto.port) as subscriber:
        await integrations.start()
        try:
            big = up(2, decoded={"text": "x" * 2000})
            await integrations.record([up(1), big, up(3)])
            await wait_until(lambda: len(subscriber.messages) == 2, "the others")
        finally:
            await integrations.stop()
    assert [f_cnt_of(m.payload)[1] for m in subscriber.messages] == [1, 3]
    ((app, dev_eui, line),) = reports.matching("dropped")
    assert (app, dev_eui) == (APP, DEVICES[0])
    assert "up event dropped: too large for the broker" in line
    assert _target(integrations.status())["refused"] == 1


async def test_a_hanging_broker_times_out_and_nothing_is_lost(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    config = parse_global_mqtt(mosquitto.url, {"qos": 1, **FAST, "timeout_s": 0.5})
    integrations = manager(tmp_path, global_mqtt=config)
    async with Subscriber(mosquitto.port) as subscriber:
        await integrations.start()
        try:
            await integrations.record([up(f) for f in range(1, 11)])
            await wait_until(lambda: len(subscriber.messages) == 10, "the first ten")
            mosquitto.pause()  # connections stay open, nothing is answered
            await integrations.record([up(f) for f in range(11, 21)])
            await wait_until(
                lambda: _target(integrations.status())["errors"].get("timeout", 0) >= 1,
                "the missing PUBACKs noticed",
            )
            mosquitto.resume()
            await wait_until(
                lambda: {f_cnt_of(m.payload)[1] for m in subscriber.messages} >= set(range(1, 21)),
                "every event",
            )
            await wait_until(lambda: _target(integrations.status())["backlog"] == 0, "empty")
        finally:
            mosquitto.resume()
            await integrations.stop()
    order = first_occurrences(f_cnt_of(m.payload) for m in subscriber.messages)
    assert order == {str(DEVICES[0]): list(range(1, 21))}
    final = _target(integrations.status())
    assert final["connects"] >= 2 and final["errors"]["timeout"] >= 1  # it reconnected
