"""Chip identity from the SX1302's OTP: model (SX1302/SX1303) and the 64-bit EUI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from appliance.lorawan.identifiers import EUI64
from hal.sx1302 import registers as reg
from hal.sx1302.chip import Chip

CHIP_MODELS: Final = {0x00: "SX1302", 0x02: "SX1302", 0x03: "SX1303"}


@dataclass(frozen=True, slots=True)
class ChipIdentity:
    version: int
    model_id: int
    eui: EUI64

    @property
    def model(self) -> str:
        return CHIP_MODELS.get(self.model_id, f"unknown (model id 0x{self.model_id:02X})")

    @property
    def fine_timestamp_capable(self) -> bool:
        return self.model_id == 0x03


def read_otp(chip: Chip, address: int) -> int:
    chip.set(reg.OTP_ADDRESS, address)
    return chip.get(reg.OTP_DATA)


def read_identity(chip: Chip) -> ChipIdentity:
    version = chip.get(reg.VERSION)
    model_id = read_otp(chip, reg.OTP_MODEL_ID_ADDRESS)
    eui = bytes(read_otp(chip, index) for index in range(8))
    return ChipIdentity(version, model_id, EUI64(eui))
