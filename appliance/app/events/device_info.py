"""Who an event is about: ChirpStack's ``deviceInfo`` block, as plain values.

ChirpStack is multi-tenant; the appliance has one tenant, always the same one, so consumers
that key on ``tenantId`` see a stable value across restarts and re-installs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from chirpstack_api import integration

from appliance.app.events.json_mapping import message_to_json
from appliance.lorawan.identifiers import EUI64

DEFAULT_TENANT_ID = uuid.UUID("7a1c0e52-5d3b-4c1e-9f0a-6c2d8e4b1a01")
DEFAULT_TENANT_NAME = "appliance"


class DeviceClass(IntEnum):
    """Values match ``common.DeviceClass``."""

    CLASS_A = 0
    CLASS_B = 1
    CLASS_C = 2

    @classmethod
    def from_letter(cls, letter: str) -> DeviceClass:
        """``"A"``, ``"B"`` or ``"C"`` (as ``DeviceModeInd`` and profiles name them)."""
        try:
            return cls[f"CLASS_{letter.strip().upper()}"]
        except KeyError:
            raise ValueError(f"device class must be A, B or C, got {letter!r}") from None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    application_id: uuid.UUID
    application_name: str
    device_profile_id: uuid.UUID
    device_profile_name: str
    device_name: str
    dev_eui: EUI64
    device_class: DeviceClass = DeviceClass.CLASS_A
    # ChirpStack merges application, profile and device tags (later ones win) before sending.
    tags: Mapping[str, str] = field(default_factory=dict)
    tenant_id: uuid.UUID = DEFAULT_TENANT_ID
    tenant_name: str = DEFAULT_TENANT_NAME


def device_info_to_proto(info: DeviceInfo, target: Any) -> None:
    """Fill an ``integration.DeviceInfo`` (``target``, usually a field of an event)."""
    target.tenant_id = str(info.tenant_id)
    target.tenant_name = info.tenant_name
    target.application_id = str(info.application_id)
    target.application_name = info.application_name
    target.device_profile_id = str(info.device_profile_id)
    target.device_profile_name = info.device_profile_name
    target.device_name = info.device_name
    target.dev_eui = str(info.dev_eui)
    target.device_class_enabled = int(info.device_class)
    target.tags.update(info.tags)
    target.SetInParent()


def device_info_message(info: DeviceInfo) -> Any:
    message = integration.DeviceInfo()
    device_info_to_proto(info, message)
    return message


class DeviceBlock:
    """A device's ``deviceInfo`` made once for all its events: the message each event copies
    and its JSON text (``message_to_json`` of it, so the same as the generic path prints).

    Kept as the message's serialised bytes, parsed for each use (well under a microsecond):
    a cache of thousands of these held as messages took 1.5 KB each, as bytes 0.2 KB."""

    __slots__ = ("_bytes", "info", "json")

    def __init__(self, info: DeviceInfo) -> None:
        self.info = info
        message = device_info_message(info)
        self.json: str = message_to_json(message)
        self._bytes: bytes = message.SerializeToString()

    @property
    def message(self) -> Any:
        return integration.DeviceInfo.FromString(self._bytes)
