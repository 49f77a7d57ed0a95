"""Integrations: application events delivered to MQTT, HTTP and InfluxDB through a
durable outbox (``docs/integrations.md``).

- `manager`: `IntegrationManager`, the running part (sink, reload, validate, status, metrics);
- `outbox`, `outbox_store`, `queue`, `limits`: the durable outbox (group commits, one queue
  per target, bounds);
- `courier`: a target's delivery loop (in order, settle, back off);
- `mqtt_target`, `mqtt_config`, `topics`, `presets`, `tls`: MQTT with ChirpStack's topics,
  AWS IoT Core and Azure IoT Hub;
- `downlink`: `DownlinkCommand` and its parser (commands from brokers);
- `http_target`, `influxdb_target`, `http_config`, `line_protocol`: HTTP POSTs and InfluxDB;
- `specs`, `options`, `errors`, `hooks`, `reporting`, `metrics`: configuration, errors,
  reports and metrics.
"""

from appliance.integrations.downlink import (
    DownlinkCommand,
    downlink_command_from_dict,
    parse_downlink_command,
)
from appliance.integrations.errors import DownlinkCommandError, IntegrationConfigError, OutboxError
from appliance.integrations.hooks import Enqueue, Report
from appliance.integrations.http_config import HTTPConfig, InfluxDBConfig
from appliance.integrations.limits import OutboxLimits, outbox_limits_from_mapping
from appliance.integrations.line_protocol import event_lines
from appliance.integrations.manager import IntegrationManager
from appliance.integrations.mqtt_config import (
    MQTTConfig,
    mqtt_config_from_mapping,
    parse_global_mqtt,
)
from appliance.integrations.presets import AWSIoT, AzureIoTHub, sas_token
from appliance.integrations.specs import validate

GlobalMQTTConfig = MQTTConfig

__all__ = [
    "AWSIoT",
    "AzureIoTHub",
    "DownlinkCommand",
    "DownlinkCommandError",
    "Enqueue",
    "GlobalMQTTConfig",
    "HTTPConfig",
    "InfluxDBConfig",
    "IntegrationConfigError",
    "IntegrationManager",
    "MQTTConfig",
    "OutboxError",
    "OutboxLimits",
    "Report",
    "downlink_command_from_dict",
    "event_lines",
    "mqtt_config_from_mapping",
    "outbox_limits_from_mapping",
    "parse_downlink_command",
    "parse_global_mqtt",
    "sas_token",
    "validate",
]
