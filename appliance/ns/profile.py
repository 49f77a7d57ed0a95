"""Device profiles: what a kind of device supports and how the network should treat it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import get_region


class MACVersion(StrEnum):
    LORAWAN_1_0_0 = "1.0.0"
    LORAWAN_1_0_1 = "1.0.1"
    LORAWAN_1_0_2 = "1.0.2"
    LORAWAN_1_0_3 = "1.0.3"
    LORAWAN_1_0_4 = "1.0.4"
    LORAWAN_1_1_0 = "1.1.0"

    @property
    def numbers(self) -> tuple[int, int, int]:
        major, minor, patch = (int(part) for part in self.value.split("."))
        return major, minor, patch

    def at_least(self, other: MACVersion) -> bool:
        return self.numbers >= other.numbers

    @property
    def is_1_1(self) -> bool:
        return self is MACVersion.LORAWAN_1_1_0

    @property
    def dev_nonce_is_counter(self) -> bool:
        """1.0.4 and 1.1 devices count DevNonces up; older ones pick them at random."""
        return self in (MACVersion.LORAWAN_1_0_4, MACVersion.LORAWAN_1_1_0)


class RegParamsRevision(StrEnum):
    A = "A"  # RP002-1.0.0 era names kept as ChirpStack does
    B = "B"
    RP002_1_0_0 = "RP002-1.0.0"
    RP002_1_0_1 = "RP002-1.0.1"
    RP002_1_0_2 = "RP002-1.0.2"
    RP002_1_0_3 = "RP002-1.0.3"
    RP002_1_0_4 = "RP002-1.0.4"


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """Modelled on ChirpStack's device profile (the network-server half of it)."""

    name: str
    region: str
    mac_version: MACVersion = MACVersion.LORAWAN_1_0_3
    reg_params_revision: RegParamsRevision = RegParamsRevision.RP002_1_0_4
    supports_otaa: bool = True
    supports_class_b: bool = False
    supports_class_c: bool = False
    adr_algorithm: str = "default"
    uplink_interval_s: int = 3600
    device_status_req_interval: int = 1  # DevStatusReq per day (0 = never)
    # ABP devices keep the RX settings they were built with; the network must know them.
    abp_rx1_delay_s: int = 1
    abp_rx1_dr_offset: int = 0
    abp_rx2_dr: int | None = None  # None: the region's default
    abp_rx2_frequency: int | None = None
    flush_queue_on_activate: bool = True
    codec: str = ""  # codec reference, used by the application server
    tags: dict[str, str] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidValueError("a device profile needs a name")
        object.__setattr__(self, "region", get_region(self.region).name)
        if not 1 <= self.abp_rx1_delay_s <= 15:
            raise InvalidValueError(f"RX1 delay must be 1..15 s, got {self.abp_rx1_delay_s}")
        if not 0 <= self.abp_rx1_dr_offset <= 7:
            raise InvalidValueError(f"RX1 DR offset must be 0..7, got {self.abp_rx1_dr_offset}")
        if self.uplink_interval_s <= 0:
            raise InvalidValueError("uplink interval must be positive")
