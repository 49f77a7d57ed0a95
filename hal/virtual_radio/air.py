"""What travels over the simulated air: device uplinks and gateway transmissions."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.lorawan.airtime import fsk_time_on_air, lora_time_on_air
from hal.model import FSKModulation, LoRaModulation
from hal.virtual_radio.propagation import Position

RadioModulation = LoRaModulation | FSKModulation


def time_on_air_ns(size: int, modulation: RadioModulation, *, uplink: bool) -> int:
    """Air time of a LoRaWAN frame: uplinks carry a payload CRC, downlinks do not."""
    if isinstance(modulation, FSKModulation):
        seconds = fsk_time_on_air(size, modulation.datarate)
    else:
        seconds = lora_time_on_air(
            size,
            modulation.spreading_factor,
            modulation.bandwidth,
            modulation.code_rate.lora_cr,
            preamble_symbols=modulation.preamble or 8,
            crc=uplink and not modulation.no_crc,
        )
    return round(seconds * 1e9)


@dataclass(frozen=True, slots=True)
class AirPacket:
    """An uplink a simulated device puts on the air at ``start_ns`` (the radio's clock)."""

    phy_payload: bytes
    frequency: int
    modulation: RadioModulation
    tx_power_dbm: float
    position: Position
    start_ns: int

    @property
    def end_ns(self) -> int:
        return self.start_ns + time_on_air_ns(len(self.phy_payload), self.modulation, uplink=True)


@dataclass(frozen=True, slots=True)
class Transmission:
    """A downlink the gateway puts on the air; devices decide whether they were listening."""

    phy_payload: bytes
    frequency: int
    modulation: RadioModulation
    power_dbm: int
    start_ns: int
    end_ns: int
    downlink_id: int
