"""Putting simulated devices into a running appliance before they join.

``Provisioner`` is what ``appliance simulate`` needs from the appliance: a device profile and
the devices with their root keys, each made ready to join from scratch (a device that exists
already is removed and added again, so the DevNonce history of an earlier run cannot refuse
the counters a fresh simulated device starts from). ``DataDirProvisioner`` writes into the
appliance's data directory: the same SQLite file the running appliance uses, which WAL mode
lets both processes open; an implementation over the REST API can take its place.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from appliance.lorawan.identifiers import EUI64, AESKey
from appliance.ns.device import Device, RootKeys
from appliance.ns.profile import DeviceProfile
from appliance.ns.sqlite_store import SQLiteStore, StoreError

DATABASE_NAME: Final = "appliance.db"
SIMULATED_APPLICATION_ID: Final = uuid.UUID("5e1f0000-0000-4000-8000-000000000003")


class ProvisioningError(Exception):
    """The devices cannot be put into the appliance (the message says why)."""


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    dev_eui: EUI64
    join_eui: EUI64
    name: str
    app_key: AESKey
    nwk_key: AESKey | None = None  # LoRaWAN 1.1 devices


class Provisioner(Protocol):
    async def provision(self, profile: DeviceProfile, devices: Sequence[DeviceSpec]) -> None:
        """Store ``profile`` and make every device of ``devices`` ready to join afresh."""
        ...

    async def close(self) -> None: ...


class DataDirProvisioner:
    """Writes into the data directory of an appliance (``appliance run --data-dir``)."""

    def __init__(self, data_dir: Path) -> None:
        if not (data_dir / DATABASE_NAME).is_file():
            raise ProvisioningError(
                f"no appliance database in {data_dir}: start 'appliance run --data-dir "
                f"{data_dir}' first"
            )
        try:
            self._store = SQLiteStore.open(data_dir)
        except StoreError as exc:
            raise ProvisioningError(str(exc)) from None

    async def provision(self, profile: DeviceProfile, devices: Sequence[DeviceSpec]) -> None:
        store = self._store
        try:
            await store.add_profile(profile)
            for spec in devices:
                if await store.device(spec.dev_eui) is not None:
                    await store.delete_device(spec.dev_eui)
                await store.add_device(
                    Device(
                        spec.dev_eui,
                        spec.join_eui,
                        spec.name,
                        profile.id,
                        SIMULATED_APPLICATION_ID,
                        RootKeys(spec.app_key, spec.nwk_key),
                    )
                )
        except StoreError as exc:
            raise ProvisioningError(str(exc)) from None

    async def close(self) -> None:
        await self._store.aclose()
