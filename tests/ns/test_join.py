"""The join server against a device built from the protocol core: what a device would check."""

from __future__ import annotations

import uuid

import pytest

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import EncryptedJoinAccept, JoinRequest
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.join_accept import CFListChannelMask, CFListFrequencies
from appliance.ns.device import Device, RootKeys
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.uplink.join import (
    Accepted,
    DevNonceHistory,
    JoinRejection,
    Rejected,
    accept,
    check_request,
)

APP_KEY = AESKey(bytes(range(16)))
NWK_KEY = AESKey(bytes(range(16, 32)))
DEV_EUI = EUI64("0102030405060708")
JOIN_EUI = EUI64("70b3d57ed0000000")
NET_ID = NetID("000013")
EU_EXTRA = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)


def _device(**changes: object) -> Device:
    device = Device(
        DEV_EUI, JOIN_EUI, "sensor", uuid.uuid4(), uuid.uuid4(), RootKeys(APP_KEY, NWK_KEY)
    )
    for name, value in changes.items():
        setattr(device, name, value)
    return device


def _request(key: AESKey, dev_nonce: int = 7) -> JoinRequest:
    return security.sign_join_request(JoinRequest(JOIN_EUI, DEV_EUI, dev_nonce), key)


def _profile(version: MACVersion, region: str = "EU868", otaa: bool = True) -> DeviceProfile:
    return DeviceProfile("p", region, mac_version=version, supports_otaa=otaa)


FRESH = DevNonceHistory(last=None, seen_before=False)
V103, V104, V11 = MACVersion.LORAWAN_1_0_3, MACVersion.LORAWAN_1_0_4, MACVersion.LORAWAN_1_1_0

CHECKS = [
    ("valid 1.0.3", _device(), _profile(V103), _request(APP_KEY), FRESH, None),
    ("valid 1.1 uses NwkKey", _device(), _profile(V11), _request(NWK_KEY), FRESH, None),
    (
        "1.1 signed with AppKey",
        _device(),
        _profile(V11),
        _request(APP_KEY),
        FRESH,
        Rejected(JoinRejection.MIC_FAILED),
    ),
    (
        "1.1 without NwkKey",
        _device(root_keys=RootKeys(APP_KEY)),
        _profile(V11),
        _request(APP_KEY),
        FRESH,
        Rejected(JoinRejection.NO_ROOT_KEYS),
    ),
    (
        "disabled",
        _device(enabled=False),
        _profile(V103),
        _request(APP_KEY),
        FRESH,
        Rejected(JoinRejection.DEVICE_DISABLED),
    ),
    (
        "ABP profile",
        _device(),
        _profile(V103, otaa=False),
        _request(APP_KEY),
        FRESH,
        Rejected(JoinRejection.OTAA_NOT_SUPPORTED),
    ),
    (
        "no root keys",
        _device(root_keys=None),
        _profile(V103),
        _request(APP_KEY),
        FRESH,
        Rejected(JoinRejection.NO_ROOT_KEYS),
    ),
    (
        "1.0.3 reuse",
        _device(),
        _profile(V103),
        _request(APP_KEY, 7),
        DevNonceHistory(last=9, seen_before=True),
        Rejected(JoinRejection.DEV_NONCE_REUSED, "DevNonce 7 was used before"),
    ),
    (
        "1.0.3 lower but new is fine",
        _device(),
        _profile(V103),
        _request(APP_KEY, 7),
        DevNonceHistory(last=9, seen_before=False),
        None,
    ),
    (
        "1.0.4 must increase",
        _device(),
        _profile(V104),
        _request(APP_KEY, 7),
        DevNonceHistory(last=7, seen_before=True),
        Rejected(JoinRejection.DEV_NONCE_TOO_LOW, "DevNonce 7, last accepted 7"),
    ),
    (
        "1.0.4 increasing",
        _device(),
        _profile(V104),
        _request(APP_KEY, 8),
        DevNonceHistory(last=7, seen_before=False),
        None,
    ),
]


Check = tuple[str, Device, DeviceProfile, JoinRequest, DevNonceHistory, Rejected | None]


@pytest.mark.parametrize("case", CHECKS, ids=[c[0] for c in CHECKS])
def test_check_request(case: Check) -> None:
    _, device, profile, request, history, expected = case
    assert check_request(request, device, profile, history) == expected


def _open(result: Accepted, key: AESKey) -> object:
    frame = decode_phy_payload(result.phy_payload)
    assert isinstance(frame, EncryptedJoinAccept)
    return security.open_join_accept(frame, key)


def test_1_0_join_accept_as_the_device_sees_it() -> None:
    settings = NetworkSettings(net_id=NET_ID, extra_channels=EU_EXTRA, rx1_dr_offset=1, rx2_dr=3)
    dev_addr = DevAddr.from_net_id(NET_ID, 42)
    result = accept(
        _request(APP_KEY),
        device=_device(),
        profile=_profile(V103),
        settings=settings,
        dev_addr=dev_addr,
        join_nonce=5,
        uplink_dr=5,
    )
    opened = _open(result, APP_KEY)
    assert opened.dev_addr == dev_addr  # type: ignore[attr-defined]
    assert opened.join_nonce == 5  # type: ignore[attr-defined]
    assert opened.dl_settings.rx1_dr_offset == 1  # type: ignore[attr-defined]
    assert opened.dl_settings.rx2_data_rate == 3  # type: ignore[attr-defined]
    assert not opened.dl_settings.opt_neg  # type: ignore[attr-defined]
    assert opened.cf_list == CFListFrequencies(EU_EXTRA)  # type: ignore[attr-defined]
    assert security.join_accept_mic(opened, APP_KEY) == opened.mic  # type: ignore[arg-type,attr-defined]
    device_keys = security.derive_session_keys_1_0(
        APP_KEY, join_nonce=5, net_id=NET_ID, dev_nonce=7
    )
    session = result.session
    assert session.keys == device_keys
    assert session.enabled_uplink_channels == (0, 1, 2, 3, 4, 5, 6, 7)
    assert session.extra_uplink_channels[3].frequency == 867_100_000
    assert (session.rx1_dr_offset, session.rx2_dr, session.rx2_frequency) == (1, 3, 869_525_000)
    assert session.dr == 5
    assert session.f_cnt_up == 0


def test_1_1_join_accept_has_opt_neg_and_1_1_keys() -> None:
    settings = NetworkSettings(net_id=NET_ID)
    result = accept(
        _request(NWK_KEY),
        device=_device(),
        profile=_profile(V11),
        settings=settings,
        dev_addr=DevAddr(1),
        join_nonce=9,
        uplink_dr=0,
    )
    opened = _open(result, NWK_KEY)
    assert opened.dl_settings.opt_neg  # type: ignore[attr-defined]
    js_int_key = security.derive_js_int_key(NWK_KEY, DEV_EUI)
    assert (
        security.join_accept_mic(
            opened,
            js_int_key,
            join_eui=JOIN_EUI,  # type: ignore[arg-type]
            dev_nonce=7,
        )
        == opened.mic
    )  # type: ignore[attr-defined]
    expected = security.derive_session_keys_1_1(
        NWK_KEY, APP_KEY, join_nonce=9, join_eui=JOIN_EUI, dev_nonce=7
    )
    assert result.session.keys == expected
    assert result.session.keys.lorawan_1_1


def test_us915_sub_band_channel_mask_cf_list() -> None:
    settings = NetworkSettings(net_id=NET_ID, region_name="US915", enabled_sub_band=2)
    result = accept(
        _request(APP_KEY),
        device=_device(),
        profile=_profile(V103, "US915"),
        settings=settings,
        dev_addr=DevAddr(1),
        join_nonce=1,
        uplink_dr=0,
    )
    opened = _open(result, APP_KEY)
    assert opened.cf_list == CFListChannelMask((0xFF00, 0, 0, 0, 0x0002))  # type: ignore[attr-defined]
    assert result.session.enabled_uplink_channels == (*range(8, 16), 65)
    assert (result.session.rx2_dr, result.session.rx2_frequency) == (8, 923_300_000)


def test_us915_device_before_1_0_3_keeps_all_channels_until_link_adr() -> None:
    settings = NetworkSettings(net_id=NET_ID, region_name="US915", enabled_sub_band=2)
    result = accept(
        _request(APP_KEY),
        device=_device(),
        profile=_profile(MACVersion.LORAWAN_1_0_2, "US915"),
        settings=settings,
        dev_addr=DevAddr(1),
        join_nonce=1,
        uplink_dr=0,
    )
    assert _open(result, APP_KEY).cf_list is None  # type: ignore[attr-defined]
    assert result.session.enabled_uplink_channels == tuple(range(72))
