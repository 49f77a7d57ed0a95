"""The cloud presets against a local Mosquitto, with their topic layouts and authentication:
Azure IoT Hub's user name and SAS token (checked by the broker's password file, renewed
before it expires) and device topics; AWS IoT Core's client certificate and thing name.

The services themselves cannot be reached from a test: what is checked here is everything
the appliance sends and expects (connection parameters, tokens, topics, payloads), against a
real broker; ``docs/integrations.md`` says so too."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from pathlib import Path
from typing import Any

from appliance.integrations import parse_global_mqtt
from appliance.integrations.presets import AzureIoTHub
from tests.integrations.helpers import (
    APP,
    DEVICES,
    Queue,
    Subscriber,
    f_cnt_of,
    manager,
    up,
    wait_until,
)
from tests.mosquitto_broker import BrokerFactory, make_client_cert, make_tls_files

KEY = base64.b64encode(bytes(range(32))).decode()
NOW_S = 1_800_000_000
HUB_USER = "myhub.azure-devices.net/gateway-7/?api-version=2021-04-12"


class HeldWaits:
    """A ``wait`` that lets short pauses pass and holds long ones (a token's lifetime) until
    the test ``release``s them."""

    def __init__(self, threshold_s: float = 60.0) -> None:
        self.threshold_s = threshold_s
        self.held: list[float] = []
        self._event = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        if seconds < self.threshold_s:
            await asyncio.sleep(min(seconds, 0.01))
            return
        self.held.append(seconds)
        await self._event.wait()

    def release(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


def _status(running: Any) -> dict[str, Any]:
    return dict(running.status()["targets"][0])


async def test_azure_iot_hub_layout_sas_token_and_renewal(
    mosquitto_factory: BrokerFactory, tmp_path: Path
) -> None:
    hub = AzureIoTHub("myhub.azure-devices.net", "gateway-7", KEY, sas_token_ttl_s=3600)
    first_token, expiry = hub.token(NOW_S)
    broker = mosquitto_factory(users={HUB_USER: first_token, "cloud": "cloud"})
    config = parse_global_mqtt(
        f"mqtt://127.0.0.1:{broker.port}",  # the hub's layout, against the local broker
        {
            "preset": "azure-iot-hub",
            "hub": "myhub",
            "device_id": "gateway-7",
            "shared_access_key": KEY,
            "qos": 1,
            "reconnect_min_s": 0.01,
        },
    )
    now = [NOW_S * 10**9]
    waits = HeldWaits()
    queue = Queue(known={(APP, DEVICES[0])})
    integrations = manager(
        tmp_path, global_mqtt=config, wait=waits, clock=lambda: now[0], enqueue=queue
    )
    async with Subscriber(broker.port, username="cloud", password="cloud") as cloud:

        def telemetry() -> list[Any]:
            return [m for m in cloud.messages if "/messages/events/" in m.topic]

        await integrations.start()
        try:
            await wait_until(lambda: _status(integrations)["connected"], "connected")
            await integrations.record([up(1)])
            await wait_until(lambda: len(telemetry()) == 1, "the telemetry")
            # A cloud-to-device message with its properties in the topic.
            command = {"devEui": str(DEVICES[0]), "fPort": 3, "data": "AQ=="}
            await cloud.publish(
                "devices/gateway-7/messages/devicebound/%24.mid=42&%24.to=%2Fdevices%2Fgateway-7"
                f"%2Fmessages%2FdeviceBound&application_id={APP}",
                json.dumps(command).encode(),
            )
            await wait_until(lambda: len(queue.commands) == 1, "the downlink")
            # The token's renewal is due a tenth of its lifetime before it expires.
            await wait_until(lambda: waits.held, "the renewal's wait")
            assert waits.held == [hub.renew_at(expiry) - NOW_S] == [3240.0]
            now[0] += 3300 * 10**9
            second_token, _ = hub.token(NOW_S + 3300)
            assert second_token != first_token
            broker.set_users({HUB_USER: second_token, "cloud": "cloud"})
            waits.release()
            await wait_until(lambda: _status(integrations)["connects"] == 2, "a new connection")
            await wait_until(lambda: _status(integrations)["connected"], "connected again")
            await integrations.record([up(2)])
            await wait_until(lambda: len(telemetry()) == 2, "telemetry after the renewal")
        finally:
            await integrations.stop()
    assert _status(integrations)["errors"] == {}  # the broker accepted both tokens
    topic = telemetry()[0].topic
    assert topic == (
        "devices/gateway-7/messages/events/$.ct=application%2Fjson&$.ce=utf-8"
        f"&event=up&application_id={APP}&dev_eui={DEVICES[0]}"
    )
    assert [f_cnt_of(m.payload)[1] for m in telemetry()] == [1, 2]
    assert queue.commands == [(APP, DEVICES[0], {**command, "confirmed": False})]
    assert "New client connected from 127.0.0.1" in broker.log()
    assert f"as gateway-7 (p2, c1, k30, u'{HUB_USER}')" in broker.log()


async def test_aws_iot_core_client_certificate_and_thing_name(
    mosquitto_factory: BrokerFactory, tmp_path: Path
) -> None:
    files = make_tls_files(tmp_path / "tls")
    cert, key = make_client_cert(files, tmp_path / "tls", common_name="gateway-7")
    reader_cert, reader_key = make_client_cert(files, tmp_path / "tls", common_name="reader")
    broker = mosquitto_factory(tls=files, extra_config="require_certificate true")
    config = parse_global_mqtt(
        f"mqtts://localhost:{broker.port}",  # stands in for the account's endpoint
        {
            "preset": "aws-iot",
            "endpoint": "abc123-ats.iot.eu-west-1.amazonaws.com",
            "thing_name": "gateway-7",
            "ca_cert": str(files.ca_cert),
            "tls_cert": str(cert),
            "tls_key": str(key),
            "qos": 1,
            "reconnect_min_s": 0.01,
        },
    )
    context = ssl.create_default_context(cafile=str(files.ca_cert))
    context.load_cert_chain(reader_cert, reader_key)
    queue = Queue(known={(APP, DEVICES[0])})
    (tmp_path / "data").mkdir()
    integrations = manager(tmp_path / "data", global_mqtt=config, enqueue=queue)
    async with Subscriber(broker.port, host="localhost", tls=context) as cloud:
        await integrations.start()
        try:
            await integrations.record([up(5)])
            await wait_until(lambda: len(cloud.on("/event/up")) == 1, "the event")
            await cloud.publish(
                f"application/{APP}/device/{DEVICES[0]}/command/down",
                json.dumps({"devEui": str(DEVICES[0]), "fPort": 1, "data": ""}).encode(),
            )
            await wait_until(lambda: len(queue.commands) == 1, "the downlink")
        finally:
            await integrations.stop()
    message = cloud.on("/event/up")[0]
    assert message.topic == f"application/{APP}/device/{DEVICES[0]}/event/up"
    assert "as gateway-7 (p2, c1" in broker.log()  # the thing's name as client ID
