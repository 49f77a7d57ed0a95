"""Channel masks of LinkADRReq: which channels the network wants enabled, the block of
(ChMaskCntl, ChMask) pairs that gets a device there, and what a block does to a device.

Rules from RP002-1.0.4: dynamic plans (x.5 LinkAdrReq) address channels 0..15 with
ChMaskCntl 0 and switch every defined channel on with 6. The fixed plans of US915/AU915
(2.5.5, 2.8.5) use ChMaskCntl 0..3 for the 125 kHz channels 0..63 sixteen at a time, 4 for the
500 kHz channels 64..71, and 6/7 to switch all 125 kHz channels on/off while ChMask sets
64..71. A device applies a block in order, so "all off, then these on" is one block.
Which block to send follows ChirpStack's
get_link_adr_req_payloads_for_enabled_uplink_channel_indices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import LinkADRReq
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.ns.network import NetworkSettings
from appliance.ns.session import DeviceSession, ExtraChannel

BLOCK: Final = 16
FIXED_CHANNELS: Final = 72
FIXED_NARROW_CHANNELS: Final = 64
ALL_NARROW_ON: Final = 6
ALL_NARROW_OFF: Final = 7
DYNAMIC_ALL_ON: Final = 6

MaskBlock = tuple[int, int]  # (ChMaskCntl, ChMask)
_ALL_FIXED: Final = tuple(range(FIXED_CHANNELS))


def default_channels(region: Region) -> tuple[int, ...] | None:
    """The channels a device has enabled right after boot (None: this region's plan is not
    managed by the MAC engine, i.e. CN470)."""
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        return _ALL_FIXED
    if isinstance(plan, DynamicChannelPlan):
        return tuple(range(len(plan.default_channels)))
    return None


def wanted_extra_channels(region: Region, settings: NetworkSettings) -> Mapping[int, ExtraChannel]:
    """Dynamic plans: the network's extra channels, numbered after the default ones, with the
    data-rate range of the first default channel (as the join-accept's CFList gives them)."""
    return _wanted_extra_channels(region, settings.extra_channels)


@lru_cache(maxsize=64)  # asked on every uplink, of the same few settings
def _wanted_extra_channels(
    region: Region, extra_channels: tuple[int, ...]
) -> Mapping[int, ExtraChannel]:
    plan = region.channel_plan
    if not isinstance(plan, DynamicChannelPlan):
        return MappingProxyType({})
    first = len(plan.default_channels)
    template = plan.default_channels[0]
    room = plan.max_channels - first
    return MappingProxyType(
        {
            first + i: ExtraChannel(frequency, template.min_data_rate, template.max_data_rate)
            for i, frequency in enumerate(extra_channels[:room])
        }
    )


def wanted_channels(
    region: Region, settings: NetworkSettings, session: DeviceSession
) -> tuple[int, ...] | None:
    """The channels the network wants the device to use, or None when it has no opinion.

    An extra channel counts only once the device holds it as the network defines it: the
    mask must never enable a channel whose frequency the device does not know.
    """
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        if settings.enabled_sub_band is None:
            return _ALL_FIXED
        return _sub_band_channels(plan, settings.enabled_sub_band)
    if isinstance(plan, DynamicChannelPlan):
        extras = wanted_extra_channels(region, settings)
        known = (i for i, c in extras.items() if session.extra_uplink_channels.get(i) == c)
        return tuple(range(len(plan.default_channels))) + tuple(sorted(known))
    return None


def wanted_channels_holding_extras(
    region: Region, settings: NetworkSettings
) -> tuple[int, ...] | None:
    """``wanted_channels`` of a device that holds every extra channel as the network defines
    it (the settled state), sorted."""
    plan = region.channel_plan
    if isinstance(plan, DynamicChannelPlan):
        extras = wanted_extra_channels(region, settings)
        return tuple(range(len(plan.default_channels))) + tuple(sorted(extras))
    if isinstance(plan, FixedChannelPlan):
        if settings.enabled_sub_band is None:
            return _ALL_FIXED
        return _sub_band_channels(plan, settings.enabled_sub_band)
    return None


@cache
def _sub_band_channels(plan: FixedChannelPlan, number: int) -> tuple[int, ...]:
    return tuple(sorted(plan.sub_band(number).channel_indices))


def _mask(channels: Iterable[int], block: int) -> int:
    return LinkADRReq.mask_of(c - block * BLOCK for c in channels if c // BLOCK == block)


def _per_block(wanted: set[int], device: set[int]) -> list[MaskBlock]:
    """One pair for each block of 16 holding a channel to switch."""
    blocks = sorted({channel // BLOCK for channel in wanted ^ device})
    return [(block, _mask(wanted, block)) for block in blocks]


def _narrow_off_first(wanted: set[int]) -> list[MaskBlock]:
    """Fixed plans: all 125 kHz channels off (setting the 500 kHz ones), then the wanted
    125 kHz blocks back on."""
    wide = [c - FIXED_NARROW_CHANNELS for c in wanted if c >= FIXED_NARROW_CHANNELS]
    out = [(ALL_NARROW_OFF, LinkADRReq.mask_of(wide))]
    narrow = [c for c in wanted if c < FIXED_NARROW_CHANNELS]
    out += [(block, _mask(narrow, block)) for block in sorted({c // BLOCK for c in narrow})]
    return out


def mask_blocks(
    region: Region, device_channels: Iterable[int], wanted: Iterable[int]
) -> list[MaskBlock]:
    """The shortest block taking the device from ``device_channels`` to ``wanted`` (empty
    when they already match)."""
    device, target = set(device_channels), set(wanted)
    if device == target:
        return []
    per_block = _per_block(target, device)
    if isinstance(region.channel_plan, FixedChannelPlan):
        # ChirpStack prefers "all off, then on" unless per-block is strictly shorter.
        alternative = _narrow_off_first(target)
        if len(alternative) <= len(per_block):
            return alternative
    return per_block


def apply_mask_blocks(
    region: Region, session: DeviceSession, blocks: Sequence[LinkADRReq]
) -> tuple[int, ...]:
    """The channels the device has enabled after accepting ``blocks`` in order."""
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        count = FIXED_CHANNELS
    elif isinstance(plan, DynamicChannelPlan):
        count = plan.max_channels
    else:
        raise InvalidValueError(f"{region.name}: channel masks are not managed for this plan")
    enabled = [False] * count
    for channel in session.enabled_uplink_channels:
        if 0 <= channel < count:  # a channel the network dropped meanwhile is ignored
            enabled[channel] = True
    for request in blocks:
        _apply_one(plan, session, enabled, request)
    return tuple(i for i, on in enumerate(enabled) if on)


def _apply_one(
    plan: FixedChannelPlan | DynamicChannelPlan,
    session: DeviceSession,
    enabled: list[bool],
    request: LinkADRReq,
) -> None:
    cntl, flags = request.ch_mask_cntl, request.channels
    if isinstance(plan, FixedChannelPlan) and cntl in (ALL_NARROW_ON, ALL_NARROW_OFF):
        enabled[:FIXED_NARROW_CHANNELS] = [cntl == ALL_NARROW_ON] * FIXED_NARROW_CHANNELS
        enabled[FIXED_NARROW_CHANNELS:] = flags[: FIXED_CHANNELS - FIXED_NARROW_CHANNELS]
        return
    if isinstance(plan, DynamicChannelPlan) and cntl == DYNAMIC_ALL_ON:
        defined = set(range(len(plan.default_channels))) | set(session.extra_uplink_channels)
        for channel in defined:
            enabled[channel] = True
        return
    last_block = (len(enabled) - 1) // BLOCK
    if cntl > last_block:
        raise InvalidValueError(f"ChMaskCntl {cntl} is not handled for this channel plan")
    for offset, on in enumerate(flags):
        channel = cntl * BLOCK + offset
        if channel >= len(enabled):
            if on:
                raise InvalidValueError(
                    f"LinkADRReq enables channel {channel}, which does not exist"
                )
            continue
        enabled[channel] = on
