"""The device's uplink channels: the region's plan plus what the network changed.

Dynamic plans (EU868, AS923, ...) have up to 16 channel slots: the region's default channels,
which the network cannot change, and channels added by a CFList (type 0) or NewChannelReq;
DlChannelReq can move a channel's RX1 frequency. Fixed plans (US915, AU915) have 72 numbered
channels that the network switches on and off (CFList type 1, LinkADRReq).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from appliance.lorawan.join_accept import CFList, CFListChannelMask, CFListFrequencies
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan

FIXED_CHANNELS: Final = 72
FIXED_125KHZ_CHANNELS: Final = 64


@dataclass(frozen=True, slots=True)
class UplinkChannel:
    index: int
    frequency: int
    min_dr: int
    max_dr: int
    enabled: bool = True
    rx1_frequency: int | None = None  # set by DlChannelReq; None: the region's RX1 rule

    def supports(self, data_rate: int) -> bool:
        return self.min_dr <= data_rate <= self.max_dr


@dataclass(frozen=True, slots=True)
class ChannelTable:
    """All channel slots; ``None`` marks a dynamic-plan slot with no channel defined."""

    slots: tuple[UplinkChannel | None, ...]
    fixed: bool
    default_count: int

    @classmethod
    def initial(cls, region: Region, sub_bands: tuple[int, ...] = ()) -> ChannelTable:
        plan = region.channel_plan
        if isinstance(plan, FixedChannelPlan):
            allowed = set(range(FIXED_CHANNELS))
            if sub_bands:
                allowed = {i for band in sub_bands for i in plan.sub_band(band).channel_indices}
            channels = tuple(
                UplinkChannel(i, c.frequency_hz, c.min_data_rate, c.max_data_rate, i in allowed)
                for i, c in enumerate(plan.uplink_channels())
            )
            return cls(channels, fixed=True, default_count=FIXED_CHANNELS)
        assert isinstance(plan, DynamicChannelPlan)
        defaults = tuple(
            UplinkChannel(i, c.frequency_hz, c.min_data_rate, c.max_data_rate)
            for i, c in enumerate(plan.default_channels)
        )
        empty: tuple[UplinkChannel | None, ...] = (None,) * (plan.max_channels - len(defaults))
        return cls(defaults + empty, fixed=False, default_count=len(defaults))

    # --- questions ------------------------------------------------------------------------

    @property
    def defined(self) -> tuple[UplinkChannel, ...]:
        return tuple(c for c in self.slots if c is not None)

    @property
    def enabled(self) -> tuple[UplinkChannel, ...]:
        return tuple(c for c in self.slots if c is not None and c.enabled)

    @property
    def mask(self) -> int:
        """Bit n set when channel n is defined and enabled."""
        return sum(1 << c.index for c in self.enabled)

    def for_data_rate(self, data_rate: int) -> tuple[UplinkChannel, ...]:
        return tuple(c for c in self.enabled if c.supports(data_rate))

    def channel(self, index: int) -> UplinkChannel | None:
        return self.slots[index] if 0 <= index < len(self.slots) else None

    def rx1_frequency(self, channel: UplinkChannel, region: Region) -> int:
        if channel.rx1_frequency is not None:
            return channel.rx1_frequency
        return region.rx1_frequency(channel.frequency, channel.index)

    # --- changes (each returns a new table) ------------------------------------------------

    def with_mask(self, mask: int) -> ChannelTable:
        """Enable exactly the defined channels whose bit is set in ``mask``."""
        return replace(
            self,
            slots=tuple(
                None if c is None else replace(c, enabled=bool(mask >> c.index & 1))
                for c in self.slots
            ),
        )

    def with_channel(self, index: int, channel: UplinkChannel | None) -> ChannelTable:
        slots = list(self.slots)
        slots[index] = channel
        return replace(self, slots=tuple(slots))

    def with_defaults_enabled(self) -> ChannelTable:
        """ADR back-off at the default data rate: fixed plans enable every channel, dynamic
        plans their default channels, leaving the other channels as they are."""
        enable = FIXED_CHANNELS if self.fixed else self.default_count
        return replace(
            self,
            slots=tuple(
                None if c is None else (replace(c, enabled=True) if c.index < enable else c)
                for c in self.slots
            ),
        )

    def with_cf_list(self, cf_list: CFList | None) -> ChannelTable:
        """Apply a join-accept CFList; a CFList of the type the plan does not use is ignored,
        as the regional parameters ask."""
        if isinstance(cf_list, CFListFrequencies) and not self.fixed:
            template = self.slots[0]
            assert template is not None
            table = self
            for offset, frequency in enumerate(cf_list.frequencies):
                index = self.default_count + offset
                if index >= len(self.slots):
                    break
                # Frequency 0 leaves the slot undefined; CFList channels take the default
                # channels' data-rate range (RP002-1.0.4, CFList of each dynamic region).
                channel = (
                    UplinkChannel(index, frequency, template.min_dr, template.max_dr)
                    if frequency
                    else None
                )
                table = table.with_channel(index, channel)
            return table
        if isinstance(cf_list, CFListChannelMask) and self.fixed:
            masks = cf_list.ch_masks + (0,) * (5 - len(cf_list.ch_masks))
            mask = sum(m << (16 * i) for i, m in enumerate(masks[:4])) | (masks[4] & 0xFF) << 64
            return self.with_mask(mask)
        return self
