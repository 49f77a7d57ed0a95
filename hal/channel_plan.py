"""The concentrator channels a gateway listens on, derived from a region's channel plan.

Dynamic-plan regions (EU868 and the like) listen on the region's default channels plus any
extra frequencies the operator adds (what the network then announces in the join-accept CFList);
fixed-plan regions (US915, AU915) listen on one sub-band: eight 125 kHz channels and its
500 kHz channel, which is all an 8-channel concentrator can hold. CN470's numbered channels are
taken the same way, eight consecutive uplink channels per "sub-band".
"""

from __future__ import annotations

from collections.abc import Iterable

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Channel, Region
from appliance.lorawan.regions.cn470 import CN470ChannelPlan
from appliance.lorawan.regions.common import DynamicChannelPlan, Modulation
from appliance.lorawan.regions.fixed import FixedChannelPlan
from hal.model import FSKChannel, LoRaChannel

ConcentratorChannel = LoRaChannel | FSKChannel


def _channels_for(region: Region, channel: Channel) -> list[ConcentratorChannel]:
    by_bandwidth: dict[int, list[int]] = {}
    fsk: list[ConcentratorChannel] = []
    for index in range(channel.min_data_rate, channel.max_data_rate + 1):
        rate = region.data_rate(index)
        if not rate.uplink:
            continue
        if rate.modulation is Modulation.LORA:
            assert rate.bandwidth_hz is not None and rate.spreading_factor is not None
            by_bandwidth.setdefault(rate.bandwidth_hz, []).append(rate.spreading_factor)
        elif rate.modulation is Modulation.FSK:
            assert rate.bitrate_bps is not None
            fsk.append(FSKChannel(channel.frequency_hz, 125_000, rate.bitrate_bps))
    lora: list[ConcentratorChannel] = [
        LoRaChannel(channel.frequency_hz, bandwidth, tuple(sorted(sfs)))
        for bandwidth, sfs in sorted(by_bandwidth.items())
    ]
    return lora + fsk


def gateway_channels(
    region: Region, *, sub_band: int | None = None, extra_frequencies: Iterable[int] = ()
) -> tuple[ConcentratorChannel, ...]:
    """The channels to configure for ``region``.

    ``sub_band`` (1-8) is required for fixed plans and refused for dynamic ones; extra
    frequencies take the data-rate range of the region's first default channel.
    """
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        if sub_band is None:
            raise InvalidValueError(f"{region.name} needs a sub-band (1-8) for the gateway")
        if tuple(extra_frequencies):
            raise InvalidValueError(f"{region.name} has fixed channels; extra ones cannot be added")
        band = plan.sub_band(sub_band)
        low, high = plan.data_rates_125khz
        wide_low, wide_high = plan.data_rates_500khz
        channels = [Channel(f, low, high) for f in band.channels_125khz_hz]
        channels.append(Channel(band.channel_500khz_hz, wide_low, wide_high))
    elif isinstance(plan, DynamicChannelPlan):
        if sub_band is not None:
            raise InvalidValueError(f"{region.name} has no sub-bands")
        channels = list(plan.default_channels)
        template = channels[0]
        known = {c.frequency_hz for c in channels}
        for frequency in extra_frequencies:
            if frequency in known:
                continue
            if not region.min_frequency_hz <= frequency <= region.max_frequency_hz:
                raise InvalidValueError(f"{frequency} Hz is outside {region.name}")
            channels.append(Channel(frequency, template.min_data_rate, template.max_data_rate))
            known.add(frequency)
    elif isinstance(plan, CN470ChannelPlan):
        numbered = plan.uplink_channels()
        bands = (len(numbered) + 7) // 8
        if sub_band is None or not 1 <= sub_band <= bands:
            raise InvalidValueError(f"{region.name} needs a group of 8 channels (1-{bands})")
        if tuple(extra_frequencies):
            raise InvalidValueError(f"{region.name} has fixed channels; extra ones cannot be added")
        channels = list(numbered[8 * (sub_band - 1) : 8 * sub_band])
    else:
        raise InvalidValueError(f"{region.name}: gateway channels for this plan are not modelled")
    return tuple(c for channel in channels for c in _channels_for(region, channel))
