"""Rejoin-requests of types 0 and 2: what refuses them, and the accept as a device opens it."""

from __future__ import annotations

import uuid

import pytest

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import EncryptedJoinAccept, RejoinRequest02
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.ns.device import Device, RootKeys
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.uplink.rejoin import RejoinRejection, accept_rejoin, check_rejoin

APP_KEY, NWK_KEY = AESKey(bytes(range(16))), AESKey(bytes(range(16, 32)))
DEV_EUI, JOIN_EUI, NET_ID = EUI64(7), EUI64(8), NetID("000013")
KEYS = security.SessionKeys(AESKey(1), AESKey(2), AESKey(3), AESKey(4))
SETTINGS = NetworkSettings(net_id=NET_ID, rx1_dr_offset=1)
PROFILE = DeviceProfile("1.1", "EU868", mac_version=MACVersion.LORAWAN_1_1_0)


def _device(rejoin_count_0: int = 0, keys: security.SessionKeys = KEYS) -> Device:
    session = DeviceSession(
        DevAddr(0x26000001),
        keys,
        MACVersion.LORAWAN_1_1_0,
        "EU868",
        3,
        869_525_000,
        (0, 1, 2),
        f_cnt_up=99,
        n_f_cnt_down=5,
        rejoin_count_0=rejoin_count_0,
        tx_power_index=2,
    )
    return Device(
        DEV_EUI,
        JOIN_EUI,
        "d",
        PROFILE.id,
        uuid.uuid4(),
        RootKeys(APP_KEY, NWK_KEY),
        session=session,
    )


def _request(
    rejoin_type: int, rj_count0: int, net_id: NetID = NET_ID, key: AESKey = KEYS.s_nwk_s_int_key
) -> RejoinRequest02:
    frame = RejoinRequest02(rejoin_type, net_id, DEV_EUI, rj_count0)
    signed = security.sign_rejoin_request(frame, key)
    assert isinstance(signed, RejoinRequest02)
    return signed


@pytest.mark.parametrize(
    ("request_", "device", "expected"),
    [
        (_request(2, 0), _device(), None),
        (_request(2, 5), _device(rejoin_count_0=5), None),
        (_request(2, 4), _device(rejoin_count_0=5), RejoinRejection.RJ_COUNT_REPLAY),
        (_request(0, 1, net_id=NetID("000001")), _device(), RejoinRejection.WRONG_NET_ID),
        (_request(2, 1, key=AESKey(9)), _device(), RejoinRejection.MIC_FAILED),
        (
            _request(2, 1),
            _device(keys=security.SessionKeys.for_1_0(AESKey(1), AESKey(2))),
            RejoinRejection.NOT_1_1,
        ),
    ],
)
def test_check_rejoin(
    request_: RejoinRequest02, device: Device, expected: RejoinRejection | None
) -> None:
    assert check_rejoin(request_, device, SETTINGS) == expected


def test_no_session_means_no_rejoin() -> None:
    device = _device()
    device.session = None
    assert check_rejoin(_request(2, 0), device, SETTINGS) is RejoinRejection.NO_SESSION


@pytest.mark.parametrize("rejoin_type", [0, 2])
def test_accept_as_the_device_opens_it(rejoin_type: int) -> None:
    device = _device()
    accepted = accept_rejoin(
        _request(rejoin_type, 3), device=device, profile=PROFILE, settings=SETTINGS, join_nonce=12
    )
    frame = decode_phy_payload(accepted.phy_payload)
    assert isinstance(frame, EncryptedJoinAccept)
    js_enc = security.derive_js_enc_key(NWK_KEY, DEV_EUI)
    opened = security.open_join_accept(frame, js_enc)
    js_int = security.derive_js_int_key(NWK_KEY, DEV_EUI)
    assert (
        security.join_accept_mic(
            opened, js_int, join_req_type=rejoin_type, join_eui=JOIN_EUI, dev_nonce=3
        )
        == opened.mic
    )
    assert opened.dev_addr == DevAddr(0x26000001)
    current, new = accepted.session, accepted.session.pending_rejoin_session
    assert new is not None
    assert current.keys == KEYS and current.f_cnt_up == 99  # still in use until the switch
    assert new.keys == security.derive_session_keys_1_1(
        NWK_KEY, APP_KEY, join_nonce=12, join_eui=JOIN_EUI, dev_nonce=3
    )
    assert (new.f_cnt_up, new.n_f_cnt_down) == (0, 0)
    # The current session refuses a replay; the device restarts RJcount0 with the new one.
    assert (current.rejoin_count_0, new.rejoin_count_0) == (4, 0)
    if rejoin_type == 0:  # radio settings back to the network's
        assert (new.rx1_dr_offset, new.rx2_dr, new.tx_power_index) == (1, 0, 0)
    else:  # type 2 keeps them
        assert (new.rx1_dr_offset, new.rx2_dr, new.tx_power_index) == (0, 3, 2)
