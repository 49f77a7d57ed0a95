from __future__ import annotations

import uuid

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.activation import abp_session
from appliance.ns.device import Device
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion

KEYS_10 = SessionKeys.for_1_0(AESKey(1), AESKey(2))
KEYS_11 = SessionKeys(AESKey(1), AESKey(2), AESKey(3), AESKey(4))


def _device(skip: bool = False) -> Device:
    return Device(EUI64(1), EUI64(2), "abp", uuid.uuid4(), uuid.uuid4(), skip_f_cnt_check=skip)


def test_abp_session_takes_the_profile_rx_settings() -> None:
    profile = DeviceProfile(
        "abp", "EU868", supports_otaa=False, abp_rx1_delay_s=2, abp_rx1_dr_offset=1, abp_rx2_dr=3
    )
    session = abp_session(
        _device(skip=True), profile, NetworkSettings(), dev_addr=DevAddr(9), keys=KEYS_10
    )
    assert (session.rx1_delay_s, session.rx1_dr_offset, session.rx2_dr) == (2, 1, 3)
    assert session.rx2_frequency == 869_525_000
    assert session.enabled_uplink_channels == (0, 1, 2)
    assert session.skip_f_cnt_check
    assert (session.f_cnt_up, session.n_f_cnt_down) == (0, 0)


def test_fixed_plans_start_on_every_channel() -> None:
    profile = DeviceProfile("abp", "US915", supports_otaa=False)
    session = abp_session(
        _device(), profile, NetworkSettings(region_name="US915"), dev_addr=DevAddr(9), keys=KEYS_10
    )
    assert session.enabled_uplink_channels == tuple(range(72))
    assert (session.rx2_dr, session.rx2_frequency) == (8, 923_300_000)


def test_keys_must_match_the_mac_version() -> None:
    profile_11 = DeviceProfile("abp", "EU868", mac_version=MACVersion.LORAWAN_1_1_0)
    with pytest.raises(InvalidValueError, match=r"1\.1 \(four\)"):
        abp_session(_device(), profile_11, NetworkSettings(), dev_addr=DevAddr(9), keys=KEYS_10)
    assert abp_session(
        _device(), profile_11, NetworkSettings(), dev_addr=DevAddr(9), keys=KEYS_11
    ).keys.lorawan_1_1
