"""Where events go and where commands come from: ChirpStack's topic layout (also used for AWS
IoT Core) and Azure IoT Hub's device topics."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, quote

from appliance.app.events import EventKind
from appliance.integrations.errors import DownlinkCommandError
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64

_CONTENT_TYPES = {"json": "application/json", "protobuf": "application/octet-stream"}


@dataclass(frozen=True, slots=True)
class CommandTopic:
    """What a command's topic says: the application and device (when it names them)."""

    application_id: uuid.UUID | None
    dev_eui: EUI64 | None
    properties: dict[str, str] = field(default_factory=dict)


class TopicLayout(Protocol):
    def event(self, kind: EventKind, application_id: uuid.UUID, dev_eui: EUI64) -> str: ...

    def command_filter(self, application_id: uuid.UUID | None) -> str: ...

    def command(self, topic: str) -> CommandTopic: ...


def _application(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise DownlinkCommandError(
            "bad_topic", f"{text[:60]!r} in the topic is not an application ID"
        ) from None


def _device(text: str) -> EUI64:
    try:
        return EUI64(text)
    except InvalidValueError:
        raise DownlinkCommandError(
            "bad_topic", f"{text[:60]!r} in the topic is not a DevEUI"
        ) from None


class ChirpStackTopics:
    """``{prefix}/{application_id}/device/{dev_eui}/event/{kind}`` and
    ``.../command/down``; the DevEUI in lower-case hex."""

    def __init__(self, prefix: str = "application") -> None:
        self.prefix = prefix

    def event(self, kind: EventKind, application_id: uuid.UUID, dev_eui: EUI64) -> str:
        return f"{self.prefix}/{application_id}/device/{dev_eui}/event/{kind.value}"

    def command_filter(self, application_id: uuid.UUID | None) -> str:
        application = "+" if application_id is None else str(application_id)
        return f"{self.prefix}/{application}/device/+/command/+"

    def command(self, topic: str) -> CommandTopic:
        head = self.prefix + "/"
        parts = topic[len(head) :].split("/") if topic.startswith(head) else []
        if len(parts) != 5 or parts[1] != "device" or parts[3] != "command":
            raise DownlinkCommandError("bad_topic", f"unexpected topic {topic[:160]!r}")
        if parts[4] != "down":
            raise DownlinkCommandError(
                "unknown_command", f"unknown command {parts[4][:40]!r} (only 'down' exists)"
            )
        return CommandTopic(_application(parts[0]), _device(parts[2]))


class AzureTopics:
    """One IoT Hub device: telemetry with the event's kind, application and device as
    message properties (named as ChirpStack's Azure Service Bus integration names them);
    cloud-to-device messages carry ``application_id`` (and may carry ``dev_eui``)."""

    def __init__(self, device_id: str, encoding: str = "json") -> None:
        self.device_id = device_id
        self.encoding = encoding
        self._c2d = f"devices/{device_id}/messages/devicebound/"

    def event(self, kind: EventKind, application_id: uuid.UUID, dev_eui: EUI64) -> str:
        content_type = quote(_CONTENT_TYPES[self.encoding], safe="")
        encoding = "&$.ce=utf-8" if self.encoding == "json" else ""
        return (
            f"devices/{self.device_id}/messages/events/$.ct={content_type}{encoding}"
            f"&event={kind.value}&application_id={application_id}&dev_eui={dev_eui}"
        )

    def command_filter(self, application_id: uuid.UUID | None) -> str:
        return self._c2d + "#"

    def command(self, topic: str) -> CommandTopic:
        if not topic.startswith(self._c2d):
            raise DownlinkCommandError("bad_topic", f"unexpected topic {topic[:160]!r}")
        properties = dict(parse_qsl(topic[len(self._c2d) :], keep_blank_values=True))
        application = properties.get("application_id")
        if not application:
            raise DownlinkCommandError(
                "bad_topic", "the cloud-to-device message has no application_id property"
            )
        dev_eui = properties.get("dev_eui")
        return CommandTopic(
            _application(application), None if not dev_eui else _device(dev_eui), properties
        )
