"""Placing channel plans on two radios."""

from __future__ import annotations

import pytest

from hal.model import FSKChannel, LoRaChannel
from hal.sx1302.channels import layout_channels
from hal.sx1302.errors import ProfileError
from hal.sx1302.profiles import region_channels

SFS = (7, 8, 9, 10, 11, 12)


def _frequencies(channels: tuple[LoRaChannel | FSKChannel, ...]) -> list[int]:
    layout = layout_channels(channels)
    return sorted(
        layout.radio_frequencies[c.rf_chain] + c.if_hz for c in layout.multi_sf if c.enable
    )


@pytest.mark.parametrize(
    ("region", "sub_band"),
    [("EU868", None), ("US915", 2), ("AU915", 1), ("CN470-20A", 1), ("KR920", None)],
)
def test_every_channel_lands_on_a_radio_within_its_band(region: str, sub_band: int | None) -> None:
    channels = region_channels(region, sub_band=sub_band)
    layout = layout_channels(channels)
    expected = sorted(c.frequency for c in channels if c.bandwidth == 125_000)
    assert _frequencies(channels) == expected
    for channel in layout.multi_sf:
        if channel.enable:
            assert abs(channel.if_hz) + 62_500 <= 550_000
    if region in ("US915", "AU915"):
        assert layout.service.enable and layout.service.bandwidth_hz == 500_000
        assert layout.service.spreading_factor == 8


def test_a_few_channels_fit_on_radio_a_alone() -> None:
    layout = layout_channels(region_channels("EU868", extra_frequencies=()))
    assert layout.radio_frequencies == (868_300_000, 0)


def test_fsk_and_service_channels() -> None:
    channels = (
        LoRaChannel(868_100_000, 125_000, SFS),
        LoRaChannel(868_300_000, 250_000, (7,)),
        FSKChannel(868_800_000, 125_000, 50_000),
    )
    layout = layout_channels(channels)
    assert layout.service.enable and layout.fsk.enable
    assert layout.radio_frequencies[layout.fsk.rf_chain] + layout.fsk.if_hz == 868_800_000


def test_impossible_plans_are_refused() -> None:
    with pytest.raises(ProfileError, match="at most 8"):
        layout_channels(
            tuple(LoRaChannel(867_000_000 + 100_000 * n, 125_000, SFS) for n in range(9))
        )
    with pytest.raises(ProfileError, match="cannot cover"):
        layout_channels(
            tuple(LoRaChannel(f, 125_000, SFS) for f in (863_100_000, 866_000_000, 869_900_000))
        )
    with pytest.raises(ProfileError, match="no channel"):
        layout_channels(())
