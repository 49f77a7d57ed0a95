"""MQTT integration settings: the global one (``mqtt_url`` plus the ``[mqtt]`` table) and an
application's (``{"config": {...}}`` through the API) share one set of options.

``docs/integrations.md`` lists every option with its default; a bad value raises
``IntegrationConfigError`` naming the option, e.g. ``mqtt.qos: must be an integer 0..2, got 3``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from appliance.integrations.errors import IntegrationConfigError
from appliance.integrations.options import Options
from appliance.integrations.presets import (
    AWS_MAX_MESSAGE_BYTES,
    AZURE_MAX_MESSAGE_BYTES,
    AWSIoT,
    AzureIoTHub,
    azure_host,
)
from appliance.integrations.topics import AzureTopics, ChirpStackTopics, TopicLayout

_SECURE: Final = frozenset({"mqtts", "ssl", "tls"})
_PLAIN: Final = frozenset({"mqtt", "tcp"})


class Encoding(StrEnum):
    JSON = "json"
    PROTOBUF = "protobuf"


class Preset(StrEnum):
    NONE = "none"
    AWS_IOT = "aws-iot"
    AZURE_IOT_HUB = "azure-iot-hub"


@dataclass(frozen=True, slots=True)
class MQTTConfig:
    host: str
    port: int
    tls: bool
    username: str = ""
    password: str = field(default="", repr=False)
    client_id: str = ""  # "" -> appliance-<random> chosen when the target starts
    topic_prefix: str = "application"
    qos: int = 0
    retain: bool = False
    encoding: Encoding = Encoding.JSON
    keepalive_s: int = 30
    timeout_s: float = 10.0
    ca_cert: str = ""  # a file name or PEM text; "" -> the system's CA certificates
    tls_cert: str = ""
    tls_key: str = field(default="", repr=False)
    downlinks: bool = True  # subscribe to the command topic
    max_command_bytes: int = 16 * 1024
    max_message_bytes: int = 256 * 1024
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    preset: Preset = Preset.NONE
    aws: AWSIoT | None = None
    azure: AzureIoTHub | None = None

    @property
    def url(self) -> str:
        """Scheme, host and port (no credentials): what logs and the status show."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def topics(self) -> TopicLayout:
        if self.azure is not None:
            return AzureTopics(self.azure.device_id, self.encoding.value)
        return ChirpStackTopics(self.topic_prefix)

    def to_dict(self) -> dict[str, Any]:
        """The normalised options, every one spelled out (what the API stores)."""
        values: dict[str, Any] = {
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "client_id": self.client_id,
            "topic_prefix": self.topic_prefix,
            "qos": self.qos,
            "retain": self.retain,
            "encoding": self.encoding.value,
            "keepalive_s": self.keepalive_s,
            "timeout_s": self.timeout_s,
            "ca_cert": self.ca_cert,
            "tls_cert": self.tls_cert,
            "tls_key": self.tls_key,
            "downlinks": self.downlinks,
            "max_command_bytes": self.max_command_bytes,
            "max_message_bytes": self.max_message_bytes,
            "reconnect_min_s": self.reconnect_min_s,
            "reconnect_max_s": self.reconnect_max_s,
            "preset": self.preset.value,
        }
        if self.aws is not None:
            values |= {"endpoint": self.aws.endpoint, "thing_name": self.aws.thing_name}
        if self.azure is not None:
            values |= {
                "hub": self.azure.host,
                "device_id": self.azure.device_id,
                "shared_access_key": self.azure.shared_access_key,
                "shared_access_key_name": self.azure.shared_access_key_name,
                "sas_token_ttl_s": self.azure.sas_token_ttl_s,
            }
        return values


def _split_url(url: str, name: str) -> tuple[bool, str, int, str, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise IntegrationConfigError(f"{name}: bad port in {url!r}") from None
    if scheme not in _SECURE | _PLAIN or not parts.hostname or parts.path not in ("", "/"):
        raise IntegrationConfigError(
            f"{name}: expected mqtt://[USER:PASSWORD@]HOST[:PORT] or mqtts://..., got {url!r}"
        )
    tls = scheme in _SECURE
    return (
        tls,
        parts.hostname,
        port or (8883 if tls else 1883),
        unquote(parts.username or ""),
        unquote(parts.password or ""),
    )


def mqtt_config_from_mapping(
    values: Mapping[str, Any], *, prefix: str = "", url_name: str | None = None
) -> MQTTConfig:
    """The settings of one MQTT target; ``url_name`` names the URL in errors when it came
    from elsewhere (``mqtt_url``)."""
    table = Options(values, prefix)
    url_label = url_name or table.name("url")
    url = table.text("url")
    preset = table.choice("preset", Preset, Preset.NONE)
    tls, host, port, user, password = (False, "", 0, "", "")
    if url:
        tls, host, port, user, password = _split_url(url, url_label)
    options: dict[str, Any] = {
        "username": table.text("username", user),
        "password": table.text("password", password),
        "client_id": table.text("client_id", max_length=256),
        "topic_prefix": table.text("topic_prefix", "application", max_length=256).strip("/"),
        "qos": table.integer("qos", 0, 0, 2),
        "retain": table.flag("retain", False),
        "encoding": table.choice("encoding", Encoding, Encoding.JSON),
        "keepalive_s": table.integer("keepalive_s", 30, 5, 3600),
        "timeout_s": table.number("timeout_s", 10.0, 0.1, 600),
        "ca_cert": table.text("ca_cert", max_length=65_536),
        "tls_cert": table.text("tls_cert", max_length=65_536),
        "tls_key": table.text("tls_key", max_length=65_536),
        "downlinks": table.flag("downlinks", True),
        "max_command_bytes": table.integer("max_command_bytes", 16 * 1024, 256, 1 << 20),
        "max_message_bytes": table.integer("max_message_bytes", 256 * 1024, 1024, 1 << 28),
        "reconnect_min_s": table.number("reconnect_min_s", 1.0, 0.001, 3600),
        "reconnect_max_s": table.number("reconnect_max_s", 60.0, 0.001, 86_400),
        "preset": preset,
    }
    if options["reconnect_max_s"] < options["reconnect_min_s"]:
        raise table.error("reconnect_max_s", "must not be below reconnect_min_s")
    if any(c in options["topic_prefix"] for c in "#+") or not options["topic_prefix"]:
        raise table.error("topic_prefix", "must be a topic without + or #")
    if bool(options["tls_cert"]) != bool(options["tls_key"]):
        raise table.error("tls_cert", "tls_cert and tls_key go together")
    if preset is Preset.AWS_IOT:
        tls, host, port = _aws(table, options, url=(tls, host, port))
    elif preset is Preset.AZURE_IOT_HUB:
        tls, host, port = _azure(table, options, url=(tls, host, port))
    elif not url:
        raise IntegrationConfigError(f"{url_label}: needed (mqtt://HOST[:PORT] or mqtts://...)")
    if (options["ca_cert"] or options["tls_cert"]) and not tls:
        raise IntegrationConfigError(f"{url_label}: TLS files are set but {url!r} is not mqtts://")
    table.finish()
    return MQTTConfig(host=host, port=port, tls=tls, **options)


def _aws(
    table: Options, options: dict[str, Any], *, url: tuple[bool, str, int]
) -> tuple[bool, str, int]:
    tls, host, port = url
    endpoint = table.text("endpoint", max_length=253).strip().lower()
    if not endpoint and not host:
        raise table.error(
            "endpoint", "needed for aws-iot (<prefix>-ats.iot.<region>.amazonaws.com)"
        )
    thing_name = table.text("thing_name", options["client_id"], max_length=128)
    if not thing_name:
        raise table.error("thing_name", "needed for aws-iot (the MQTT client ID)")
    if not options["tls_cert"]:
        raise table.error("tls_cert", "aws-iot needs the thing's certificate and key")
    if options["qos"] > 1:
        raise table.error("qos", "AWS IoT Core supports QoS 0 and 1 only")
    if options["username"] or options["password"]:
        raise table.error("username", "aws-iot authenticates with the client certificate")
    if not host:
        tls, host, port = True, endpoint, 8883
    elif not tls:
        raise table.error("url", "aws-iot needs mqtts:// (client certificates)")
    options["client_id"] = thing_name
    options["max_message_bytes"] = min(options["max_message_bytes"], AWS_MAX_MESSAGE_BYTES)
    options["aws"] = AWSIoT(endpoint or host, thing_name)
    return tls, host, port


def _azure(
    table: Options, options: dict[str, Any], *, url: tuple[bool, str, int]
) -> tuple[bool, str, int]:
    tls, host, port = url
    hub = table.text("hub", max_length=253)
    if not hub:
        raise table.error("hub", "needed for azure-iot-hub (the hub's name)")
    device_id = table.text("device_id", options["client_id"], max_length=128)
    if not device_id or any(c in device_id for c in "/#+"):
        raise table.error("device_id", "needed for azure-iot-hub, without /, # or +")
    key = table.text("shared_access_key", max_length=256)
    key_name = table.text("shared_access_key_name", max_length=256)
    ttl = table.integer("sas_token_ttl_s", 3600, 120, 365 * 86_400)
    if bool(key) == bool(options["tls_cert"]):
        raise table.error(
            "shared_access_key", "azure-iot-hub needs a shared_access_key or a client certificate"
        )
    azure = AzureIoTHub(azure_host(hub), device_id, key, key_name, ttl)
    if key:
        try:
            azure.token(0)
        except ValueError as error:
            raise IntegrationConfigError(f"{table.name('shared_access_key')}: {error}") from None
    if options["qos"] > 1:
        raise table.error("qos", "Azure IoT Hub supports QoS 0 and 1 only")
    if options["retain"]:
        raise table.error("retain", "Azure IoT Hub does not keep retained messages")
    if options["username"] or options["password"]:
        raise table.error("username", "azure-iot-hub makes its own user name and SAS token")
    if not host:  # a url is given only to try the layout against another broker
        tls, host, port = True, azure.host, 8883
    options["client_id"] = device_id
    options["max_message_bytes"] = min(options["max_message_bytes"], AZURE_MAX_MESSAGE_BYTES)
    options["azure"] = azure
    return tls, host, port


def parse_global_mqtt(url: str, table: Mapping[str, Any] | None = None) -> MQTTConfig:
    """The global MQTT integration from ``appliance run --mqtt-url`` (or ``mqtt_url``) and the
    ``[mqtt]`` table; raises ``IntegrationConfigError`` naming the option."""
    values = dict(table or {})
    if "url" in values:
        raise IntegrationConfigError("mqtt.url: give the broker as mqtt_url (or --mqtt-url)")
    if url:
        values["url"] = url
    return mqtt_config_from_mapping(values, prefix="mqtt.", url_name="mqtt_url")
