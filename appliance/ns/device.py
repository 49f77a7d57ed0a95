"""A device as the network server knows it: identity, root keys and its current session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from appliance.lorawan.identifiers import EUI64, AESKey
from appliance.ns.session import DeviceSession


@dataclass(frozen=True, slots=True)
class RootKeys:
    """OTAA root keys: AppKey, and NwkKey for LoRaWAN 1.1 devices (1.0.x use AppKey only)."""

    app_key: AESKey
    nwk_key: AESKey | None = None

    def join_key(self, lorawan_1_1: bool) -> AESKey | None:
        """The key of the join-request MIC and join-accept encryption: NwkKey for 1.1
        devices (None if it is missing), AppKey for 1.0.x devices."""
        return self.nwk_key if lorawan_1_1 else self.app_key


@dataclass(slots=True)
class Device:
    dev_eui: EUI64
    join_eui: EUI64
    name: str
    profile_id: uuid.UUID
    application_id: uuid.UUID
    root_keys: RootKeys | None = None  # None for ABP-only devices
    enabled: bool = True
    skip_f_cnt_check: bool = False  # relaxed counters for ABP devices that reset
    session: DeviceSession | None = None
    tags: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
