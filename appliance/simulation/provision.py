"""Provision simulated devices for ``appliance run --simulate N``: a profile, N devices in the
store, and the matching end devices placed around the virtual gateway."""

from __future__ import annotations

import math
import random
import uuid
from typing import Final

from appliance.devicesim import OTAA, DeviceConfig, EndDevice, LoRaWANVersion
from appliance.lorawan.identifiers import EUI64, AESKey
from appliance.lorawan.regions import get_region
from appliance.ns.adr import max_lora_125khz_dr
from appliance.ns.device import Device, RootKeys
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.sqlite_store import SQLiteStore
from appliance.simulation.fleet import SimulatedDevice
from hal.virtual_radio import Position

# Simulated devices live in a DevEUI range of their own so they never clash with real ones.
SIMULATED_DEV_EUI_BASE: Final = 0xFFFE_0000_0000_0000
SIMULATED_JOIN_EUI: Final = EUI64("fffe000000000000")
SIMULATED_PROFILE_ID: Final = uuid.UUID("5e1f0000-0000-4000-8000-000000000001")
SIMULATED_APPLICATION_ID: Final = uuid.UUID("5e1f0000-0000-4000-8000-000000000002")


def simulated_app_key(dev_eui: EUI64) -> AESKey:
    """A key anyone can recompute: these devices exist to show traffic, not to keep secrets."""
    return AESKey(bytes(dev_eui) * 2)


async def provision(
    store: SQLiteStore,
    region: str,
    count: int,
    *,
    now_ns: int,
    seed: int = 0,
    uplink_interval_s: float = 10.0,
) -> list[SimulatedDevice]:
    profile = DeviceProfile(
        "simulated devices",
        region,
        mac_version=MACVersion.LORAWAN_1_0_3,
        uplink_interval_s=int(uplink_interval_s),
        id=SIMULATED_PROFILE_ID,
    )
    await store.add_profile(profile)
    # The fastest 125 kHz rate: short frames keep the regional duty-cycle pauses to seconds, so
    # a newcomer sees traffic at once (a join at SF12 would silence a device for minutes).
    data_rate = max_lora_125khz_dr(get_region(region))
    rng = random.Random(seed)
    simulated = []
    for index in range(count):
        dev_eui = EUI64(SIMULATED_DEV_EUI_BASE + index + 1)
        key = simulated_app_key(dev_eui)
        if await store.device(dev_eui) is None:
            await store.add_device(
                Device(
                    dev_eui,
                    SIMULATED_JOIN_EUI,
                    f"simulated-{index + 1}",
                    profile.id,
                    SIMULATED_APPLICATION_ID,
                    RootKeys(key),
                )
            )
        config = DeviceConfig(
            dev_eui,
            OTAA(key),
            SIMULATED_JOIN_EUI,
            LoRaWANVersion.V1_0_3,
            region,
            payload=lambda f_cnt: f_cnt.to_bytes(2, "big") + b"sim",
            uplink_interval_s=uplink_interval_s,
            uplink_jitter_s=uplink_interval_s / 10,
            data_rate=data_rate,
        )
        device = EndDevice(config, rng=random.Random(rng.getrandbits(64)), now_ns=now_ns)
        distance = rng.uniform(100, 3_000)
        angle = rng.uniform(0, 2 * math.pi)
        simulated.append(
            SimulatedDevice(
                device, Position(distance * math.cos(angle), distance * math.sin(angle))
            )
        )
    return simulated
