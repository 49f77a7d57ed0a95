"""Table tests: data rates, payload sizes, RX1 data rates, RX2, TX power (RP002-1.0.4).

The expected values are typed in from the specification's tables, not computed, so a slip in
a region module shows up as a difference here.
"""

from __future__ import annotations

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import REGIONS, CFListType, Modulation, Region, get_region

EU_LIKE_LORA = [(0, 12, 125), (1, 11, 125), (2, 10, 125), (3, 9, 125), (4, 8, 125), (5, 7, 125)]

# name -> {DR: (modulation, SF or bitrate or coding rate, bandwidth or width in kHz, up, down)}
DATA_RATES: dict[str, dict[int, tuple[str, object, int | None, bool, bool]]] = {
    "EU868": {
        **{dr: ("LORA", sf, bw, True, True) for dr, sf, bw in EU_LIKE_LORA},
        6: ("LORA", 7, 250, True, True),
        7: ("FSK", 50_000, None, True, True),
        8: ("LR-FHSS", "1/3", 137, True, False),
        9: ("LR-FHSS", "2/3", 137, True, False),
        10: ("LR-FHSS", "1/3", 336, True, False),
        11: ("LR-FHSS", "2/3", 336, True, False),
    },
    "US915": {
        0: ("LORA", 10, 125, True, False),
        1: ("LORA", 9, 125, True, False),
        2: ("LORA", 8, 125, True, False),
        3: ("LORA", 7, 125, True, False),
        4: ("LORA", 8, 500, True, False),
        5: ("LR-FHSS", "1/3", 1523, True, False),
        6: ("LR-FHSS", "2/3", 1523, True, False),
        8: ("LORA", 12, 500, False, True),
        9: ("LORA", 11, 500, False, True),
        10: ("LORA", 10, 500, False, True),
        11: ("LORA", 9, 500, False, True),
        12: ("LORA", 8, 500, False, True),
        13: ("LORA", 7, 500, False, True),
    },
    "AU915": {
        **{dr: ("LORA", sf, bw, True, False) for dr, sf, bw in EU_LIKE_LORA},
        6: ("LORA", 8, 500, True, False),
        7: ("LR-FHSS", "1/3", 1523, True, False),
        8: ("LORA", 12, 500, False, True),
        9: ("LORA", 11, 500, False, True),
        10: ("LORA", 10, 500, False, True),
        11: ("LORA", 9, 500, False, True),
        12: ("LORA", 8, 500, False, True),
        13: ("LORA", 7, 500, False, True),
    },
    "CN470-20A": {
        **{dr: ("LORA", sf, bw, True, True) for dr, sf, bw in EU_LIKE_LORA},
        6: ("LORA", 7, 500, True, True),
        7: ("FSK", 50_000, None, True, True),
    },
    "AS923-1": {
        **{dr: ("LORA", sf, bw, True, True) for dr, sf, bw in EU_LIKE_LORA},
        6: ("LORA", 7, 250, True, True),
        7: ("FSK", 50_000, None, True, True),
    },
    "KR920": {dr: ("LORA", sf, bw, True, True) for dr, sf, bw in EU_LIKE_LORA},
    "IN865": {
        **{dr: ("LORA", sf, bw, True, True) for dr, sf, bw in EU_LIKE_LORA},
        7: ("FSK", 50_000, None, True, True),
    },
}
for _name in ("RU864", "EU433", "CN779"):
    DATA_RATES[_name] = DATA_RATES["AS923-1"]
for _name in ("AS923-2", "AS923-3", "AS923-4"):
    DATA_RATES[_name] = DATA_RATES["AS923-1"]
for _name in ("CN470-20B", "CN470-26A", "CN470-26B"):
    DATA_RATES[_name] = DATA_RATES["CN470-20A"]


def test_every_region_has_an_expected_data_rate_table() -> None:
    assert sorted(DATA_RATES) == sorted(r.name for r in REGIONS)


@pytest.mark.parametrize("name", sorted(DATA_RATES))
def test_data_rate_table(name: str) -> None:
    region = get_region(name)
    assert {dr.index for dr in region.data_rates} == set(DATA_RATES[name])
    for index, (modulation, first, second, uplink, downlink) in DATA_RATES[name].items():
        dr = region.data_rate(index)
        assert dr.modulation is Modulation(modulation)
        assert (dr.uplink, dr.downlink) == (uplink, downlink)
        if dr.modulation is Modulation.LORA:
            assert (dr.spreading_factor, dr.bandwidth_hz) == (first, (second or 0) * 1000)
        elif dr.modulation is Modulation.FSK:
            assert dr.bitrate_bps == first
        else:
            assert (dr.coding_rate, dr.occupied_channel_width_hz) == (first, (second or 0) * 1000)


EU_LIKE_M: list[int | None] = [59, 59, 59, 123, 250, 250, 250, 250]
# DR8..DR13 of US915 and AU915 (downlink, 500 kHz), the same with and without dwell time
DOWNLINK_500KHZ_M: dict[int, int | None] = {8: 61, 9: 137, 10: 250, 11: 250, 12: 250, 13: 250}
# name -> M per DR without a dwell-time limit (None: no size defined)
MAX_PAYLOAD: dict[str, dict[int, int | None]] = {
    "EU868": {**dict(enumerate(EU_LIKE_M)), 8: 58, 9: 123, 10: 58, 11: 123},
    "US915": {0: 19, 1: 61, 2: 133, 3: 250, 4: 250, 5: 58, 6: 133, **DOWNLINK_500KHZ_M},
    "AU915": {0: 59, 1: 59, 2: 59, 3: 123, 4: 250, 5: 250, 6: 250, 7: 58, **DOWNLINK_500KHZ_M},
    "CN470-20A": {0: None, 1: 31, 2: 94, 3: 192, 4: 250, 5: 250, 6: 250, 7: 250},
    "AS923-1": {0: 59, 1: 59, 2: 123, 3: 123, 4: 250, 5: 250, 6: 250, 7: 250},
    "KR920": dict(enumerate(EU_LIKE_M[:6])),
    "IN865": {**dict(enumerate(EU_LIKE_M[:6])), 7: 250},
    "RU864": dict(enumerate(EU_LIKE_M)),
    "EU433": dict(enumerate(EU_LIKE_M)),
    "CN779": dict(enumerate(EU_LIKE_M)),
}
# Only AS923 and AU915 have separate tables under the 400 ms uplink dwell-time limit.
MAX_PAYLOAD_DWELL: dict[str, dict[int, int | None]] = {
    "AS923-1": {0: None, 1: None, 2: 19, 3: 61, 4: 133, 5: 250, 6: 250, 7: 250},
    "AU915": {0: None, 1: None, 2: 19, 3: 61, 4: 133, 5: 250, 6: 250, 7: 58, **DOWNLINK_500KHZ_M},
}


@pytest.mark.parametrize("name", sorted(MAX_PAYLOAD))
def test_max_payload_without_dwell_time(name: str) -> None:
    region = get_region(name)
    for dr, m in MAX_PAYLOAD[name].items():
        if m is None:
            with pytest.raises(InvalidValueError, match="no frames"):
                region.max_payload(dr)
        else:
            size = region.max_payload(dr)
            assert (size.mac_payload, size.app_payload) == (m, m - 8)
    assert not region.dwell_time_payload_tables or name in MAX_PAYLOAD_DWELL


@pytest.mark.parametrize("name", sorted(MAX_PAYLOAD_DWELL))
def test_max_payload_with_dwell_time(name: str) -> None:
    region = get_region(name)
    assert region.dwell_time_payload_tables
    assert region.tx_param_setup_req
    for dr, m in MAX_PAYLOAD_DWELL[name].items():
        if m is None:
            with pytest.raises(InvalidValueError, match="dwell-time"):
                region.max_payload(dr, dwell_time=True)
        else:
            assert region.max_payload(dr, dwell_time=True).mac_payload == m
    assert region.to_json()["data_rates"][0]["max_payload_dwell_time"] is None


def test_regions_without_dwell_tables_ignore_the_flag() -> None:
    eu = get_region("EU868")
    assert eu.max_payload(0, dwell_time=True) == eu.max_payload(0)
    assert "max_payload_dwell_time" not in eu.to_json()["data_rates"][0]
    us = get_region("US915")
    assert us.dwell_time_limit_ms == 400
    assert not us.dwell_time_payload_tables
    assert not us.tx_param_setup_req


def _subtract(uplink: int, offsets: int, floor: int = 0) -> list[int]:
    return [max(floor, uplink - offset) for offset in range(offsets)]


# name -> {uplink DR: [RX1 DR for RX1DROffset 0, 1, ...]}
RX1: dict[str, dict[int, list[int]]] = {
    "EU868": {dr: _subtract(dr, 6) for dr in range(8)}
    | {
        8: [1, 0, 0, 0, 0, 0],
        9: [2, 1, 0, 0, 0, 0],
        10: [1, 0, 0, 0, 0, 0],
        11: [2, 1, 0, 0, 0, 0],
    },
    "US915": {
        0: [10, 9, 8, 8],
        1: [11, 10, 9, 8],
        2: [12, 11, 10, 9],
        3: [13, 12, 11, 10],
        4: [13, 13, 12, 11],
        5: [10, 9, 8, 8],
        6: [11, 10, 9, 8],
    },
    "AU915": {
        0: [8, 8, 8, 8, 8, 8],
        1: [9, 8, 8, 8, 8, 8],
        2: [10, 9, 8, 8, 8, 8],
        3: [11, 10, 9, 8, 8, 8],
        4: [12, 11, 10, 9, 8, 8],
        5: [13, 12, 11, 10, 9, 8],
        6: [13, 13, 12, 11, 10, 9],
        7: [9, 8, 8, 8, 8, 8],
    },
    "CN470-26B": {dr: _subtract(dr, 6, floor=1) for dr in range(1, 8)},
    "AS923-1": {
        0: [0, 0, 0, 0, 0, 0, 1, 2],
        1: [1, 0, 0, 0, 0, 0, 2, 3],
        2: [2, 1, 0, 0, 0, 0, 3, 4],
        3: [3, 2, 1, 0, 0, 0, 4, 5],
        4: [4, 3, 2, 1, 0, 0, 5, 6],
        5: [5, 4, 3, 2, 1, 0, 6, 7],
        6: [6, 5, 4, 3, 2, 1, 7, 7],
        7: [7, 6, 5, 4, 3, 2, 7, 7],
    },
    "KR920": {dr: _subtract(dr, 6) for dr in range(6)},
    "IN865": {
        0: [0, 0, 0, 0, 0, 0, 1, 2],
        1: [1, 0, 0, 0, 0, 0, 2, 3],
        2: [2, 1, 0, 0, 0, 0, 3, 4],
        3: [3, 2, 1, 0, 0, 0, 4, 5],
        4: [4, 3, 2, 1, 0, 0, 5, 5],
        5: [5, 4, 3, 2, 1, 0, 5, 7],
        7: [7, 5, 5, 4, 3, 2, 7, 7],
    },
    "RU864": {dr: _subtract(dr, 6) for dr in range(8)},
    "EU433": {dr: _subtract(dr, 6) for dr in range(8)},
    "CN779": {dr: _subtract(dr, 6) for dr in range(8)},
}
AS923_RX1_DOWNLINK_DWELL = {
    0: [2, 2, 2, 2, 2, 2, 2, 2],
    1: [2, 2, 2, 2, 2, 2, 2, 3],
    2: [2, 2, 2, 2, 2, 2, 3, 4],
    3: [3, 2, 2, 2, 2, 2, 4, 5],
    4: [4, 3, 2, 2, 2, 2, 5, 6],
    5: [5, 4, 3, 2, 2, 2, 6, 7],
    6: [6, 5, 4, 3, 2, 2, 7, 7],
    7: [7, 6, 5, 4, 3, 2, 7, 7],
}


@pytest.mark.parametrize("name", sorted(RX1))
def test_rx1_data_rate_table(name: str) -> None:
    region = get_region(name)
    table = RX1[name]
    assert set(region.rx1_data_rates.uplink_data_rates) == set(table)
    for uplink, expected in table.items():
        got = [region.rx1_data_rate(uplink, offset) for offset in range(len(expected))]
        assert got == expected, uplink
        if len(expected) < 8:
            with pytest.raises(InvalidValueError, match="reserved"):
                region.rx1_data_rate(uplink, len(expected))


@pytest.mark.parametrize("name", ["AS923-1", "AS923-2", "AS923-3", "AS923-4"])
def test_as923_rx1_with_downlink_dwell_time(name: str) -> None:
    region = get_region(name)
    for uplink, expected in AS923_RX1_DOWNLINK_DWELL.items():
        assert [region.rx1_data_rate(uplink, o, dwell_time=True) for o in range(8)] == expected
        assert [region.rx1_data_rate(uplink, o) for o in range(8)] == RX1["AS923-1"][uplink]


@pytest.mark.parametrize(
    ("name", "uplink", "offset", "message"),
    [
        ("US915", 8, 0, "not an uplink"),  # a downlink-only rate
        ("US915", 0, 4, "reserved"),
        ("EU868", 0, 6, "reserved"),
        ("EU868", 12, 0, "not an uplink"),
        ("IN865", 6, 0, "not an uplink"),  # RFU
        ("CN470-20A", 0, 0, "not an uplink"),  # DR0 has no payload size
        ("AU915", 14, 0, "not an uplink"),
        ("EU868", 16, 0, "0..15"),
        ("EU868", 0, -1, "0..7"),
    ],
)
def test_rx1_data_rate_refusals(name: str, uplink: int, offset: int, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        get_region(name).rx1_data_rate(uplink, offset)


# name -> (RX2 frequency, RX2 DR, default max EIRP, number of TXPower steps, CFList type)
RADIO_DEFAULTS = {
    "EU868": (869_525_000, 0, 16.0, 8, CFListType.FREQUENCIES),
    "US915": (923_300_000, 8, 30.0, 15, CFListType.CHANNEL_MASK),
    "AU915": (923_300_000, 8, 30.0, 15, CFListType.CHANNEL_MASK),
    "CN470-20A": (486_900_000, 1, 19.15, 8, CFListType.CHANNEL_MASK),
    "CN470-20B": (498_300_000, 1, 19.15, 8, CFListType.CHANNEL_MASK),
    "CN470-26A": (492_500_000, 1, 19.15, 8, CFListType.CHANNEL_MASK),
    "CN470-26B": (502_500_000, 1, 19.15, 8, CFListType.CHANNEL_MASK),
    "AS923-1": (923_200_000, 2, 16.0, 8, CFListType.FREQUENCIES),
    "AS923-2": (921_400_000, 2, 16.0, 8, CFListType.FREQUENCIES),
    "AS923-3": (916_600_000, 2, 16.0, 8, CFListType.FREQUENCIES),
    "AS923-4": (917_300_000, 2, 16.0, 8, CFListType.FREQUENCIES),
    "KR920": (921_900_000, 0, 14.0, 8, CFListType.FREQUENCIES),
    "IN865": (866_550_000, 2, 30.0, 11, CFListType.FREQUENCIES),
    "RU864": (869_100_000, 0, 16.0, 8, CFListType.FREQUENCIES),
    "EU433": (434_665_000, 0, 12.15, 6, CFListType.FREQUENCIES),
    "CN779": (786_000_000, 0, 12.15, 6, CFListType.FREQUENCIES),
}


def test_radio_defaults_cover_every_region() -> None:
    assert sorted(RADIO_DEFAULTS) == sorted(r.name for r in REGIONS)


@pytest.mark.parametrize("name", sorted(RADIO_DEFAULTS))
def test_rx2_tx_power_and_cflist(name: str) -> None:
    frequency, dr, eirp, steps, cflist = RADIO_DEFAULTS[name]
    region = get_region(name)
    assert (region.rx2_frequency_hz, region.rx2_data_rate) == (frequency, dr)
    assert region.default_max_eirp_dbm == eirp
    assert region.tx_power_backoff_db == tuple(range(0, 2 * steps, 2))
    assert region.cflist_type is cflist
    assert region.tx_power_dbm(0) == eirp
    assert region.tx_power_dbm(steps - 1) == pytest.approx(eirp - 2 * (steps - 1))
    assert region.tx_power_dbm(1, max_eirp_dbm=10.0) == 8.0
    with pytest.raises(InvalidValueError, match="TXPower"):
        region.tx_power_dbm(steps)
    document = region.to_json()
    assert document["rx2"] == {"frequency_hz": frequency, "data_rate": dr}
    assert document["cflist_type"] == int(cflist)


@pytest.mark.parametrize("region", REGIONS, ids=[r.name for r in REGIONS])
def test_default_settings_are_the_rp002_ones(region: Region) -> None:
    defaults = region.defaults
    assert (defaults.receive_delay1_s, defaults.receive_delay2_s) == (1, 2)
    assert (defaults.join_accept_delay1_s, defaults.join_accept_delay2_s) == (5, 6)
    assert defaults.max_fcnt_gap == 16384
    assert (defaults.adr_ack_limit, defaults.adr_ack_delay) == (64, 32)
    assert defaults.retransmit_timeout_s == (1, 3)
