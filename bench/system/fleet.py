"""The devices and gateways of the whole-system benchmark: provisioning and their traffic.

Devices are ABP (activated from the start, so 100,000 of them need no 100,000 joins), each
with its own session keys and DevAddr, all recomputable from the device's index. Frames are
real LoRaWAN 1.0.3 data uplinks with valid MICs and counters that only go up, built with the
protocol core and wrapped by ``appliance.simulation.forwarder.rxpk_of`` the way the
simulated packet forwarders write them. Devices take turns in a fixed shuffled order, so a
device sends once per round of ``devices`` frames.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from appliance.app.bootstrap import ensure_application
from appliance.app.repository import Repository
from appliance.lorawan import security
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns.device import Device
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.join import cf_list_and_channels
from appliance.simulation.forwarder import rxpk_of
from hal.model import LoRaModulation, UplinkFrame, UplinkRxInfo, UplinkTxInfo
from hal.semtech_udp.packets import PushData
from hal.virtual_radio.backend import EU868_EXTRA_FREQUENCIES

APPLICATION_ID: Final = uuid.UUID("b5e70000-0000-4000-8000-000000000001")
PROFILE_ID: Final = uuid.UUID("b5e70000-0000-4000-8000-000000000002")
DEV_EUI_BASE: Final = 0x70B3_D5B5_0000_0000
GATEWAY_BASE: Final = 0x70B3_D5B5_FF00_0000
# Inside NetID 000000's range (the appliance's default network), one address per device.
DEV_ADDR_BASE: Final = 0x0100_0000
CHANNELS_HZ: Final = (868_100_000, 868_300_000, 868_500_000)  # EU868's default channels
SF7_BW125: Final = LoRaModulation(125_000, 7)  # DR5
RX1_DELAY_US: Final = 1_000_000
PROTOCOL_VERSION: Final = 2
_PROVISION_CHUNK: Final = 10_000


def dev_eui(index: int) -> EUI64:
    return EUI64(DEV_EUI_BASE + index)


def dev_addr(index: int) -> DevAddr:
    return DevAddr(DEV_ADDR_BASE + index)


def gateway_id(index: int) -> EUI64:
    return EUI64(GATEWAY_BASE + index)


def session_keys(index: int) -> SessionKeys:
    nwk = (0xB5E7_0000_0000_0000_0000_0000_0000_0000 + 2 * index).to_bytes(16, "big")
    app = (0xB5E7_0000_0000_0000_0000_0000_0000_0000 + 2 * index + 1).to_bytes(16, "big")
    return SessionKeys.for_1_0(AESKey(nwk), AESKey(app))


def device_of(dev_addr_value: int) -> int | None:
    """The index of the device with this DevAddr, or None for an address not ours."""
    index = dev_addr_value - DEV_ADDR_BASE
    return index if index >= 0 else None


@dataclass(frozen=True, slots=True)
class FleetSpec:
    devices: int
    gateways: int = 10
    copies: int = 1  # gateways that hear every frame (more than 1: de-duplication has work)
    payload_size: int = 12
    seed: int = 1

    def __post_init__(self) -> None:
        if self.devices < 1 or self.gateways < 1:
            raise ValueError("a fleet needs at least one device and one gateway")
        if not 1 <= self.copies <= self.gateways:
            raise ValueError(f"copies must be 1..{self.gateways} (the gateways), got {self.copies}")


# The channels ``appliance run`` gives EU868 devices at their join (the CFList): a session
# with fewer would make the server send NewChannelReq, which these devices never answer.
_NETWORK: Final = NetworkSettings(region_name="EU868", extra_channels=EU868_EXTRA_FREQUENCIES)
_, _ENABLED, _EXTRAS = cf_list_and_channels(_NETWORK.region, _NETWORK, MACVersion.LORAWAN_1_0_3)


def _session(index: int) -> DeviceSession:
    return DeviceSession(
        dev_addr(index),
        session_keys(index),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        _NETWORK.effective_rx2_dr,
        _NETWORK.effective_rx2_frequency,
        _ENABLED,
        extra_uplink_channels=dict(_EXTRAS),
        dr=5,
    )


def provision(data_dir: Path, spec: FleetSpec) -> float:
    """Put the fleet's application, profile and ABP devices into ``data_dir`` (which
    ``appliance run`` then uses); the seconds it took."""
    started = time.perf_counter()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def fill() -> None:
        store = SQLiteStore.open(data_dir)
        try:
            ensure_application(
                Repository(store.connection),
                APPLICATION_ID,
                "benchmark",
                "devices of bench.system",
                datetime.now(UTC),
            )
            await store.add_profile(
                DeviceProfile(
                    "benchmark devices",
                    "EU868",
                    mac_version=MACVersion.LORAWAN_1_0_3,
                    uplink_interval_s=60,
                    device_status_req_interval=0,
                    id=PROFILE_ID,
                )
            )
            for first in range(0, spec.devices, _PROVISION_CHUNK):
                last = min(first + _PROVISION_CHUNK, spec.devices)
                await store.add_devices(
                    Device(
                        dev_eui(i),
                        EUI64(0),
                        f"bench-{i}",
                        PROFILE_ID,
                        APPLICATION_ID,
                        session=_session(i),
                    )
                    for i in range(first, last)
                )
        finally:
            await store.aclose()

    asyncio.run(fill())
    return time.perf_counter() - started


@dataclass(slots=True)
class Frame:
    """One uplink as the gateways that hear it send it."""

    device: int
    f_cnt: int
    confirmed: bool
    tmst: int  # the reception timestamp (µs) each gateway reports; RX1 is tmst + 1 s
    datagrams: tuple[tuple[int, bytes], ...]  # (gateway index, PUSH_DATA)


@dataclass(slots=True)
class Traffic:
    """The fleet's frames, round after round, counters continuing from where they stopped."""

    spec: FleetSpec
    next_f_cnt: list[int] = field(init=False)
    order: list[int] = field(init=False)
    position: int = 0
    tmst: int = 0
    token: int = 0

    def __post_init__(self) -> None:
        self.next_f_cnt = [0] * self.spec.devices
        rng = random.Random(self.spec.seed)
        self.order = list(range(self.spec.devices))
        rng.shuffle(self.order)

    def _gateways_of(self, index: int) -> list[int]:
        first = index % self.spec.gateways
        return [(first + n) % self.spec.gateways for n in range(self.spec.copies)]

    def frames(self, count: int, *, spacing_us: int, confirmed_share: float = 0.0) -> list[Frame]:
        """The next ``count`` frames, their ``tmst`` values ``spacing_us`` apart; the devices
        in the first ``confirmed_share`` of the fleet send theirs confirmed."""
        if not 0.0 <= confirmed_share <= 1.0:
            raise ValueError("confirmed_share must be 0..1")
        confirmed_below = round(self.spec.devices * confirmed_share)
        return list(self._frames(count, spacing_us, confirmed_below))

    def _frames(self, count: int, spacing_us: int, confirmed_below: int) -> Iterator[Frame]:
        spec = self.spec
        filler = bytes(range(spec.payload_size))
        for _ in range(count):
            index = self.order[self.position]
            self.position = (self.position + 1) % spec.devices
            f_cnt = self.next_f_cnt[index]
            self.next_f_cnt[index] = f_cnt + 1
            confirmed = index < confirmed_below
            mtype = MType.CONFIRMED_DATA_UP if confirmed else MType.UNCONFIRMED_DATA_UP
            payload = (f_cnt.to_bytes(4, "big") + filler)[: max(spec.payload_size, 4)]
            phy = security.build_data_frame(
                mtype, dev_addr(index), session_keys(index), f_cnt, f_port=1, payload=payload
            ).encode()
            self.tmst = (self.tmst + spacing_us) % 2**32
            tx = UplinkTxInfo(CHANNELS_HZ[f_cnt % 3], SF7_BW125)
            datagrams = []
            for copy, gateway in enumerate(self._gateways_of(index)):
                rx = UplinkRxInfo(
                    gateway_id(gateway),
                    rssi=-70 - 7 * copy,
                    snr=9.5 - 2 * copy,
                    channel=f_cnt % 3,
                    context=self.tmst.to_bytes(4, "big"),
                )
                body = json.dumps(
                    {"rxpk": [rxpk_of(UplinkFrame(phy, tx, rx))]}, separators=(",", ":")
                ).encode()
                self.token = (self.token + 1) & 0xFFFF
                datagram = PushData(PROTOCOL_VERSION, self.token, gateway_id(gateway), body)
                datagrams.append((gateway, datagram.encode()))
            yield Frame(index, f_cnt, confirmed, self.tmst, tuple(datagrams))
