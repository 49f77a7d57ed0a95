from __future__ import annotations

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import REGIONS, Region, get_region
from appliance.ns.downlink.frame import class_a_downlink
from appliance.ns.downlink.windows import RxWindow, class_a_windows, join_accept_windows
from appliance.ns.network import NetworkSettings
from appliance.ns.radio import data_rate_of, downlink_modulation
from hal.model import (
    Delay,
    FSKModulation,
    LoRaModulation,
    UplinkRxInfo,
    UplinkTxInfo,
)

S = 1_000_000_000
EU868 = get_region("EU868")
US915 = get_region("US915")


@pytest.mark.parametrize(
    ("region", "modulation", "uplink", "dr"),
    [
        (EU868, LoRaModulation(125_000, 12), True, 0),
        (EU868, LoRaModulation(125_000, 7), True, 5),
        (EU868, LoRaModulation(250_000, 7), True, 6),
        (EU868, FSKModulation(50_000), True, 7),
        (US915, LoRaModulation(500_000, 8), True, 4),
        (US915, LoRaModulation(500_000, 8), False, 12),
        (US915, LoRaModulation(500_000, 12), False, 8),
    ],
)
def test_data_rate_of(
    region: object, modulation: LoRaModulation | FSKModulation, uplink: bool, dr: int
) -> None:
    assert data_rate_of(region, modulation, uplink=uplink) == dr  # type: ignore[arg-type]


def test_downlink_modulation_inverts_iq_and_refuses_uplink_only_rates() -> None:
    modulation = downlink_modulation(US915, 10)
    assert isinstance(modulation, LoRaModulation)
    assert (modulation.spreading_factor, modulation.bandwidth) == (10, 500_000)
    assert modulation.polarization_inversion
    with pytest.raises(InvalidValueError, match="not a downlink"):
        downlink_modulation(US915, 0)
    with pytest.raises(InvalidValueError, match="no uplink data rate"):
        data_rate_of(US915, LoRaModulation(125_000, 12), uplink=True)


def test_eu868_windows_after_an_sf7_uplink() -> None:
    uplink = UplinkTxInfo(868_300_000, LoRaModulation(125_000, 7))
    rx1, rx2 = class_a_windows(
        EU868,
        NetworkSettings(),
        uplink,
        rx1_delay_s=1,
        rx1_dr_offset=2,
        rx2_dr=0,
        rx2_frequency=869_525_000,
    )
    assert (rx1.name, rx1.frequency, rx1.data_rate, rx1.delay_ns) == ("rx1", 868_300_000, 3, S)
    assert rx1.max_mac_payload == 123
    assert (rx2.name, rx2.frequency, rx2.data_rate, rx2.delay_ns) == ("rx2", 869_525_000, 0, 2 * S)
    assert rx2.max_mac_payload == 59


def test_us915_rx1_maps_channel_to_downlink_channel() -> None:
    uplink = UplinkTxInfo(904_100_000, LoRaModulation(125_000, 10))  # channel 9, DR0
    rx1, rx2 = class_a_windows(
        US915,
        NetworkSettings(region_name="US915"),
        uplink,
        rx1_delay_s=1,
        rx1_dr_offset=0,
        rx2_dr=8,
        rx2_frequency=923_300_000,
    )
    assert (rx1.frequency, rx1.data_rate) == (923_900_000, 10)
    assert (rx2.frequency, rx2.data_rate) == (923_300_000, 8)


def test_policies_and_join_accept_delays() -> None:
    uplink = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 12))
    only_rx2 = class_a_windows(
        EU868,
        NetworkSettings(rx_window="rx2_only"),
        uplink,
        rx1_delay_s=1,
        rx1_dr_offset=0,
        rx2_dr=0,
        rx2_frequency=869_525_000,
    )
    assert [w.name for w in only_rx2] == ["rx2"]
    only_rx1 = class_a_windows(
        EU868,
        NetworkSettings(rx_window="rx1_only"),
        uplink,
        rx1_delay_s=1,
        rx1_dr_offset=0,
        rx2_dr=0,
        rx2_frequency=869_525_000,
    )
    assert [w.name for w in only_rx1] == ["rx1"]
    prefer = NetworkSettings(rx2_prefer_on_rx1_dr_lt=2)
    assert [
        w.name
        for w in class_a_windows(
            EU868,
            prefer,
            uplink,
            rx1_delay_s=1,
            rx1_dr_offset=0,
            rx2_dr=3,
            rx2_frequency=869_525_000,
        )
    ] == ["rx2"]
    rx1, rx2 = join_accept_windows(EU868, NetworkSettings(), uplink)
    assert (rx1.delay_ns, rx2.delay_ns) == (5 * S, 6 * S)
    assert (rx2.frequency, rx2.data_rate) == (869_525_000, 0)


def test_class_a_downlink_uses_the_best_gateway_context() -> None:
    uplink = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 9))
    windows = class_a_windows(
        EU868,
        NetworkSettings(),
        uplink,
        rx1_delay_s=1,
        rx1_dr_offset=0,
        rx2_dr=0,
        rx2_frequency=869_525_000,
    )
    reception = UplinkRxInfo(EUI64(7), context=b"\x00\x01\x02\x03", antenna=1)
    frame = class_a_downlink(
        5,
        reception=reception,
        windows=windows,
        phy_payload=b"\x60" * 12,
        region=EU868,
        settings=NetworkSettings(),
    )
    assert frame.gateway_id == EUI64(7)
    assert [item.tx_info.frequency for item in frame.items] == [868_100_000, 869_525_000]
    assert [item.tx_info.timing for item in frame.items] == [Delay(S), Delay(2 * S)]
    assert all(item.tx_info.context == b"\x00\x01\x02\x03" for item in frame.items)
    assert all(item.tx_info.power == 16 for item in frame.items)
    assert frame.items[0].tx_info.antenna == 1


@pytest.mark.parametrize("region", REGIONS, ids=lambda region: region.name)
def test_data_rate_of_gives_the_first_matching_row_of_the_table(region: Region) -> None:
    modulations = [
        LoRaModulation(bw, sf) for bw in (125_000, 250_000, 500_000) for sf in (5, 7, 12)
    ]
    modulations += [LoRaModulation(125_000, sf) for sf in range(5, 13)]
    modulations += [FSKModulation(50_000), FSKModulation(9_600)]
    for modulation in modulations:
        for uplink in (True, False):
            walked = [
                rate.index
                for rate in region.data_rates
                if (rate.uplink if uplink else rate.downlink)
                and (
                    (
                        isinstance(modulation, LoRaModulation)
                        and rate.spreading_factor == modulation.spreading_factor
                        and rate.bandwidth_hz == modulation.bandwidth
                    )
                    or (
                        isinstance(modulation, FSKModulation)
                        and rate.bitrate_bps == modulation.datarate
                    )
                )
            ]
            if walked:
                assert data_rate_of(region, modulation, uplink=uplink) == walked[0]
            else:
                with pytest.raises(InvalidValueError, match="has no"):
                    data_rate_of(region, modulation, uplink=uplink)


def test_windows_follow_the_settings_they_were_asked_with() -> None:
    uplink = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7))

    def windows(settings: NetworkSettings, rx1_delay_s: int = 1) -> tuple[RxWindow, ...]:
        return class_a_windows(
            EU868, settings, uplink, rx1_delay_s=rx1_delay_s, rx1_dr_offset=0, rx2_dr=0,
            rx2_frequency=869_525_000,
        )  # fmt: skip

    both = windows(NetworkSettings())
    assert windows(NetworkSettings()) == both and [w.name for w in both] == ["rx1", "rx2"]
    only = NetworkSettings(rx_window="rx2_only")
    assert [w.name for w in windows(only)] == ["rx2"]
    assert windows(only, rx1_delay_s=3)[0].delay_ns == 4 * S
