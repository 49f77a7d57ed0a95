"""DeviceConfig refuses what cannot be simulated, naming the problem."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.devicesim import ABP, OTAA, DeviceConfig, DeviceConfigError, LoRaWANVersion
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import get_region

from .network import ABP_KEYS_10, ABP_KEYS_11, APP_KEY, DEV_ADDR, abp_config, otaa_config


def test_text_inputs_are_accepted_and_normalised() -> None:
    config = otaa_config("1.0.4", dev_eui="00-04-a3-0b-00-1c-05-30", region="eu868")
    assert config.dev_eui == EUI64("0004a30b001c0530")
    assert config.lorawan_version is LoRaWANVersion.V1_0_4
    assert config.region == "EU868"


def test_payload_source_may_be_a_callable() -> None:
    config = otaa_config(payload=lambda f_cnt: f_cnt.to_bytes(2, "big"))
    assert config.payload_for(258) == b"\x01\x02"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lorawan_version": "1.0.1"}, "not simulated"),
        ({"region": "EU869"}, "unknown region"),
        ({"region": "CN470-20A"}, "not simulated"),
        ({"device_class": "C"}, "class A"),
        ({"f_port": 0}, "FPort"),
        ({"f_port": 224}, "FPort"),
        ({"nb_trans": 0}, "NbTrans"),
        ({"confirmed_transmissions": 16}, "confirmed"),
        ({"uplink_interval_s": 0}, "interval"),
        ({"data_rate": 8}, "DR8"),  # LR-FHSS
        ({"data_rate": 7}, "default channels"),  # FSK needs a channel the network adds
        ({"tx_power": 8}, "TXPower"),
        ({"sub_bands": (2,)}, "US915"),
        ({"region": "US915", "sub_bands": (9,)}, "1..8"),
        ({"region": "AU915", "data_rate": 0}, "DR0"),  # not under the dwell-time limit
        ({"battery": 256}, "battery"),
        ({"dev_eui": "00"}, "DevEUI"),
    ],
)
def test_invalid_configurations(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(DeviceConfigError, match=message):
        otaa_config(**overrides)


def test_1_1_otaa_needs_a_nwk_key() -> None:
    with pytest.raises(DeviceConfigError, match="NwkKey"):
        otaa_config("1.1", activation=OTAA(APP_KEY))


def test_abp_keys_must_match_the_version() -> None:
    with pytest.raises(DeviceConfigError, match="match the LoRaWAN version"):
        abp_config("1.1", activation=ABP(DEV_ADDR, ABP_KEYS_10))
    with pytest.raises(DeviceConfigError, match="match the LoRaWAN version"):
        abp_config("1.0.3", activation=ABP(DEV_ADDR, ABP_KEYS_11))


@pytest.mark.parametrize(
    ("activation", "message"),
    [
        (ABP(DEV_ADDR, ABP_KEYS_10, rx1_delay_s=0), "RX1 delay"),
        (ABP(DEV_ADDR, ABP_KEYS_10, rx2_data_rate=8), "downlink data rate"),
        (ABP(DEV_ADDR, ABP_KEYS_10, rx2_frequency=915_000_000), "outside EU868"),
    ],
)
def test_abp_receive_settings_are_checked(activation: ABP, message: str) -> None:
    with pytest.raises(DeviceConfigError, match=message):
        abp_config(activation=activation)


def test_defaults() -> None:
    config = DeviceConfig(dev_eui=EUI64(1), activation=OTAA(APP_KEY))
    assert (config.region, config.lorawan_version, config.f_port) == ("EU868", "1.0.3", 1)
    assert (config.adr, config.confirmed, config.nb_trans, config.duty_cycle) == (
        True,
        False,
        1,
        True,
    )
    assert config.dwell_time(get_region("AS923")) and not config.dwell_time(get_region("EU868"))
