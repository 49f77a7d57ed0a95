"""LinkADRReq on the device: a contiguous block of requests is one atomic command.

LoRaWAN 1.0.3/1.0.4 section 5.3 (and 1.1 section 5.3): the channel-mask parts of every request
in the block are applied in order, DataRate, TXPower and NbTrans come from the last one, every
request gets a LinkADRAns with the same status, and nothing changes unless all three parts are
acknowledged. ChMaskCntl is regional (RP002-1.0.4 "LinkAdrReq command" of each region): dynamic
plans know 0 (channels 0..15) and 6 (all defined channels on); US915/AU915 know 0..3 (blocks of
16 channels), 4 (channels 64..71), 5 (one bit per sub-band, as LoRaMac-node reads it), 6 (all
125 kHz on) and 7 (all 125 kHz off), the last two with ChMask applying to channels 64..71.

With ADR off the device applies only the channel mask and refuses DataRate and TXPower
(Semtech's LoRaWAN 1.0.4 device guidance), so the network learns it is not in control.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from appliance.devicesim.channels import FIXED_125KHZ_CHANNELS, ChannelTable
from appliance.devicesim.config import LoRaWANVersion
from appliance.devicesim.regional import usable_uplink_data_rates
from appliance.devicesim.session import RadioSettings
from appliance.lorawan.maccommands import LinkADRAns, LinkADRReq
from appliance.lorawan.regions import Region

KEEP_CURRENT: Final = 0x0F  # DataRate/TXPower 15: keep the current value (1.0.4 and 1.1)
_ALL_125KHZ: Final = (1 << FIXED_125KHZ_CHANNELS) - 1


@dataclass(frozen=True, slots=True)
class LinkADROutcome:
    settings: RadioSettings
    channels: ChannelTable
    answer: LinkADRAns


def _dynamic_mask(block: tuple[LinkADRReq, ...], table: ChannelTable) -> int | None:
    defined = sum(1 << c.index for c in table.defined)
    mask = table.mask
    for request in block:
        if request.ch_mask_cntl == 0:
            mask = request.ch_mask
        elif request.ch_mask_cntl == 6:
            mask = defined
        else:
            return None  # RFU in dynamic plans
    if mask == 0 or mask & ~defined:
        return None  # no channel left, or a channel the device does not have
    return mask


def _fixed_mask(block: tuple[LinkADRReq, ...], table: ChannelTable) -> int | None:
    mask = table.mask
    for request in block:
        control, bits = request.ch_mask_cntl, request.ch_mask
        wide = (bits & 0xFF) << FIXED_125KHZ_CHANNELS
        if control <= 3:
            shift = 16 * control
            mask = mask & ~(0xFFFF << shift) | bits << shift
        elif control == 4:
            mask = mask & _ALL_125KHZ | wide
        elif control == 5:
            for sub_band in range(8):
                group = 0xFF << (8 * sub_band) | 1 << (FIXED_125KHZ_CHANNELS + sub_band)
                mask = mask | group if bits >> sub_band & 1 else mask & ~group
        elif control == 6:
            mask = _ALL_125KHZ | wide
        else:
            mask = wide
    return mask or None


def apply_link_adr_block(
    block: tuple[LinkADRReq, ...],
    *,
    settings: RadioSettings,
    channels: ChannelTable,
    region: Region,
    version: LoRaWANVersion,
    adr: bool,
) -> LinkADROutcome:
    """Evaluate a block of LinkADRReq; the outcome's answer goes out once per request."""
    mask = _fixed_mask(block, channels) if channels.fixed else _dynamic_mask(block, channels)
    channel_ok = mask is not None
    new_channels = channels if mask is None else channels.with_mask(mask)
    if not adr:
        answer = LinkADRAns(power_ack=False, data_rate_ack=False, channel_mask_ack=channel_ok)
        return LinkADROutcome(settings, new_channels, answer)

    last = block[-1]
    keep_allowed = version in (LoRaWANVersion.V1_0_4, LoRaWANVersion.V1_1)
    data_rate = last.data_rate
    if data_rate == KEEP_CURRENT and keep_allowed:
        data_rate = settings.data_rate
    data_rate_ok = data_rate in usable_uplink_data_rates(
        region, settings.uplink_dwell_time
    ) and bool(new_channels.for_data_rate(data_rate))
    tx_power = last.tx_power
    if tx_power == KEEP_CURRENT and keep_allowed:
        tx_power = settings.tx_power
    power_ok = 0 <= tx_power < len(region.tx_power_backoff_db)

    answer = LinkADRAns(power_ack=power_ok, data_rate_ack=data_rate_ok, channel_mask_ack=channel_ok)
    if not (channel_ok and data_rate_ok and power_ok):
        return LinkADROutcome(settings, channels, answer)
    # NbTrans 0 means the default of one transmission (1.0.3 section 5.2, LoRaMac-node).
    updated = replace(settings, data_rate=data_rate, tx_power=tx_power, nb_trans=last.nb_trans or 1)
    return LinkADROutcome(updated, new_channels, answer)
