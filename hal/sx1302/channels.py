"""Placing a channel plan on the concentrator: radio centre frequencies and IF chains.

Up to eight 125 kHz LoRa channels go to the multi-SF chains, one wider LoRa channel to the
service chain, one FSK channel to the FSK chain. Each radio covers +/-800 kHz around its
centre, best within +/-550 kHz (the filters roll off towards the edges); the channels, sorted
by frequency, go to radio A alone when they fit there comfortably, otherwise they are split
between radio A and radio B where the largest IF offset is smallest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hal.model import FSKChannel, LoRaChannel
from hal.sx1302.config import (
    MULTI_SF_CHANNELS,
    RADIO_RX_BANDWIDTH_HZ,
    FskChannel,
    MultiSfChannel,
    ServiceChannel,
)
from hal.sx1302.errors import ProfileError

COMFORTABLE_EDGE_HZ: Final = 550_000


@dataclass(frozen=True, slots=True)
class ChannelLayout:
    radio_frequencies: tuple[int, int]  # 0 for an unused radio B
    multi_sf: tuple[MultiSfChannel, ...]
    service: ServiceChannel
    fsk: FskChannel


@dataclass(frozen=True, slots=True)
class _Slot:
    frequency: int
    bandwidth: int
    kind: str  # multi, service, fsk
    channel: LoRaChannel | FSKChannel


def _slots(channels: Sequence[LoRaChannel | FSKChannel]) -> list[_Slot]:
    slots: list[_Slot] = []
    for channel in channels:
        if isinstance(channel, FSKChannel):
            slots.append(_Slot(channel.frequency, channel.bandwidth, "fsk", channel))
        elif channel.bandwidth == 125_000:
            slots.append(_Slot(channel.frequency, 125_000, "multi", channel))
        else:
            slots.append(_Slot(channel.frequency, channel.bandwidth, "service", channel))
    kinds = [slot.kind for slot in slots]
    if kinds.count("multi") > MULTI_SF_CHANNELS:
        raise ProfileError(
            f"{kinds.count('multi')} channels of 125 kHz, the SX1302 demodulates at most 8"
        )
    if kinds.count("service") > 1:
        raise ProfileError("more than one 250/500 kHz LoRa channel, the SX1302 has one such chain")
    if kinds.count("fsk") > 1:
        raise ProfileError("more than one FSK channel, the SX1302 has one FSK chain")
    if not slots:
        raise ProfileError("the channel plan has no channel")
    return sorted(slots, key=lambda slot: slot.frequency)


def _centre(group: list[_Slot]) -> tuple[int, int] | None:
    """The radio centre for a group (rounded to 1 kHz) and its worst edge, or None."""
    low = min(slot.frequency - slot.bandwidth // 2 for slot in group)
    high = max(slot.frequency + slot.bandwidth // 2 for slot in group)
    centre = round((low + high) / 2 / 1000) * 1000
    worst = max(abs(slot.frequency - centre) + slot.bandwidth // 2 for slot in group)
    return (centre, worst) if worst <= RADIO_RX_BANDWIDTH_HZ // 2 else None


def layout_channels(channels: Sequence[LoRaChannel | FSKChannel]) -> ChannelLayout:
    slots = _slots(channels)
    best: tuple[tuple[bool, int, int], list[tuple[int, list[_Slot]]]] | None = None
    for split in range(len(slots), 0, -1):
        groups = [group for group in (slots[:split], slots[split:]) if group]
        centres = [_centre(group) for group in groups]
        if any(centre is None for centre in centres):
            continue
        placed = [(c[0], g) for c, g in zip(centres, groups, strict=True) if c is not None]
        worst = max(c[1] for c in centres if c is not None)
        score = (worst > COMFORTABLE_EDGE_HZ, len(groups), worst)
        if best is None or score < best[0]:
            best = (score, placed)
    if best is None:
        span = slots[-1].frequency - slots[0].frequency
        raise ProfileError(
            f"the channels span {span} Hz; two radios of {RADIO_RX_BANDWIDTH_HZ} Hz cannot "
            "cover them"
        )
    multi: list[MultiSfChannel] = []
    service = ServiceChannel()
    fsk = FskChannel()
    for chain, (centre, group) in enumerate(best[1]):
        for slot in group:
            offset = slot.frequency - centre
            if slot.kind == "multi":
                multi.append(MultiSfChannel(True, chain, offset))
            elif slot.kind == "service":
                assert isinstance(slot.channel, LoRaChannel)
                service = ServiceChannel(
                    True,
                    chain,
                    offset,
                    bandwidth_hz=slot.bandwidth,
                    spreading_factor=max(slot.channel.spreading_factors),
                )
            else:
                assert isinstance(slot.channel, FSKChannel)
                fsk = FskChannel(True, chain, offset, datarate=slot.channel.datarate)
    multi += [MultiSfChannel() for _ in range(MULTI_SF_CHANNELS - len(multi))]
    radio_centres = [centre for centre, _ in best[1]]
    frequencies = (radio_centres[0], radio_centres[1] if len(radio_centres) > 1 else 0)
    return ChannelLayout(frequencies, tuple(multi), service, fsk)
