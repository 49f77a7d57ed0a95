"""What a device-repository import gives back: plain values, ready for the application server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ExampleKind = Literal["uplink-decode", "downlink-encode", "downlink-decode"]


@dataclass(frozen=True, slots=True)
class Example:
    """One input/output pair the repository ships with a codec."""

    description: str
    kind: ExampleKind
    input: dict[str, Any]
    expected: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """An example run through the codec: ``reason`` says why it failed."""

    description: str
    kind: ExampleKind
    passed: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ImportedCodec:
    """A JavaScript codec: the script (its files joined) and the self-test of its examples."""

    id: str
    script: str
    files: tuple[str, ...]
    self_tests: tuple[ExampleResult, ...] = ()

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.self_tests)

    @property
    def failures(self) -> tuple[ExampleResult, ...]:
        return tuple(result for result in self.self_tests if not result.passed)


@dataclass(frozen=True, slots=True)
class ImportedProfile:
    """The LoRaWAN settings of a device in one region.

    ``region`` is the appliance's region name (``EU868``, ``AS923-2``...); ``mac_version`` is
    ``1.0.0``..``1.1.0``; ``regional_parameters`` is the revision as the file writes it and
    ``reg_params_revision`` the same in ChirpStack's terms (``A``, ``B``, ``RP002-1.0.3``...).
    """

    id: str
    region: str
    mac_version: str
    regional_parameters: str
    reg_params_revision: str
    supports_otaa: bool
    supports_class_b: bool
    supports_class_c: bool
    max_eirp: float | None = None
    abp_rx1_delay_s: int | None = None
    abp_rx1_dr_offset: int | None = None
    abp_rx2_dr: int | None = None
    abp_rx2_frequency: int | None = None  # Hz
    class_b_timeout_s: int | None = None
    class_c_timeout_s: int | None = None

    @property
    def activation(self) -> Literal["OTAA", "ABP"]:
        return "OTAA" if self.supports_otaa else "ABP"


@dataclass(frozen=True, slots=True)
class ImportedDevice:
    """One device model, firmware version and region, with its profile and codec."""

    vendor_id: str
    vendor_name: str
    device_id: str
    name: str
    description: str
    firmware_version: str
    profile: ImportedProfile
    codec: ImportedCodec | None

    @property
    def region(self) -> str:
        return self.profile.region


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something the import left out: the file (relative to the repository) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RepositoryImport:
    source: Literal["ttn", "chirpstack"]
    root: str
    devices: tuple[ImportedDevice, ...]
    skipped: tuple[Skipped, ...]

    @property
    def codecs(self) -> tuple[ImportedCodec, ...]:
        seen: dict[int, ImportedCodec] = {}
        for device in self.devices:
            if device.codec is not None:
                seen.setdefault(id(device.codec), device.codec)
        return tuple(seen.values())
