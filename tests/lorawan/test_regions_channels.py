"""Channel tests: default and join channels, sub-bands, RX1 frequencies, class B, duty cycle."""

from __future__ import annotations

import itertools

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import au915, cn470, us915
from appliance.lorawan.regions import get_region as region

MHZ = 1_000_000

# name -> default channel frequencies (kHz) for the dynamic plans; all carry DR0..DR5
DEFAULT_CHANNELS_KHZ: dict[str, list[float]] = {
    "EU868": [868_100, 868_300, 868_500],
    "AS923-1": [923_200, 923_400],
    "AS923-2": [921_400, 921_600],
    "AS923-3": [916_600, 916_800],
    "AS923-4": [917_300, 917_500],
    "KR920": [922_100, 922_300, 922_500],
    "IN865": [865_062.5, 865_402.5, 865_985],
    "RU864": [868_900, 869_100],
    "EU433": [433_175, 433_375, 433_575],
    "CN779": [779_500, 779_700, 779_900],
}


@pytest.mark.parametrize("name", sorted(DEFAULT_CHANNELS_KHZ))
def test_default_and_join_channels_of_dynamic_plans(name: str) -> None:
    plan = region(name).channel_plan
    expected = [int(khz * 1000) for khz in DEFAULT_CHANNELS_KHZ[name]]
    joins = plan.join_channels()
    assert [c.frequency_hz for c in joins] == expected
    assert all((c.min_data_rate, c.max_data_rate) == (0, 5) for c in joins)
    document = plan.to_json()
    assert document["kind"] == "dynamic"
    assert document["max_channels"] == 16
    assert [c["frequency_hz"] for c in document["default_channels"]] == expected


@pytest.mark.parametrize("name", sorted(DEFAULT_CHANNELS_KHZ))
def test_rx1_of_dynamic_plans_is_the_uplink_frequency(name: str) -> None:
    r = region(name)
    for channel in r.channel_plan.join_channels():
        assert r.rx1_frequency(channel.frequency_hz) == channel.frequency_hz
    frequency = r.channel_plan.join_channels()[0].frequency_hz
    assert r.rx1_frequency(frequency, 15) == frequency
    with pytest.raises(InvalidValueError, match=r"0\.\.15"):
        r.rx1_frequency(frequency, 16)


@pytest.mark.parametrize(
    ("name", "offset_hz"),
    [("AS923-1", 0), ("AS923-2", -1_800_000), ("AS923-3", -6_600_000), ("AS923-4", -5_900_000)],
)
def test_as923_groups_shift_rx2_and_class_b(name: str, offset_hz: int) -> None:
    r = region(name)
    assert r.rx2_frequency_hz == 923_200_000 + offset_hz
    assert r.beacon.frequencies_hz == (923_400_000 + offset_hz,)
    assert r.ping_slot.frequencies_hz == (923_400_000 + offset_hz,)
    assert (r.beacon.data_rate, r.ping_slot.data_rate) == (3, 3)
    assert r.dwell_time_limit_ms == 400


@pytest.mark.parametrize(
    ("number", "first_khz", "wide_khz"),
    [(1, 902_300, 903_000), (2, 903_900, 904_600), (8, 913_500, 914_200)],
)
def test_us915_sub_bands(number: int, first_khz: int, wide_khz: int) -> None:
    band = us915.sub_band(number)
    assert band.channels_125khz_hz == tuple((first_khz + 200 * i) * 1000 for i in range(8))
    assert band.channel_500khz_hz == wide_khz * 1000
    first = 8 * (number - 1)
    assert band.channel_indices == (*range(first, first + 8), 63 + number)


@pytest.mark.parametrize(
    ("number", "first_khz", "wide_khz"),
    [(1, 915_200, 915_900), (2, 916_800, 917_500), (8, 926_400, 927_100)],
)
def test_au915_sub_bands(number: int, first_khz: int, wide_khz: int) -> None:
    band = au915.sub_band(number)
    assert band.channels_125khz_hz == tuple((first_khz + 200 * i) * 1000 for i in range(8))
    assert band.channel_500khz_hz == wide_khz * 1000


@pytest.mark.parametrize("bad", [0, 9, -1, True])
def test_sub_band_numbers_are_1_to_8(bad: int) -> None:
    with pytest.raises(InvalidValueError, match="sub-band"):
        us915.sub_band(bad)


@pytest.mark.parametrize(
    ("name", "uplink_hz", "channel", "rx1_hz"),
    [
        ("US915", 902_300_000, 0, 923_300_000),
        ("US915", 902_500_000, 1, 923_900_000),
        ("US915", 903_700_000, 7, 927_500_000),
        ("US915", 903_900_000, 8, 923_300_000),
        ("US915", 914_900_000, 63, 927_500_000),
        ("US915", 903_000_000, 64, 923_300_000),
        ("US915", 904_600_000, 65, 923_900_000),
        ("US915", 914_200_000, 71, 927_500_000),
        ("AU915", 915_200_000, 0, 923_300_000),
        ("AU915", 916_600_000, 7, 927_500_000),
        ("AU915", 927_800_000, 63, 927_500_000),
        ("AU915", 915_900_000, 64, 923_300_000),
        ("AU915", 927_100_000, 71, 927_500_000),
    ],
)
def test_fixed_plan_rx1_is_923_3_mhz_plus_channel_mod_8_times_600_khz(
    name: str, uplink_hz: int, channel: int, rx1_hz: int
) -> None:
    r = region(name)
    assert r.rx1_frequency(uplink_hz) == rx1_hz
    assert r.rx1_frequency(uplink_hz, channel) == rx1_hz
    with pytest.raises(InvalidValueError, match="is channel"):
        r.rx1_frequency(uplink_hz, (channel + 1) % 72)


def test_fixed_plan_refuses_frequencies_off_the_channel_raster() -> None:
    for frequency in (902_400_000, 903_150_000, 915_000_000):
        with pytest.raises(InvalidValueError, match="not an uplink channel"):
            region("US915").rx1_frequency(frequency)


@pytest.mark.parametrize(("name", "narrow", "wide"), [("US915", 0, 4), ("AU915", 2, 6)])
def test_fixed_plan_channels_and_join_data_rates(name: str, narrow: int, wide: int) -> None:
    plan = us915.PLAN if name == "US915" else au915.PLAN
    joins = plan.join_channels()
    assert len(joins) == 72
    assert {(c.min_data_rate, c.max_data_rate) for c in joins[:64]} == {(narrow, narrow)}
    assert {(c.min_data_rate, c.max_data_rate) for c in joins[64:]} == {(wide, wide)}
    assert [c.frequency_hz for c in plan.downlink_channels()] == [
        923_300_000 + 600_000 * i for i in range(8)
    ]
    document = region(name).to_json()["channels"]
    assert document["kind"] == "fixed"
    assert len(document["uplink_channels"]) == 72
    assert document["sub_bands"][1]["channels"] == [*range(8, 16), 65]


@pytest.mark.parametrize("name", ["US915", "AU915"])
def test_fixed_plan_class_b_hops_over_the_downlink_channels(name: str) -> None:
    r = region(name)
    hops = tuple(923_300_000 + 600_000 * i for i in range(8))
    assert r.beacon.frequencies_hz == hops
    assert r.ping_slot.frequencies_hz == hops
    assert "mod 8" in r.beacon.rule
    assert "DevAddr" in r.ping_slot.rule
    assert (r.beacon.data_rate, r.ping_slot.data_rate) == (8, 8)


@pytest.mark.parametrize(
    ("name", "beacon_hz", "ping_hz", "dr"),
    [
        ("EU868", 869_525_000, 869_525_000, 3),
        ("KR920", 923_100_000, 923_100_000, 3),
        ("IN865", 866_550_000, 866_550_000, 4),
        ("RU864", 869_100_000, 868_900_000, 3),
        ("EU433", 434_665_000, 434_665_000, 3),
        ("CN779", 785_000_000, 785_000_000, 3),
        ("CN470-26A", 494_900_000, 494_900_000, 2),
        ("CN470-26B", 504_900_000, 504_900_000, 2),
    ],
)
def test_fixed_frequency_class_b(name: str, beacon_hz: int, ping_hz: int, dr: int) -> None:
    r = region(name)
    assert r.beacon.frequencies_hz == (beacon_hz,)
    assert r.ping_slot.frequencies_hz == (ping_hz,)
    assert (r.beacon.data_rate, r.ping_slot.data_rate) == (dr, dr)


# plan -> (uplink channels, first uplinks of each block in MHz, downlink channels, first downlinks)
CN470_LAYOUT = {
    "CN470-20A": (64, (470.3, 503.5), 64, (483.9, 490.3)),
    "CN470-20B": (64, (476.9, 496.9), 64, (476.9, 496.9)),
    "CN470-26A": (48, (470.3,), 24, (490.1,)),
    "CN470-26B": (48, (480.3,), 24, (500.1,)),
}


def _mhz(value: float) -> int:
    return round(value * MHZ)


@pytest.mark.parametrize("name", sorted(CN470_LAYOUT))
def test_cn470_channel_layout(name: str) -> None:
    up_count, up_firsts, down_count, down_firsts = CN470_LAYOUT[name]
    plan = region(name).to_json()["channels"]
    uplinks = [c["frequency_hz"] for c in plan["uplink_channels"]]
    downlinks = [c["frequency_hz"] for c in plan["downlink_channels"]]
    assert (len(uplinks), len(downlinks)) == (up_count, down_count)
    assert uplinks[:: up_count // len(up_firsts)] == [_mhz(f) for f in up_firsts]
    assert downlinks[:: down_count // len(down_firsts)] == [_mhz(f) for f in down_firsts]
    steps = [b - a for a, b in itertools.pairwise(uplinks)]
    assert steps.count(200_000) == up_count - len(up_firsts)
    assert {tuple(c["data_rates"]) for c in plan["uplink_channels"]} == {(1, 5)}


@pytest.mark.parametrize(
    ("name", "uplink_mhz", "channel", "rx1_mhz"),
    [
        ("CN470-20A", 470.3, 0, 483.9),
        ("CN470-20A", 476.5, 31, 490.1),
        ("CN470-20A", 503.5, 32, 490.3),
        ("CN470-20A", 509.7, 63, 496.5),
        ("CN470-20B", 476.9, 0, 476.9),
        ("CN470-20B", 503.1, 63, 503.1),
        ("CN470-26A", 470.3, 0, 490.1),
        ("CN470-26A", 474.9, 23, 494.7),
        ("CN470-26A", 475.1, 24, 490.1),
        ("CN470-26A", 479.7, 47, 494.7),
        ("CN470-26B", 480.3, 0, 500.1),
        ("CN470-26B", 485.1, 24, 500.1),
        ("CN470-26B", 489.7, 47, 504.7),
    ],
)
def test_cn470_rx1_frequency(name: str, uplink_mhz: float, channel: int, rx1_mhz: float) -> None:
    r = region(name)
    assert r.rx1_frequency(_mhz(uplink_mhz)) == _mhz(rx1_mhz)
    assert r.rx1_frequency(_mhz(uplink_mhz), channel) == _mhz(rx1_mhz)
    with pytest.raises(InvalidValueError, match="is channel"):
        r.rx1_frequency(_mhz(uplink_mhz), channel + 1)


def test_cn470_refuses_uplinks_of_another_plan() -> None:
    with pytest.raises(InvalidValueError, match="CN470-26A"):
        region("CN470-26A").rx1_frequency(_mhz(480.1))
    with pytest.raises(InvalidValueError, match="CN470-20A"):
        region("CN470-20A").rx1_frequency(_mhz(490.1))


# plan -> [(join uplink, join-accept RX1, OTAA RX2)] in MHz
CN470_JOINS = {
    "CN470-20A": [
        (470.9, 484.5, 485.3),
        (472.5, 486.1, 486.9),
        (474.1, 487.7, 488.5),
        (475.7, 489.3, 490.1),
        (504.1, 490.9, 491.7),
        (505.7, 492.5, 493.3),
        (507.3, 494.1, 494.9),
        (508.9, 495.7, 496.5),
    ],
    "CN470-20B": [(479.9, 479.9, 478.3), (499.9, 499.9, 498.3)],
    "CN470-26A": [(f, 492.5, 492.5) for f in (470.3, 472.3, 474.3, 476.3, 478.3)],
    "CN470-26B": [(f, 502.5, 502.5) for f in (480.3, 482.3, 484.3, 486.3, 488.3)],
}


@pytest.mark.parametrize("name", sorted(CN470_JOINS))
def test_cn470_common_join_channels(name: str) -> None:
    plan = getattr(cn470, "PLAN_" + name.removeprefix("CN470-"))
    expected = [tuple(_mhz(f) for f in row) for row in CN470_JOINS[name]]
    got = [(j.uplink_hz, j.join_accept_rx1_hz, j.otaa_rx2_hz) for j in plan.common_join_channels]
    assert got == expected
    assert [c.frequency_hz for c in region(name).channel_plan.join_channels()] == [
        row[0] for row in expected
    ]
    if name.endswith(("20A", "20B")):
        # The join-accept comes on the ordinary RX1 channel of the join channel.
        for uplink, accept, _ in expected:
            assert region(name).rx1_frequency(uplink) == accept


def test_cn470_20_mhz_class_b_rules() -> None:
    a = region("CN470-20A")
    assert a.beacon.frequencies_hz == tuple(483_900_000 + 200_000 * i for i in range(8))
    assert "8j" in a.beacon.rule and "DevAddr" in a.ping_slot.rule
    b = region("CN470-20B")
    assert b.beacon.frequencies_hz == (481_500_000, 501_500_000)
    assert len(b.ping_slot.frequencies_hz) == 64
    assert {a.beacon.data_rate, b.beacon.data_rate, b.ping_slot.data_rate} == {2}


# name -> [(band name, low MHz, high MHz, duty cycle)]
DUTY_CYCLE = {
    "EU868": [
        ("g (863.0-865.0 MHz)", 863.0, 865.0, 0.001),
        ("g (865.0-868.0 MHz)", 865.0, 868.0, 0.01),
        ("g1", 868.0, 868.6, 0.01),
        ("g2", 868.7, 869.2, 0.001),
        ("g3", 869.4, 869.65, 0.1),
        ("g4", 869.7, 870.0, 0.01),
    ],
    "EU433": [("f", 433.05, 434.79, 0.1)],
    "RU864": [("864-870 MHz", 864.0, 870.0, 0.01)],
    "CN779": [("779-787 MHz", 779.0, 787.0, 0.01)],
}


@pytest.mark.parametrize("name", sorted(DUTY_CYCLE))
def test_duty_cycle_bands(name: str) -> None:
    got = [
        (b.name, b.min_frequency_hz, b.max_frequency_hz, b.max_duty_cycle)
        for b in region(name).duty_cycle_bands
    ]
    assert got == [(n, _mhz(lo), _mhz(hi), dc) for n, lo, hi, dc in DUTY_CYCLE[name]]


@pytest.mark.parametrize("name", ["US915", "AU915", "CN470-20A", "AS923-1", "KR920", "IN865"])
def test_regions_without_duty_cycle_bands(name: str) -> None:
    assert region(name).duty_cycle_bands == ()
    assert region(name).to_json()["duty_cycle_bands"] == []


def test_eu868_default_channels_sit_in_g1() -> None:
    g1 = region("EU868").duty_cycle_bands[2]
    for channel in region("EU868").channel_plan.join_channels():
        assert g1.min_frequency_hz <= channel.frequency_hz <= g1.max_frequency_hz
