from __future__ import annotations

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import REGION_NAMES, get_region
from hal.channel_plan import gateway_channels
from hal.model import LoRaChannel

ALL_SF = (7, 8, 9, 10, 11, 12)


def test_eu868_defaults_plus_extra_channels() -> None:
    channels = gateway_channels(get_region("EU868"), extra_frequencies=(867_100_000, 868_100_000))
    assert channels == (
        LoRaChannel(868_100_000, 125_000, ALL_SF),
        LoRaChannel(868_300_000, 125_000, ALL_SF),
        LoRaChannel(868_500_000, 125_000, ALL_SF),
        LoRaChannel(867_100_000, 125_000, ALL_SF),
    )


def test_us915_sub_band_2() -> None:
    channels = gateway_channels(get_region("US915"), sub_band=2)
    narrow = [LoRaChannel(903_900_000 + 200_000 * i, 125_000, (7, 8, 9, 10)) for i in range(8)]
    assert channels == (*narrow, LoRaChannel(904_600_000, 500_000, (8,)))


@pytest.mark.parametrize("name", REGION_NAMES)
def test_every_region_yields_a_plan(name: str) -> None:
    region = get_region(name)
    try:
        channels = gateway_channels(region)
    except InvalidValueError:
        channels = gateway_channels(region, sub_band=1)
    assert channels
    for channel in channels:
        assert region.min_frequency_hz <= channel.frequency <= region.max_frequency_hz


def test_refusals() -> None:
    with pytest.raises(InvalidValueError, match="needs a sub-band"):
        gateway_channels(get_region("AU915"))
    with pytest.raises(InvalidValueError, match="no sub-bands"):
        gateway_channels(get_region("EU868"), sub_band=1)
    with pytest.raises(InvalidValueError, match="outside EU868"):
        gateway_channels(get_region("EU868"), extra_frequencies=(915_000_000,))
