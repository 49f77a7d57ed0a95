"""The regional questions a device asks: which rates it can use, how long a frame lasts.

Answers come from the RP002-1.0.4 tables in ``appliance.lorawan.regions``; this module only
adds the device's point of view (LR-FHSS left out, dwell-time limits applied).
"""

from __future__ import annotations

from typing import Final

from appliance.devicesim.radio import SECOND_NS, FSKParameters, LoRaParameters, RadioModulation
from appliance.lorawan.airtime import fsk_time_on_air, lora_symbol_time, lora_time_on_air
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Modulation, Region
from appliance.lorawan.regions.fixed import FixedChannelPlan

# LoRaMac-node keeps a receive window open for at least six symbols to detect a preamble.
MIN_RX_SYMBOLS: Final = 6


def usable_uplink_data_rates(region: Region, dwell_time: bool) -> tuple[int, ...]:
    """Uplink data rates the simulator transmits: LoRa and FSK rates that carry frames.

    LR-FHSS rates are left out: their hopping is not modelled.
    """
    usable = []
    for rate in region.data_rates:
        payload = rate.max_payload_dwell if dwell_time else rate.max_payload
        if rate.uplink and payload is not None and rate.modulation is not Modulation.LR_FHSS:
            usable.append(rate.index)
    return tuple(usable)


def is_downlink_rate(region: Region, index: int) -> bool:
    try:
        rate = region.data_rate(index)
    except InvalidValueError:
        return False
    return rate.downlink and rate.modulation is not Modulation.LR_FHSS


def default_data_rate(region: Region, dwell_time: bool) -> int:
    """The lowest data rate the device may use: the "default data rate" of ADR back-off."""
    return usable_uplink_data_rates(region, dwell_time)[0]


def next_lower_data_rate(region: Region, data_rate: int, dwell_time: bool) -> int:
    lower = [dr for dr in usable_uplink_data_rates(region, dwell_time) if dr < data_rate]
    return lower[-1] if lower else data_rate


def is_fixed_plan(region: Region) -> bool:
    return isinstance(region.channel_plan, FixedChannelPlan)


def modulation(region: Region, data_rate: int) -> RadioModulation:
    rate = region.data_rate(data_rate)
    if rate.modulation is Modulation.FSK:
        assert rate.bitrate_bps is not None
        return FSKParameters(rate.bitrate_bps)
    if rate.modulation is Modulation.LORA:
        assert rate.spreading_factor is not None and rate.bandwidth_hz is not None
        return LoRaParameters(rate.spreading_factor, rate.bandwidth_hz)
    raise InvalidValueError(f"DR{data_rate} of {region.name} is LR-FHSS, which is not simulated")


def time_on_air_ns(region: Region, data_rate: int, size: int, *, uplink: bool) -> int:
    """Air time of a PHYPayload of ``size`` bytes; LoRaWAN uplinks carry a CRC, downlinks not."""
    params = modulation(region, data_rate)
    if isinstance(params, FSKParameters):
        seconds = fsk_time_on_air(size, params.bitrate_bps)
    else:
        seconds = lora_time_on_air(
            size, params.spreading_factor, params.bandwidth_hz, explicit_header=True, crc=uplink
        )
    return round(seconds * SECOND_NS)


def symbol_ns(region: Region, data_rate: int) -> int:
    """One LoRa symbol, or one FSK octet, the unit a receiver needs to detect a preamble."""
    params = modulation(region, data_rate)
    if isinstance(params, FSKParameters):
        return round(8 * SECOND_NS / params.bitrate_bps)
    return round(lora_symbol_time(params.spreading_factor, params.bandwidth_hz) * SECOND_NS)


def max_mac_payload(region: Region, data_rate: int, dwell_time: bool) -> int:
    """M: the largest MACPayload (FHDR + FPort + FRMPayload) at this data rate."""
    return region.max_payload(data_rate, dwell_time).mac_payload
