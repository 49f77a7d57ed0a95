"""The ``[bridge]`` table: defaults, every option, and one clear line per bad value."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from appliance.bridge import (
    BridgeConfig,
    BridgeConfigError,
    Encoding,
    Mode,
    ProprietaryRoute,
    Transport,
    parse_bridge_config,
)
from appliance.bridge.ranges import DevAddrPrefix, EUIRange
from appliance.lorawan.identifiers import EUI64, NetID

FULL = """
[bridge]
mode = "hybrid"
transport = "mqtt"
gateway_ids = ["0016c001ff10a235"]
reconnect_min_s = 0.5
reconnect_max_s = 30

[bridge.mqtt]
url = "mqtts://ns.example.com"
topic_prefix = "us915_1/"
qos = 2
encoding = "json"
username = "gw"
password = "secret"
ca_cert = "/etc/appliance/ca.pem"
tls_cert = "/etc/appliance/gw.pem"
tls_key = "/etc/appliance/gw.key"
client_id = "edge-1"
keepalive_s = 60
timeout_s = 5
max_command_bytes = 4096

[bridge.semtech_udp]
server = "ns.example.com:1700"
keepalive_s = 5
ack_timeout_ms = 500
push_retries = 1
down_after_s = 20

[bridge.hybrid]
local_dev_addr_prefixes = ["26011000/20"]
local_join_euis = ["70b3d57ed0000000/40"]
local_net_ids = ["000013"]
proprietary = "local"

[bridge.store]
file = "spool.db"
max_frames = 1000
max_bytes = 1048576
max_age_s = 3600
flush_interval_ms = 250
"""


def test_defaults_are_off_and_documented() -> None:
    config = parse_bridge_config({})
    assert config == BridgeConfig()
    assert not config.enabled
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls) == ("127.0.0.1", 1883, False)
    assert config.mqtt.qos == 1
    assert config.mqtt.encoding is Encoding.PROTOBUF
    assert config.mqtt.topic_prefix == "eu868"
    assert config.store.file == "upstream.db"
    assert config.store.max_frames == 100_000
    assert config.store.max_bytes == 64 * 1024 * 1024
    assert config.store.max_age_s == 86_400


def test_every_option() -> None:
    config = parse_bridge_config(tomllib.loads(FULL)["bridge"])
    assert config.mode is Mode.HYBRID
    assert config.transport is Transport.MQTT
    assert config.gateway_ids == (EUI64("0016c001ff10a235"),)
    assert (config.reconnect_min_s, config.reconnect_max_s) == (0.5, 30.0)
    mqtt = config.mqtt
    assert (mqtt.host, mqtt.port, mqtt.tls) == ("ns.example.com", 8883, True)
    assert mqtt.topic_prefix == "us915_1"
    assert (mqtt.qos, mqtt.encoding, mqtt.username, mqtt.password) == (
        2,
        Encoding.JSON,
        "gw",
        "secret",
    )
    assert mqtt.ca_cert == Path("/etc/appliance/ca.pem")
    assert (mqtt.client_id, mqtt.keepalive_s, mqtt.timeout_s) == ("edge-1", 60, 5.0)
    assert mqtt.max_command_bytes == 4096
    assert "secret" not in repr(mqtt)
    udp = config.semtech_udp
    assert (udp.host, udp.port, udp.keepalive_s, udp.ack_timeout_ms) == (
        "ns.example.com",
        1700,
        5,
        500,
    )
    assert (udp.push_retries, udp.down_after_s) == (1, 20)
    hybrid = config.hybrid
    assert hybrid.local_dev_addr_prefixes == (DevAddrPrefix(0x26011000, 20),)
    assert hybrid.local_join_euis == (EUIRange(0x70B3D57ED0000000, 0x70B3D57ED0FFFFFF),)
    assert hybrid.local_net_ids == (NetID("000013"),)
    assert hybrid.proprietary is ProprietaryRoute.LOCAL
    store = config.store
    assert (store.file, store.max_frames, store.max_bytes, store.max_age_s) == (
        "spool.db",
        1000,
        1_048_576,
        3600,
    )
    assert store.flush_interval_ms == 250


def test_credentials_may_come_with_the_url() -> None:
    mqtt = parse_bridge_config({"mqtt": {"url": "mqtt://gw:p%40ss@broker:1884"}}).mqtt
    assert (mqtt.username, mqtt.password, mqtt.host, mqtt.port) == ("gw", "p@ss", "broker", 1884)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"mode": "relay"}, "bridge.mode: must be one of off, forwarder, hybrid, got 'relay'"),
        ({"transport": "http"}, "bridge.transport: must be one of mqtt, semtech-udp"),
        ({"colour": 1}, "bridge.colour: unknown option"),
        ({"mqtt": {"qos": 3}}, "bridge.mqtt.qos: must be an integer 0..2, got 3"),
        ({"mqtt": {"qos": True}}, "bridge.mqtt.qos: must be an integer 0..2, got True"),
        ({"mqtt": {"url": "http://x"}}, "bridge.mqtt.url: expected mqtt://HOST[:PORT]"),
        ({"mqtt": {"url": "mqtt://x:99999"}}, "bridge.mqtt.url: bad port"),
        ({"mqtt": {"encoding": "xml"}}, "bridge.mqtt.encoding: must be one of protobuf, json"),
        ({"mqtt": {"topic_prefix": "eu/#"}}, "bridge.mqtt.topic_prefix: must not contain"),
        ({"mqtt": {"ca_cert": "/ca.pem"}}, "bridge.mqtt.url: TLS files are set but"),
        (
            {"mqtt": {"url": "mqtts://x", "tls_cert": "/c.pem"}},
            "bridge.mqtt.tls_cert: tls_cert and tls_key go together",
        ),
        ({"mqtt": {"keepalive_s": 1}}, "bridge.mqtt.keepalive_s: must be an integer 5..3600"),
        ({"mqtt": {"tls": True}}, "bridge.mqtt.tls: unknown option"),
        ({"mqtt": "x"}, "bridge.mqtt: must be a table"),
        (
            {"mode": "forwarder", "transport": "semtech-udp"},
            "bridge.semtech_udp.server: expected HOST:PORT, got ''",
        ),
        ({"semtech_udp": {"server": "host"}}, "bridge.semtech_udp.server: expected HOST:PORT"),
        ({"semtech_udp": {"ack_timeout_ms": 0}}, "bridge.semtech_udp.ack_timeout_ms: must be"),
        ({"gateway_ids": ["xyz"]}, "bridge.gateway_ids[0]: EUI64 must be 8 bytes"),
        ({"gateway_ids": "0016c001ff10a235"}, "bridge.gateway_ids: must be a list of strings"),
        (
            {"gateway_ids": ["0016c001ff10a235", "0016C001FF10A235"]},
            "bridge.gateway_ids: lists a gateway twice",
        ),
        (
            {"reconnect_min_s": 10, "reconnect_max_s": 5},
            "bridge.reconnect_max_s: must not be below reconnect_min_s",
        ),
        (
            {"hybrid": {"local_dev_addr_prefixes": ["26011234/20"]}},
            "bridge.hybrid.local_dev_addr_prefixes[0]: '26011234/20' has bits set after the",
        ),
        (
            {"hybrid": {"local_dev_addr_prefixes": ["26011000/33"]}},
            "bridge.hybrid.local_dev_addr_prefixes[0]: DevAddr prefix length must be 0..32",
        ),
        (
            {"hybrid": {"local_join_euis": ["70b3d57ed00fffff-70b3d57ed0000000"]}},
            "bridge.hybrid.local_join_euis[0]: range '70b3d57ed00fffff-70b3d57ed0000000' ends",
        ),
        ({"hybrid": {"local_net_ids": ["zz"]}}, "bridge.hybrid.local_net_ids[0]: NetID"),
        ({"hybrid": {"proprietary": "drop"}}, "bridge.hybrid.proprietary: must be one of"),
        ({"store": {"max_frames": 0}}, "bridge.store.max_frames: must be an integer 1.."),
        ({"store": {"max_bytes": 100}}, "bridge.store.max_bytes: must be an integer 4096.."),
        ({"store": {"file": ""}}, "bridge.store.file: must be a file name"),
    ],
)
def test_bad_values_name_the_option(table: dict[str, Any], message: str) -> None:
    with pytest.raises(BridgeConfigError) as caught:
        parse_bridge_config(table)
    text = str(caught.value)
    assert text.startswith(message), text
    assert "\n" not in text
