"""Integration settings: the global MQTT URL and table, the API's per-application configs,
the cloud presets' connection parameters, and the outbox's bounds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from appliance.app.events import EventKind
from appliance.integrations import (
    IntegrationConfigError,
    OutboxLimits,
    outbox_limits_from_mapping,
    parse_global_mqtt,
    sas_token,
    validate,
)
from appliance.integrations.mqtt_config import Encoding, Preset
from appliance.integrations.topics import AzureTopics, ChirpStackTopics
from appliance.lorawan.identifiers import EUI64
from tests.mosquitto_broker import make_client_cert, make_tls_files

APP = uuid.UUID("17c82e96-1b8a-4f34-9b2b-6b1f1c3d0a11")
DEV = EUI64("0101010101010101")
KEY = base64.b64encode(bytes(range(32))).decode()


def test_global_mqtt_url_with_credentials_and_defaults() -> None:
    config = parse_global_mqtt("mqtt://user%40x:p%3Ass@broker.local")
    assert (config.host, config.port, config.tls) == ("broker.local", 1883, False)
    assert (config.username, config.password) == ("user@x", "p:ss")
    assert config.topic_prefix == "application"
    assert (config.qos, config.retain, config.encoding) == (0, False, Encoding.JSON)
    assert config.keepalive_s == 30 and config.downlinks
    assert config.preset is Preset.NONE and config.url == "mqtt://broker.local:1883"
    assert "p:ss" not in repr(config)
    secure = parse_global_mqtt("mqtts://broker.local", {"qos": 1, "retain": True})
    assert (secure.port, secure.tls, secure.qos, secure.retain) == (8883, True, 1, True)


def test_global_mqtt_table_options() -> None:
    config = parse_global_mqtt(
        "mqtt://127.0.0.1:1884",
        {
            "topic_prefix": "/site-a/",
            "encoding": "protobuf",
            "client_id": "gw-1",
            "keepalive_s": 60,
            "username": "u",
            "password": "p",
            "downlinks": False,
        },
    )
    assert config.topic_prefix == "site-a" and config.encoding is Encoding.PROTOBUF
    assert (config.client_id, config.keepalive_s, config.username) == ("gw-1", 60, "u")
    assert not config.downlinks


@pytest.mark.parametrize(
    ("url", "table", "message"),
    [
        ("", {}, "mqtt_url: needed"),
        ("http://x", {}, "mqtt_url: expected mqtt://"),
        ("mqtt://x:99999", {}, "mqtt_url: bad port"),
        ("mqtt://x/path", {}, "mqtt_url: expected mqtt://"),
        ("mqtt://x", {"qos": 3}, "mqtt.qos: must be an integer 0..2, got 3"),
        ("mqtt://x", {"retain": "yes"}, "mqtt.retain: must be true or false"),
        ("mqtt://x", {"encoding": "xml"}, "mqtt.encoding: must be one of json, protobuf"),
        ("mqtt://x", {"topic_prefix": "a/#"}, "mqtt.topic_prefix: must be a topic without"),
        ("mqtt://x", {"colour": 1}, "mqtt.colour: unknown option"),
        ("mqtt://x", {"ca_cert": "/ca.pem"}, "mqtt_url: TLS files are set but"),
        ("mqtts://x", {"tls_cert": "/c.pem"}, "mqtt.tls_cert: tls_cert and tls_key go together"),
        ("mqtt://x", {"url": "mqtt://y"}, "mqtt.url: give the broker as mqtt_url"),
        ("mqtt://x", {"preset": "gcp"}, "mqtt.preset: must be one of none, aws-iot"),
        (
            "mqtt://x",
            {"reconnect_min_s": 5, "reconnect_max_s": 1},
            "mqtt.reconnect_max_s: must not be below",
        ),
    ],
)
def test_global_mqtt_refusals_name_the_option(url: str, table: dict, message: str) -> None:
    with pytest.raises(IntegrationConfigError) as error:
        parse_global_mqtt(url, table)
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value)


def test_aws_iot_preset_connection_parameters(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path)
    cert, key = make_client_cert(tls, tmp_path, common_name="thing-1")
    config = parse_global_mqtt(
        "",
        {
            "preset": "aws-iot",
            "endpoint": "abc123-ats.iot.eu-west-1.amazonaws.com",
            "thing_name": "gateway-7",
            "ca_cert": str(tls.ca_cert),
            "tls_cert": str(cert),
            "tls_key": str(key),
            "qos": 1,
        },
    )
    assert config.url == "mqtts://abc123-ats.iot.eu-west-1.amazonaws.com:8883"
    assert config.client_id == "gateway-7" and config.aws is not None
    assert config.username == "" and config.password == ""
    assert config.max_message_bytes == 128 * 1024  # the service's limit
    topics = config.topics()
    assert isinstance(topics, ChirpStackTopics)  # ChirpStack's layout, unchanged
    assert topics.event(EventKind.UP, APP, DEV) == f"application/{APP}/device/{DEV}/event/up"
    for table, message in (
        ({"endpoint": "e", "tls_cert": "c", "tls_key": "k"}, "mqtt.thing_name: needed"),
        ({"thing_name": "t", "tls_cert": "c", "tls_key": "k"}, "mqtt.endpoint: needed"),
        ({"endpoint": "e", "thing_name": "t"}, "mqtt.tls_cert: aws-iot needs"),
        (
            {"endpoint": "e", "thing_name": "t", "tls_cert": "c", "tls_key": "k", "qos": 2},
            "mqtt.qos: AWS IoT Core supports QoS 0 and 1 only",
        ),
        (
            {"endpoint": "e", "thing_name": "t", "tls_cert": "c", "tls_key": "k", "password": "p"},
            "mqtt.username: aws-iot authenticates with the client certificate",
        ),
    ):
        with pytest.raises(IntegrationConfigError, match=message.replace(".", r"\.")):
            parse_global_mqtt("", {"preset": "aws-iot", **table})


def _documented_sas(uri: str, key: str, expiry: int) -> str:
    """Microsoft's algorithm as its documentation states it, written independently."""
    to_sign = (quote_plus(uri) + "\n" + str(expiry)).encode()
    digest = hmac.new(base64.b64decode(key), to_sign, hashlib.sha256).digest()
    signature = quote_plus(base64.b64encode(digest).decode())
    return f"SharedAccessSignature sr={quote_plus(uri)}&sig={signature}&se={expiry}"


def test_sas_token_known_vector() -> None:
    uri = "myhub.azure-devices.net/devices/gateway-7"
    token = sas_token(uri, KEY, 1_800_000_000)
    assert token == _documented_sas(uri, KEY, 1_800_000_000)
    # The signature computed with openssl (HMAC-SHA256, key 00 01 .. 1f) over
    # "myhub.azure-devices.net%2Fdevices%2Fgateway-7\n1800000000", base64 then URL-encoded.
    assert token == (
        "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fgateway-7"
        "&sig=Vpg0W6aPXv%2BhKNMBPLmHN30VbUIZYe9ovWnDY7LaiuU%3D&se=1800000000"
    )
    with_policy = sas_token(uri, KEY, 10, key_name="iothubowner")
    assert with_policy.endswith("&se=10&skn=iothubowner")
    with pytest.raises(ValueError, match="not valid base64"):
        sas_token(uri, "not base64!", 10)


def test_azure_iot_hub_preset_connection_parameters() -> None:
    config = parse_global_mqtt(
        "",
        {
            "preset": "azure-iot-hub",
            "hub": "MyHub",
            "device_id": "gateway-7",
            "shared_access_key": KEY,
            "sas_token_ttl_s": 3600,
            "qos": 1,
        },
    )
    azure = config.azure
    assert azure is not None
    assert config.url == "mqtts://myhub.azure-devices.net:8883"
    assert config.client_id == "gateway-7"
    assert azure.username == "myhub.azure-devices.net/gateway-7/?api-version=2021-04-12"
    token, expiry = azure.token(1_799_996_400.7)
    assert expiry == 1_800_000_000
    assert token == _documented_sas(azure.resource_uri, KEY, 1_800_000_000)
    assert azure.renew_at(expiry) == expiry - 360  # a tenth of the lifetime before the end
    topics = config.topics()
    assert isinstance(topics, AzureTopics)
    assert topics.event(EventKind.UP, APP, DEV) == (
        "devices/gateway-7/messages/events/$.ct=application%2Fjson&$.ce=utf-8"
        f"&event=up&application_id={APP}&dev_eui={DEV}"
    )
    assert topics.command_filter(None) == "devices/gateway-7/messages/devicebound/#"
    command = topics.command(
        f"devices/gateway-7/messages/devicebound/%24.mid=1&application_id={APP}&dev_eui={DEV}"
    )
    assert (command.application_id, command.dev_eui) == (APP, DEV)
    assert command.properties["$.mid"] == "1"
    with pytest.raises(ValueError, match="no application_id property"):
        topics.command("devices/gateway-7/messages/devicebound/x=1")
    for table, message in (
        ({"device_id": "d", "shared_access_key": KEY}, "mqtt.hub: needed"),
        ({"hub": "h", "shared_access_key": KEY}, "mqtt.device_id: needed"),
        ({"hub": "h", "device_id": "d"}, "mqtt.shared_access_key: azure-iot-hub needs"),
        ({"hub": "h", "device_id": "d", "shared_access_key": "%%"}, "not valid base64"),
        ({"hub": "h", "device_id": "d", "shared_access_key": KEY, "retain": True}, "retain"),
        ({"hub": "h", "device_id": "d", "shared_access_key": KEY, "qos": 2}, "QoS 0 and 1"),
    ):
        with pytest.raises(IntegrationConfigError, match=message):
            parse_global_mqtt("", {"preset": "azure-iot-hub", **table})


def test_chirpstack_command_topics() -> None:
    topics = ChirpStackTopics("application")
    assert topics.command_filter(None) == "application/+/device/+/command/+"
    assert topics.command_filter(APP) == f"application/{APP}/device/+/command/+"
    parsed = topics.command(f"application/{APP}/device/{DEV}/command/down")
    assert (parsed.application_id, parsed.dev_eui) == (APP, DEV)
    for topic, reason in (
        (f"application/{APP}/device/{DEV}/command/flush", "unknown_command"),
        (f"application/not-a-uuid/device/{DEV}/command/down", "bad_topic"),
        (f"application/{APP}/device/xyz/command/down", "bad_topic"),
        (f"other/{APP}/device/{DEV}/command/down", "bad_topic"),
    ):
        with pytest.raises(ValueError) as error:
            topics.command(topic)
        assert error.value.reason == reason  # type: ignore[attr-defined]


def test_api_validation_normalises_every_kind() -> None:
    mqtt = validate("mqtt", {"url": "mqtt://broker:1884", "qos": 1})
    assert mqtt["url"] == "mqtt://broker:1884" and mqtt["qos"] == 1
    assert mqtt["topic_prefix"] == "application" and mqtt["encoding"] == "json"
    http = validate(
        "http",
        {"event_endpoint_url": "http://a/x, http://b/y", "json": False, "headers": {"X": "1"}},
    )
    assert http["urls"] == ["http://a/x", "http://b/y"] and http["encoding"] == "protobuf"
    assert http["timeout_s"] == 5.0 and http["retry_min_s"] == 1.0 and http["retry_max_s"] == 300
    influx = validate(
        "influxdb", {"url": "http://influx:8086/", "org": "o", "bucket": "b", "token": "t"}
    )
    assert influx["url"] == "http://influx:8086" and influx["version"] == 2
    v3 = validate("influxdb", {"url": "http://influx:8181", "version": 3, "database": "lora"})
    assert v3["database"] == "lora"
    assert validate("http", http) == http  # a normalised config validates to itself
    assert validate("mqtt", mqtt) == mqtt


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("ftp", {}, "kind: must be one of mqtt, http, influxdb"),
        ("http", {}, "urls: give at least one URL"),
        ("http", {"urls": ["ftp://x"]}, "urls: expected http://"),
        ("http", {"urls": ["http://x"], "headers": {"Bad Name": "v"}}, "headers: 'Bad Name'"),
        ("http", {"urls": ["http://x"], "headers": {"X": "a\r\nb"}}, "headers: the value of"),
        ("http", {"urls": ["http://x"], "headers": {"Content-Type": "x"}}, "headers: 'Content"),
        ("http", {"urls": ["http://x"], "timeout_s": 0}, "timeout_s: must be a number"),
        ("http", {"urls": ["http://x", "http://x"]}, "urls: at most 10 different URLs"),
        ("influxdb", {"url": "http://x"}, "bucket: InfluxDB 2 needs org and bucket"),
        ("influxdb", {"url": "http://x", "version": 3}, "database: InfluxDB 3 needs database"),
        ("influxdb", {"url": "http://x", "version": 1, "db": "d"}, "version: must be"),
        ("mqtt", {"url": "mqtts://x", "ca_cert": "/no/such.pem"}, "cannot load the TLS files"),
        ("mqtt", {"qos": 1}, "url: needed"),
    ],
)
def test_api_validation_refusals(kind: str, config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as error:
        validate(kind, config)
    assert "\n" not in str(error.value)


def test_outbox_limits() -> None:
    assert outbox_limits_from_mapping({}) == OutboxLimits()
    limits = outbox_limits_from_mapping({"max_events": 500, "max_age_hours": 1.5})
    assert limits.max_events == 500 and limits.max_age_ns == 5400 * 10**9
    with pytest.raises(IntegrationConfigError, match=r"outbox\.max_events: must be an integer"):
        outbox_limits_from_mapping({"max_events": 0})
    with pytest.raises(IntegrationConfigError, match=r"outbox\.size: unknown option"):
        outbox_limits_from_mapping({"size": 1})
