"""Time on air against published figures and the datasheet formula's known corners.

Reference values: the Semtech SX1276 datasheet formula as evaluated by the Semtech LoRa
calculator and the TTN airtime calculator (SF7BW125 13 bytes 46.336 ms, SF12BW125 51 bytes
2465.792 ms), and the figures TTN's lorawan-stack checks its own implementation against
(pkg/toa: 10-byte frames at every SF, bandwidth and coding rate; FSK 200 bytes at 50 kbps).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.airtime import fsk_time_on_air, lora_symbol_time, lora_time_on_air
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import get_region


@pytest.mark.parametrize(
    ("payload", "sf", "bandwidth", "coding_rate", "expected_ms"),
    [
        (13, 7, 125_000, 1, 46.336),
        (51, 12, 125_000, 1, 2465.792),
        (10, 7, 125_000, 1, 41.216),
        (10, 8, 125_000, 1, 72.192),
        (10, 9, 125_000, 1, 144.384),
        (10, 10, 125_000, 1, 288.768),
        (10, 11, 125_000, 1, 577.536),
        (10, 12, 125_000, 1, 991.232),
        (10, 7, 250_000, 1, 20.608),
        (10, 7, 500_000, 1, 10.304),
        (10, 7, 125_000, 2, 45.312),
        (10, 7, 125_000, 3, 49.408),
        (10, 7, 125_000, 4, 53.504),
        (14, 7, 125_000, 1, 46.336),
        (15, 7, 125_000, 1, 46.336),
        (16, 7, 125_000, 1, 51.456),
        (19, 7, 125_000, 1, 51.456),
    ],
)
def test_lora_reference_values(
    payload: int, sf: int, bandwidth: int, coding_rate: int, expected_ms: float
) -> None:
    assert lora_time_on_air(payload, sf, bandwidth, coding_rate) == pytest.approx(
        expected_ms / 1000, abs=1e-9
    )


def test_ldro_switches_on_at_16_ms_symbols() -> None:
    assert lora_symbol_time(11, 125_000) == pytest.approx(0.016384)
    # SF11/125 kHz (16.4 ms symbols) uses LDRO; SF11/250 kHz (8.2 ms) does not.
    with_ldro = lora_time_on_air(20, 11, 125_000, low_data_rate_optimize=True)
    without = lora_time_on_air(20, 11, 125_000, low_data_rate_optimize=False)
    assert lora_time_on_air(20, 11, 125_000) == with_ldro > without
    assert lora_time_on_air(20, 11, 250_000) == lora_time_on_air(
        20, 11, 250_000, low_data_rate_optimize=False
    )
    assert lora_time_on_air(20, 12, 250_000) == lora_time_on_air(
        20, 12, 250_000, low_data_rate_optimize=True
    )


def test_header_crc_and_preamble_options() -> None:
    # 10 bytes SF7/125: 4 coding blocks with CRC and explicit header, 3 without the CRC.
    assert lora_time_on_air(10, 7, 125_000, crc=False) == pytest.approx(0.036096)
    assert lora_time_on_air(10, 7, 125_000, explicit_header=False) == pytest.approx(0.036096)
    longer = lora_time_on_air(10, 7, 125_000, preamble_symbols=10)
    assert longer - lora_time_on_air(10, 7, 125_000) == pytest.approx(2 * 0.001024)


def test_sf5_and_sf6_follow_the_sx126x_formula() -> None:
    # SF5/125 kHz, 10 bytes, CRC, explicit header: preamble 8 + 6.25 symbols; payload
    # 8 + ceil((80 + 16 - 20 + 20) / 20) * 5 = 33 symbols; 0.256 ms per symbol.
    assert lora_time_on_air(10, 5, 125_000) == pytest.approx((14.25 + 33) * 0.000256)
    # SF6: 8 + ceil((80 + 16 - 24 + 20) / 24) * 5 = 28 symbols of 0.512 ms.
    assert lora_time_on_air(10, 6, 125_000) == pytest.approx((14.25 + 28) * 0.000512)
    # LDRO never changes SF5/SF6 frames.
    assert lora_time_on_air(10, 6, 125_000, low_data_rate_optimize=True) == lora_time_on_air(
        10, 6, 125_000
    )


def test_empty_payload_still_sends_the_header_symbols() -> None:
    assert lora_time_on_air(0, 12, 125_000, crc=False, explicit_header=False) == pytest.approx(
        (12.25 + 8) * 0.032768
    )


def test_fsk_reference_values() -> None:
    assert fsk_time_on_air(200, 50_000) == pytest.approx(0.03376)
    # 5 preamble + 3 sync + 1 length + 13 payload + 2 CRC octets at 50 kbps.
    assert fsk_time_on_air(13, 50_000) == pytest.approx(24 * 8 / 50_000)
    bare = fsk_time_on_air(
        13, 50_000, preamble_bytes=0, sync_word_bytes=0, length_byte=False, crc=False
    )
    assert bare == pytest.approx(13 * 8 / 50_000)
    assert fsk_time_on_air(13, 50_000, crc=False) - bare == pytest.approx(9 * 8 / 50_000)


def test_cn470_payload_limits_keep_frames_under_one_second() -> None:
    # The RP002 CN470 maximum MACPayload sizes are what fits in about a second of air time.
    region = get_region("CN470-20A")
    for dr in (1, 2, 3):
        entry = region.data_rate(dr)
        assert entry.spreading_factor is not None and entry.bandwidth_hz is not None
        phy = region.max_payload(dr).mac_payload + 5  # MHDR and MIC
        seconds = lora_time_on_air(phy, entry.spreading_factor, entry.bandwidth_hz)
        assert 0.95 < seconds < 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"payload_size": -1}, "payload size"),
        ({"payload_size": 256}, "payload size"),
        ({"spreading_factor": 4}, "spreading factor"),
        ({"spreading_factor": 13}, "spreading factor"),
        ({"bandwidth_hz": 0}, "bandwidth"),
        ({"coding_rate": 0}, "coding rate"),
        ({"coding_rate": 5}, "coding rate"),
        ({"preamble_symbols": 5}, "preamble"),
        ({"crc": 1}, "crc"),
        ({"explicit_header": None}, "explicit_header"),
        ({"low_data_rate_optimize": 0}, "low_data_rate_optimize"),
        ({"payload_size": 1.5}, "integer"),
        ({"spreading_factor": True}, "integer"),
    ],
)
def test_lora_argument_validation(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"payload_size": 10, "spreading_factor": 7}
    arguments |= {"bandwidth_hz": 125_000} | kwargs
    with pytest.raises(InvalidValueError, match=message):
        lora_time_on_air(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"payload_size": 256}, "payload size"),
        ({"bitrate_bps": 0}, "bitrate"),
        ({"preamble_bytes": -1}, "preamble"),
        ({"sync_word_bytes": 9}, "sync word"),
        ({"length_byte": "yes"}, "length_byte"),
        ({"crc": None}, "crc"),
    ],
)
def test_fsk_argument_validation(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"payload_size": 10, "bitrate_bps": 50_000} | kwargs
    with pytest.raises(InvalidValueError, match=message):
        fsk_time_on_air(**arguments)  # type: ignore[arg-type]


@given(
    st.integers(0, 254),
    st.integers(5, 12),
    st.sampled_from([125_000, 250_000, 500_000]),
    st.integers(1, 4),
)
def test_lora_time_grows_with_payload_and_is_whole_symbols(
    payload: int, sf: int, bandwidth: int, coding_rate: int
) -> None:
    here = lora_time_on_air(payload, sf, bandwidth, coding_rate)
    assert lora_time_on_air(payload + 1, sf, bandwidth, coding_rate) >= here
    symbols = here / lora_symbol_time(sf, bandwidth)
    # Preamble + 4.25 (or 6.25) and a whole number of payload symbols.
    assert math.isclose(symbols - math.floor(symbols), 0.25, abs_tol=1e-6)
