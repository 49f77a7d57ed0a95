"""Between the region's data-rate indices and the gateway frame model's modulations."""

from __future__ import annotations

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.common import Modulation as RegionModulation
from hal.model import CodeRate, FSKModulation, LoRaModulation, Modulation

# LoRaWAN's FSK uses a 25 kHz deviation at 50 kbit/s (RP002-1.0.4 section 2).
FSK_FREQUENCY_DEVIATION = 25_000


def data_rate_of(region: Region, modulation: Modulation, *, uplink: bool) -> int:
    """The DR index of a received (uplink) or planned (downlink) modulation in ``region``.

    Direction matters: US915 numbers SF8/500 kHz DR4 uplink and DR12 downlink.
    """
    table = _tables.get((region.name, uplink))
    if table is None:
        table = _tables[region.name, uplink] = _table(region, uplink)
    index = table.get(_key(modulation))
    if index is None:
        direction = "uplink" if uplink else "downlink"
        raise InvalidValueError(f"{region.name} has no {direction} data rate for {modulation}")
    return index


# Asked for every uplink and every downlink window: one dict lookup per (region, direction)
# instead of a walk through the data-rate table.
_tables: dict[tuple[str, bool], dict[tuple[object, ...], int]] = {}


def _table(region: Region, uplink: bool) -> dict[tuple[object, ...], int]:
    table: dict[tuple[object, ...], int] = {}
    for rate in region.data_rates:
        if not (rate.uplink if uplink else rate.downlink):
            continue
        if rate.modulation is RegionModulation.LORA:
            key: tuple[object, ...] = ("lora", rate.spreading_factor, rate.bandwidth_hz)
        elif rate.modulation is RegionModulation.FSK:
            key = ("fsk", rate.bitrate_bps)
        else:
            continue
        table.setdefault(key, rate.index)  # the first matching rate, as the table reads
    return table


def _key(modulation: Modulation) -> tuple[object, ...]:
    if isinstance(modulation, LoRaModulation):
        return ("lora", modulation.spreading_factor, modulation.bandwidth)
    if isinstance(modulation, FSKModulation):
        return ("fsk", modulation.datarate)
    return ()


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
