"""Modulation parameters, as ChirpStack's ``gw.proto`` names them (``Modulation`` oneof)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from appliance.lorawan.errors import InvalidValueError


class CodeRate(IntEnum):
    """Values match ``gw.CodeRate`` so conversion is by number."""

    UNDEFINED = 0
    CR_4_5 = 1
    CR_4_6 = 2
    CR_4_7 = 3
    CR_4_8 = 4
    CR_3_8 = 5
    CR_2_6 = 6
    CR_1_4 = 7
    CR_1_6 = 8
    CR_5_6 = 9
    CR_LI_4_5 = 10
    CR_LI_4_6 = 11
    CR_LI_4_8 = 12

    @property
    def text(self) -> str:
        """The form packet forwarders use: ``4/5``; ``4/5LI`` for long-interleaved rates."""
        if self is CodeRate.UNDEFINED:
            return ""
        parts = self.name.split("_")
        if parts[1] == "LI":
            return f"{parts[2]}/{parts[3]}LI"
        return f"{parts[1]}/{parts[2]}"

    @classmethod
    def from_text(cls, text: str) -> CodeRate:
        cleaned = text.strip().upper().replace("OFF", "")
        for rate in cls:
            if rate.text.upper() == cleaned and rate is not CodeRate.UNDEFINED:
                return rate
        raise InvalidValueError(f"unknown coding rate {text!r}")

    @property
    def lora_cr(self) -> int:
        """1..4 for 4/5..4/8, the ``CR`` of the time-on-air formula."""
        if CodeRate.CR_4_5 <= self <= CodeRate.CR_4_8:
            return int(self)
        if self is CodeRate.CR_LI_4_5:
            return 1
        if self is CodeRate.CR_LI_4_6:
            return 2
        if self is CodeRate.CR_LI_4_8:
            return 4
        raise InvalidValueError(f"{self.name} is not a LoRa coding rate")


_LORA_BANDWIDTHS = (
    7_800,
    10_400,
    15_600,
    20_800,
    31_250,
    41_700,
    62_500,
    125_000,
    250_000,
    500_000,
    203_125,
    406_250,
    812_500,
    1_625_000,
)


@dataclass(frozen=True, slots=True)
class LoRaModulation:
    bandwidth: int  # Hz
    spreading_factor: int
    code_rate: CodeRate = CodeRate.CR_4_5
    polarization_inversion: bool = False
    preamble: int = 0  # symbols; 0 means the radio's default
    no_crc: bool = False

    def __post_init__(self) -> None:
        if self.bandwidth not in _LORA_BANDWIDTHS:
            raise InvalidValueError(f"unsupported LoRa bandwidth {self.bandwidth} Hz")
        if not 5 <= self.spreading_factor <= 12:
            raise InvalidValueError(f"spreading factor must be 5..12, got {self.spreading_factor}")
        if not 0 <= self.preamble <= 0xFFFF:
            raise InvalidValueError(f"preamble must be 0..65535 symbols, got {self.preamble}")

    @property
    def datr(self) -> str:
        """The Semtech UDP ``datr`` string, e.g. ``SF7BW125``."""
        return f"SF{self.spreading_factor}BW{self.bandwidth // 1000}"


@dataclass(frozen=True, slots=True)
class FSKModulation:
    datarate: int  # bit/s
    frequency_deviation: int = 0  # Hz

    def __post_init__(self) -> None:
        if not 500 <= self.datarate <= 300_000:
            raise InvalidValueError(f"FSK bit rate must be 500..300000, got {self.datarate}")
        if not 0 <= self.frequency_deviation <= 200_000:
            raise InvalidValueError(
                f"FSK deviation must be 0..200000 Hz, got {self.frequency_deviation}"
            )


@dataclass(frozen=True, slots=True)
class LRFHSSModulation:
    operating_channel_width: int  # Hz
    code_rate: CodeRate
    grid_steps: int


Modulation = LoRaModulation | FSKModulation | LRFHSSModulation
