"""Finding concentrators: probe SPI and USB devices for an SX1302/SX1303 and say which board
profiles match what answers.

A probe resets radio A and runs it as the SX1302's clock (reception only, nothing is
transmitted), then reads the chip's version, model and EUI from its OTP. Stop anything else
using the concentrator first: the probe reconfigures the chip.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from hal.sx1302 import registers as reg
from hal.sx1302.chip import Chip
from hal.sx1302.clock import Clock, SystemClock
from hal.sx1302.errors import ProfileError, Sx1302Error
from hal.sx1302.identity import ChipIdentity, read_identity
from hal.sx1302.profiles import BoardProfile, load_all
from hal.sx1302.radio_setup import reset_radio, select_clock, select_sx1250_mode
from hal.sx1302.spi import open_spidev
from hal.sx1302.sx1250 import Sx1250
from hal.sx1302.transport import Transport
from hal.sx1302.usb import open_usb

PROBE_FREQUENCY_HZ: Final = 868_100_000  # any frequency clocks the chip; nothing is sent


@dataclass(frozen=True, slots=True)
class Detection:
    device: str
    bus_kind: str
    identity: ChipIdentity | None = None
    error: str | None = None
    profiles: tuple[str, ...] = field(default=())

    @property
    def found(self) -> bool:
        return self.identity is not None


def bus_kind_of(device: str) -> str:
    return "spi" if device.startswith("/dev/spidev") else "usb"


def all_devices() -> list[str]:
    return sorted(glob.glob("/dev/spidev*.*")) + sorted(glob.glob("/dev/ttyACM*"))


def probe_identity(transport: Transport, clock: Clock) -> ChipIdentity:
    chip = Chip(transport)
    version = chip.get(reg.VERSION)
    if version in (0x00, 0xFF):
        raise Sx1302Error(f"no SX1302 answers (version register reads 0x{version:02X})")
    reset_radio(chip, 0, clock)
    Sx1250(transport, 0, clock.sleep).setup(PROBE_FREQUENCY_HZ, single_input=False)
    select_sx1250_mode(chip, 0)
    select_clock(chip, 0)
    return read_identity(chip)


def matching_profiles(
    identity: ChipIdentity, bus_kind: str, device: str, profiles: list[BoardProfile]
) -> tuple[str, ...]:
    chip = identity.model.lower()
    return tuple(
        profile.name
        for profile in profiles
        if profile.bus_kind == bus_kind
        and (profile.chip == chip or (chip == "sx1303" and profile.chip == "sx1302"))
        and (bus_kind == "usb" or profile.device == device)
    )


def probe(
    device: str,
    *,
    opener: Callable[[str], Transport] | None = None,
    clock: Clock | None = None,
    profiles: list[BoardProfile] | None = None,
) -> Detection:
    kind = bus_kind_of(device)
    open_transport = opener or (open_spidev if kind == "spi" else open_usb)
    try:
        transport = open_transport(device)
    except Sx1302Error as exc:
        return Detection(device, kind, error=str(exc))
    try:
        identity = probe_identity(transport, clock or SystemClock())
    except Sx1302Error as exc:
        return Detection(device, kind, error=str(exc))
    finally:
        transport.close()
    if profiles is None:
        try:
            profiles = load_all()
        except ProfileError:
            profiles = []
    return Detection(
        device, kind, identity, profiles=matching_profiles(identity, kind, device, profiles)
    )
