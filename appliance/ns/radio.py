"""Between the region's data-rate indices and the gateway frame model's modulations."""

from __future__ import annotations

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import DataRate, Region
from appliance.lorawan.regions.common import Modulation as RegionModulation
from hal.model import CodeRate, FSKModulation, LoRaModulation, Modulation

# LoRaWAN's FSK uses a 25 kHz deviation at 50 kbit/s (RP002-1.0.4 section 2).
FSK_FREQUENCY_DEVIATION = 25_000


def data_rate_of(region: Region, modulation: Modulation, *, uplink: bool) -> int:
    """The DR index of a received (uplink) or planned (downlink) modulation in ``region``.

    Direction matters: US915 numbers SF8/500 kHz DR4 uplink and DR12 downlink.
    """
    for rate in region.data_rates:
        if (rate.uplink if uplink else rate.downlink) and _same(rate, modulation):
            return rate.index
    direction = "uplink" if uplink else "downlink"
    raise InvalidValueError(f"{region.name} has no {direction} data rate for {modulation}")


def _same(rate: DataRate, modulation: Modulation) -> bool:
    if isinstance(modulation, LoRaModulation):
        return (
            rate.modulation is RegionModulation.LORA
            and rate.spreading_factor == modulation.spreading_factor
            and rate.bandwidth_hz == modulation.bandwidth
        )
    if isinstance(modulation, FSKModulation):
        return rate.modulation is RegionModulation.FSK and rate.bitrate_bps == modulation.datarate
    return False


def downlink_modulation(region: Region, data_rate: int) -> LoRaModulation | FSKModulation:
    """The modulation a gateway transmits DR ``data_rate`` with (LoRa downlinks invert IQ)."""
    rate = region.data_rate(data_rate)
    if not rate.downlink:
        raise InvalidValueError(f"DR{data_rate} is not a downlink data rate in {region.name}")
    if rate.modulation is RegionModulation.LORA:
        assert rate.spreading_factor is not None and rate.bandwidth_hz is not None
        return LoRaModulation(
            rate.bandwidth_hz, rate.spreading_factor, CodeRate.CR_4_5, polarization_inversion=True
        )
    if rate.modulation is RegionModulation.FSK:
        assert rate.bitrate_bps is not None
        return FSKModulation(rate.bitrate_bps, FSK_FREQUENCY_DEVIATION)
    raise InvalidValueError(f"DR{data_rate} ({rate.modulation}) cannot be sent by a gateway")
