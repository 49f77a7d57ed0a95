"""Which delivery targets the configuration asks for: the global MQTT integration, and for
each application its MQTT, HTTP (one target per URL) and InfluxDB integrations; and
``validate``, the API's check of an integration's ``config``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from appliance.app.events import EventKind
from appliance.integrations.errors import IntegrationConfigError
from appliance.integrations.http_config import (
    HTTPConfig,
    InfluxDBConfig,
    http_config_from_mapping,
    influxdb_config_from_mapping,
)
from appliance.integrations.line_protocol import WRITTEN_KINDS
from appliance.integrations.mqtt_config import MQTTConfig, mqtt_config_from_mapping
from appliance.integrations.tls import tls_context

KINDS: Final = ("mqtt", "http", "influxdb")
GLOBAL_MQTT: Final = "global/mqtt"


class StoredIntegration(Protocol):
    """An integration as the repository keeps it (``appliance.app.model.Integration``)."""

    @property
    def application_id(self) -> uuid.UUID: ...

    @property
    def kind(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...


class IntegrationSource(Protocol):
    def integrations(self, app_id: uuid.UUID | None = None) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class Spec:
    """One delivery target to run; equal specs need no restart."""

    name: str  # also its queue's name in the outbox
    kind: str
    application_id: uuid.UUID | None
    config: MQTTConfig | HTTPConfig | InfluxDBConfig
    url: str = ""  # the HTTP target's URL

    @property
    def kinds(self) -> frozenset[EventKind] | None:
        """The events this target takes (None: all of them)."""
        return WRITTEN_KINDS if self.kind == "influxdb" else None


def _check_tls(config: MQTTConfig) -> None:
    if config.tls and (config.ca_cert or config.tls_cert):
        try:
            tls_context(config.ca_cert, config.tls_cert, config.tls_key)
        except ValueError as error:
            raise IntegrationConfigError(f"ca_cert/tls_cert/tls_key: {error}") from None


def parse(kind: str, values: Mapping[str, Any]) -> MQTTConfig | HTTPConfig | InfluxDBConfig:
    if kind == "mqtt":
        config = mqtt_config_from_mapping(values)
        _check_tls(config)
        return config
    if kind == "http":
        return http_config_from_mapping(values)
    if kind == "influxdb":
        return influxdb_config_from_mapping(values)
    raise IntegrationConfigError(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")


def validate(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised ``config`` (every option spelled out), or ``IntegrationConfigError``
    (a ``ValueError``) with one line naming the option."""
    return parse(kind, values).to_dict()


def application_specs(integration: StoredIntegration) -> list[Spec]:
    app_id = integration.application_id
    config = parse(integration.kind, integration.config)
    base = f"app/{app_id}/{integration.kind}"
    if isinstance(config, HTTPConfig):
        return [
            Spec(f"{base}/{index}", "http", app_id, config, url)
            for index, url in enumerate(config.urls)
        ]
    return [Spec(base, integration.kind, app_id, config)]
