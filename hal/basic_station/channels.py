"""The uplink channels a station listens on: router_config ``upchannels`` entries.

A region fixes only part of what a gateway hears. Dynamic plans (EU868, AS923, KR920, IN865...)
define a few default channels that every device joins on; the rest are added by the network.
Numbered plans (US915, AU915, CN470) have 64-96 channels, of which an 8-channel SX1301 hears one
sub-band. The defaults here: EU868 adds 867.1-867.9 MHz (the five extra channels of ChirpStack's
and The Things Network's EU868 plans, so a gateway hears 8 channels); other dynamic regions add
nothing; US915 and AU915 use sub-band 2, the CN470 plans sub-band 1. Options override both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.cn470 import CN470ChannelPlan
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from hal.basic_station.datarates import StationDataRates
from hal.model import FSKChannel, FSKModulation, GatewayConfiguration, LoRaModulation

# Station's router_config parser takes upchannel data rates in 0..7 only (s2e.c).
MAX_UPCHANNEL_DR: Final = 7
CHANNELS_PER_SUB_BAND: Final = 8


@dataclass(frozen=True, slots=True, order=True)
class UpChannel:
    frequency_hz: int
    min_dr: int
    max_dr: int

    def __post_init__(self) -> None:
        if not 0 <= self.min_dr <= self.max_dr <= MAX_UPCHANNEL_DR:
            raise InvalidValueError(
                f"upchannel {self.frequency_hz} Hz: data rates must be 0 <= min <= max <= 7, "
                f"got {self.min_dr}..{self.max_dr}"
            )

    def to_json(self) -> list[int]:
        return [self.frequency_hz, self.min_dr, self.max_dr]


EU868_EXTRA_CHANNELS: Final = tuple(
    UpChannel(frequency, 0, 5)
    for frequency in (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)
)
_DEFAULT_EXTRA: Final = {"EU868": EU868_EXTRA_CHANNELS}
_DEFAULT_SUB_BAND: Final = {"US915": 2, "AU915": 2}


def _capped(frequency_hz: int, low: int, high: int) -> UpChannel:
    return UpChannel(frequency_hz, min(low, MAX_UPCHANNEL_DR), min(high, MAX_UPCHANNEL_DR))


def _numbered_channels(region: Region, sub_band: int) -> list[UpChannel]:
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        band = plan.sub_band(sub_band)
        narrow, wide = plan.data_rates_125khz, plan.data_rates_500khz
        return [_capped(f, *narrow) for f in band.channels_125khz_hz] + [
            _capped(band.channel_500khz_hz, *wide)
        ]
    if not isinstance(plan, CN470ChannelPlan):
        raise InvalidValueError(f"{region.name}: no sub-bands known for its channel plan")
    all_channels = plan.uplink_channels()
    count = len(all_channels) // CHANNELS_PER_SUB_BAND
    if not 1 <= sub_band <= count:
        raise InvalidValueError(f"{region.name} has sub-bands 1..{count}, not {sub_band}")
    first = (sub_band - 1) * CHANNELS_PER_SUB_BAND
    return [
        _capped(channel.frequency_hz, channel.min_data_rate, channel.max_data_rate)
        for channel in all_channels[first : first + CHANNELS_PER_SUB_BAND]
    ]


def region_channels(
    region: Region, *, sub_band: int | None = None, extra: Sequence[UpChannel] | None = None
) -> tuple[UpChannel, ...]:
    """The default uplink channels of ``region`` (see the module docstring), plus ``extra``."""
    plan = region.channel_plan
    if isinstance(plan, DynamicChannelPlan):
        channels = [
            _capped(c.frequency_hz, c.min_data_rate, c.max_data_rate) for c in plan.default_channels
        ]
        if extra is None:
            extra = _DEFAULT_EXTRA.get(region.name, ())
    else:
        number = sub_band if sub_band is not None else _DEFAULT_SUB_BAND.get(region.name, 1)
        channels = _numbered_channels(region, number)
    return check_channels(region, [*channels, *(extra or ())])


def check_channels(region: Region, channels: Iterable[UpChannel]) -> tuple[UpChannel, ...]:
    """The channels in frequency order, each checked against the region's band; no duplicates."""
    ordered = tuple(sorted(set(channels)))
    for channel in ordered:
        if not region.min_frequency_hz <= channel.frequency_hz <= region.max_frequency_hz:
            raise InvalidValueError(
                f"channel {channel.frequency_hz} Hz is outside {region.name} "
                f"({region.min_frequency_hz}..{region.max_frequency_hz} Hz)"
            )
    return ordered


def channels_from_configuration(
    configuration: GatewayConfiguration, rates: StationDataRates
) -> tuple[UpChannel, ...]:
    """The upchannels of a channel plan pushed by the network server."""
    channels = []
    for channel in configuration.channels:
        if isinstance(channel, FSKChannel):
            modulations: list[LoRaModulation | FSKModulation] = [FSKModulation(channel.datarate)]
        else:
            modulations = [
                LoRaModulation(channel.bandwidth, sf) for sf in channel.spreading_factors
            ]
        indices = [rates.uplink_data_rate(modulation) for modulation in modulations]
        known = [index for index in indices if index is not None]
        if not known or len(known) != len(indices):
            raise InvalidValueError(
                f"channel {channel.frequency} Hz: a modulation is no uplink data rate of "
                f"{rates.region.name}"
            )
        channels.append(UpChannel(channel.frequency, min(known), max(known)))
    return check_channels(rates.region, channels)
