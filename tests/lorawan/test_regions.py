"""The region registry, invariants every region keeps, and properties over all of them."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import REGION_NAMES, REGIONS, Region, get_region

ALL = pytest.mark.parametrize("region", REGIONS, ids=[r.name for r in REGIONS])


def test_every_region_and_plan_is_registered() -> None:
    assert REGION_NAMES == (
        "EU868", "US915", "AU915", "CN470-20A", "CN470-20B", "CN470-26A", "CN470-26B",
        "AS923-1", "AS923-2", "AS923-3", "AS923-4", "KR920", "IN865", "RU864", "EU433", "CN779",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("EU868", "EU868"),
        ("eu868", "EU868"),
        (" Eu868 ", "EU868"),
        ("AS923", "AS923-1"),
        ("as923", "AS923-1"),
        ("AS923-1", "AS923-1"),
        ("as923_2", "AS923-2"),
        ("AS923_3", "AS923-3"),
        ("as923-4", "AS923-4"),
        ("cn470_20a", "CN470-20A"),
        ("CN470-26B", "CN470-26B"),
        ("EU863-870", "EU868"),
        ("us902_928", "US915"),
        ("AU915-928", "AU915"),
        ("KR920-923", "KR920"),
        ("IN865-867", "IN865"),
        ("RU864-870", "RU864"),
        ("CN779-787", "CN779"),
        ("eu433", "EU433"),
    ],
)
def test_get_region_spellings(spelling: str, name: str) -> None:
    assert get_region(spelling).name == name


@pytest.mark.parametrize("bad", ["", "EU869", "CN470", "AS923-5", "US 915", "EU868x"])
def test_unknown_region_lists_the_valid_names(bad: str) -> None:
    with pytest.raises(InvalidValueError, match="unknown region") as info:
        get_region(bad)
    for name in REGION_NAMES:
        assert name in str(info.value)


def test_get_region_rejects_non_strings() -> None:
    with pytest.raises(InvalidValueError):
        get_region(868)  # type: ignore[arg-type]


@ALL
def test_regions_are_frozen_and_hashable(region: Region) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        region.name = "other"  # type: ignore[misc]
    assert hash(region) == hash(region)
    assert not hasattr(region, "__dict__")  # slots


@ALL
def test_to_json_is_plain_json_with_integer_hz(region: Region) -> None:
    document = region.to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["name"] == region.name
    assert document["specification"] == "RP002-1.0.4"

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for child_key, child in node.items():
                assert isinstance(child_key, str)
                walk(child, child_key)
        elif isinstance(node, list):
            for child in node:
                walk(child, key)
        elif key.endswith("_hz") or key in ("min", "max"):
            assert isinstance(node, int) and not isinstance(node, bool), (key, node)
            assert node == 0 or node >= 100_000, (key, node)

    walk(document)


@ALL
def test_json_covers_every_parameter(region: Region) -> None:
    document = region.to_json()
    for key in (
        "data_rates", "rfu_data_rates", "dwell_time", "channels", "cflist_type", "rx1_data_rate",
        "rx2", "tx_power", "duty_cycle_bands", "class_b", "defaults", "frequency_range_hz",
    ):  # fmt: skip
        assert key in document
    assert len(document["data_rates"]) + len(document["rfu_data_rates"]) == 16
    assert document["defaults"]["join_accept_delay1_s"] == 5


@ALL
def test_every_frequency_is_inside_the_region(region: Region) -> None:
    low, high = region.min_frequency_hz, region.max_frequency_hz
    plan = region.channel_plan
    for channel in plan.join_channels():
        assert low <= channel.frequency_hz <= high
        assert region.rx1_frequency(channel.frequency_hz) > 0
    assert low <= region.rx2_frequency_hz <= high
    for frequency in region.beacon.frequencies_hz + region.ping_slot.frequencies_hz:
        assert low <= frequency <= high


@ALL
def test_dr15_is_never_defined_and_payloads_follow_n_equals_m_minus_8(region: Region) -> None:
    assert 15 in region.rfu_data_rates
    for data_rate in region.data_rates:
        for size in (data_rate.max_payload, data_rate.max_payload_dwell):
            if size is not None:
                assert size.app_payload == size.mac_payload - 8
                assert 8 < size.mac_payload <= 250


@ALL
def test_rfu_data_rates_are_refused(region: Region) -> None:
    for index in region.rfu_data_rates:
        with pytest.raises(InvalidValueError, match="reserved"):
            region.data_rate(index)
        with pytest.raises(InvalidValueError):
            region.max_payload(index)
    for bad in (-1, 16, True, 1.0):
        with pytest.raises(InvalidValueError):
            region.data_rate(bad)  # type: ignore[arg-type]


@ALL
def test_uplink_outside_the_region_is_refused(region: Region) -> None:
    for frequency in (region.min_frequency_hz - 1, region.max_frequency_hz + 1):
        with pytest.raises(InvalidValueError, match="outside"):
            region.rx1_frequency(frequency)


@given(
    st.sampled_from(REGIONS),
    st.integers(-3, 18),
    st.integers(-3, 10),
    st.booleans(),
)
def test_rx1_data_rate_is_a_downlink_rate_or_refused(
    region: Region, uplink_dr: int, offset: int, dwell_time: bool
) -> None:
    try:
        result = region.rx1_data_rate(uplink_dr, offset, dwell_time)
    except InvalidValueError:
        valid_uplink = 0 <= uplink_dr <= 15 and uplink_dr in region.rx1_data_rates.uplink_data_rates
        assert not (valid_uplink and 0 <= offset < region.rx1_data_rates.offset_count)
        return
    assert region.data_rate(result).downlink
    assert region.data_rate(uplink_dr).uplink


@ALL
def test_rx1_offsets_0_to_5_never_raise_the_rate_as_they_grow(region: Region) -> None:
    table = region.rx1_data_rates
    for rows in (table.rows, table.dwell_rows or ()):
        for _, per_offset in rows:
            plain = per_offset[:6]
            assert list(plain) == sorted(plain, reverse=True)


@given(st.sampled_from(REGIONS), st.data())
def test_rx1_frequency_of_a_join_channel_is_a_downlink_frequency(
    region: Region, data: st.DataObject
) -> None:
    channel = data.draw(st.sampled_from(region.channel_plan.join_channels()))
    frequency = region.rx1_frequency(channel.frequency_hz)
    assert region.min_frequency_hz <= frequency <= region.max_frequency_hz
    assert frequency % 100 == 0  # every plan lives on a 100 Hz raster (CFList encoding)


@given(st.sampled_from(REGIONS), st.integers(0, 15), st.booleans())
def test_max_payload_is_defined_or_refused(region: Region, dr: int, dwell_time: bool) -> None:
    try:
        size = region.max_payload(dr, dwell_time)
    except InvalidValueError:
        return
    assert 0 < size.app_payload < size.mac_payload <= 250
    if dwell_time:
        assert size.mac_payload <= region.max_payload(dr).mac_payload
