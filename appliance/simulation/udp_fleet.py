"""The fleet ``appliance simulate`` runs: devices, their profile and keys, and the gateways.

Pure set-up, no I/O: ``plan_fleet`` turns the options into the device profile and devices to
provision, the simulated end devices placed around the site, and one virtual concentrator per
gateway (each behind its own Semtech UDP forwarder, see ``udp_runner``). Devices live in a
DevEUI range of their own (not the one of ``appliance run --simulate``), and their keys can be
recomputed from the DevEUI: they exist to make traffic, not to keep secrets.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from typing import Final

from appliance.devicesim import OTAA, DeviceConfig, EndDevice, LoRaWANVersion
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, AESKey
from appliance.lorawan.regions import get_region
from appliance.lorawan.regions.cn470 import CN470ChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.ns.adr import max_lora_125khz_dr
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.simulation.fleet import SimulatedDevice
from appliance.simulation.provision import SIMULATED_JOIN_EUI, simulated_app_key
from appliance.simulation.provisioner import DeviceSpec
from hal.channel_plan import gateway_channels
from hal.virtual_radio import Position, VirtualConcentrator, VirtualConcentratorConfig

SIMULATE_DEV_EUI_BASE: Final = 0xFFFE_0001_0000_0000
SIMULATE_GATEWAY_BASE: Final = 0xFFFE_0002_0000_0000
_PROFILE_NAMESPACE: Final = uuid.UUID("5e1f0000-0000-4000-8000-000000000004")
_MAC_VERSIONS: Final = {
    LoRaWANVersion.V1_0_2: MACVersion.LORAWAN_1_0_2,
    LoRaWANVersion.V1_0_3: MACVersion.LORAWAN_1_0_3,
    LoRaWANVersion.V1_0_4: MACVersion.LORAWAN_1_0_4,
    LoRaWANVersion.V1_1: MACVersion.LORAWAN_1_1_0,
}
GATEWAY_SPACING_M: Final = 1_500.0
DEVICE_RANGE_M: Final = (100.0, 2_500.0)
POWER_ON_SPREAD_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class FleetOptions:
    devices: int = 10
    gateways: int = 1
    region: str = "EU868"
    interval_s: float = 10.0
    confirmed_share: float = 0.0
    mac_version: LoRaWANVersion = LoRaWANVersion.V1_0_3
    # The network's channels, as ``appliance run`` configures them: the sub-band of a fixed
    # plan, the CFList channels of a dynamic one.
    sub_band: int | None = None
    extra_frequencies: tuple[int, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.devices <= 100_000:
            raise InvalidValueError(f"devices must be 1..100000, got {self.devices}")
        if not 1 <= self.gateways <= 100:
            raise InvalidValueError(f"gateways must be 1..100, got {self.gateways}")
        if not 1.0 <= self.interval_s <= 86_400:
            raise InvalidValueError(f"interval must be 1..86400 s, got {self.interval_s:g}")
        if not 0.0 <= self.confirmed_share <= 1.0:
            raise InvalidValueError(f"confirmed share must be 0..1, got {self.confirmed_share:g}")


@dataclass(frozen=True, slots=True)
class FleetPlan:
    profile: DeviceProfile
    specs: tuple[DeviceSpec, ...]
    devices: tuple[SimulatedDevice, ...]
    concentrators: tuple[VirtualConcentrator, ...]


def simulated_nwk_key(dev_eui: EUI64) -> AESKey:
    return AESKey(bytes(dev_eui)[::-1] * 2)


def _gateway_position(index: int, count: int) -> Position:
    if count == 1:
        return Position()
    angle = 2 * math.pi * index / count
    return Position(GATEWAY_SPACING_M * math.cos(angle), GATEWAY_SPACING_M * math.sin(angle))


def _payload(f_cnt: int) -> bytes:
    return f_cnt.to_bytes(4, "big") + b"sim"


def plan_fleet(options: FleetOptions, *, now_ns: int, unix_ns_at_zero: int) -> FleetPlan:
    """Everything the run needs; ``InvalidValueError`` when the region cannot host it."""
    region = get_region(options.region)
    if isinstance(region.channel_plan, CN470ChannelPlan):
        raise InvalidValueError(f"the device simulator does not model {region.name}'s plans")
    fixed = isinstance(region.channel_plan, FixedChannelPlan)
    channels = gateway_channels(
        region,
        sub_band=options.sub_band if fixed else None,
        extra_frequencies=() if fixed else options.extra_frequencies,
    )
    version = options.mac_version
    profile = DeviceProfile(
        f"simulated devices (LoRaWAN {version})",
        region.name,
        mac_version=_MAC_VERSIONS[version],
        uplink_interval_s=max(1, round(options.interval_s)),
        id=uuid.uuid5(_PROFILE_NAMESPACE, f"{region.name}/{version}"),
    )
    rng = random.Random(options.seed)
    confirmed = round(options.devices * options.confirmed_share)
    specs: list[DeviceSpec] = []
    devices: list[SimulatedDevice] = []
    for index in range(options.devices):
        dev_eui = EUI64(SIMULATE_DEV_EUI_BASE + index + 1)
        app_key = simulated_app_key(dev_eui)
        nwk_key = simulated_nwk_key(dev_eui) if version.is_1_1 else None
        specs.append(
            DeviceSpec(dev_eui, SIMULATED_JOIN_EUI, f"simulate-{index + 1}", app_key, nwk_key)
        )
        config = DeviceConfig(
            dev_eui,
            OTAA(app_key, nwk_key),
            SIMULATED_JOIN_EUI,
            version,
            region.name,
            confirmed=index < confirmed,
            payload=_payload,
            uplink_interval_s=options.interval_s,
            uplink_jitter_s=options.interval_s / 10,
            # The fastest 125 kHz rate keeps the regional duty-cycle pauses short.
            data_rate=max_lora_125khz_dr(region),
            sub_bands=(options.sub_band,) if fixed and options.sub_band else (),
        )
        # Devices are switched on over the first seconds, not all at the same instant (their
        # first join-requests would collide on the few join channels).
        power_on = now_ns + round(rng.uniform(0, min(options.interval_s, POWER_ON_SPREAD_S)) * 1e9)
        device = EndDevice(config, rng=random.Random(rng.getrandbits(64)), now_ns=power_on)
        distance = rng.uniform(*DEVICE_RANGE_M)
        angle = rng.uniform(0, 2 * math.pi)
        position = Position(distance * math.cos(angle), distance * math.sin(angle))
        devices.append(SimulatedDevice(device, position))
    concentrators = tuple(
        VirtualConcentrator(
            VirtualConcentratorConfig(
                EUI64(SIMULATE_GATEWAY_BASE + index + 1),
                channels,
                position=_gateway_position(index, options.gateways),
                tx_frequency_range=(region.min_frequency_hz, region.max_frequency_hz),
                unix_ns_at_zero=unix_ns_at_zero,
            ),
            boot_ns=now_ns,
            rng=random.Random(rng.getrandbits(64)),
        )
        for index in range(options.gateways)
    )
    return FleetPlan(profile, tuple(specs), tuple(devices), concentrators)
