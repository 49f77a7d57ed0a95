"""OTAA: join-requests, DevNonce rules, join-accept checks, keys, settings and retries."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.devicesim import Refusal, Transmission, TransmissionKind
from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import JoinRequest
from appliance.lorawan.identifiers import AESKey
from appliance.lorawan.join_accept import (
    CFListChannelMask,
    CFListFrequencies,
    DLSettings,
    JoinAccept,
)
from appliance.lorawan.maccommands import RekeyConf, RekeyInd
from appliance.lorawan.regions.us915 import sub_band

from .network import (
    APP_KEY,
    DEV_ADDR,
    DEV_EUI,
    JOIN_EUI,
    MS,
    NET_ID,
    NWK_KEY,
    Network,
    S,
    deliver,
    device,
    exchange,
    joined,
    next_tx,
    otaa_config,
    window,
)


def _dev_nonce(phy: bytes) -> int:
    request = decode_phy_payload(phy)
    assert isinstance(request, JoinRequest)
    return request.dev_nonce


@pytest.mark.parametrize(("version", "key"), [("1.0.2", APP_KEY), ("1.1", NWK_KEY)])
def test_join_request_is_signed_with_the_root_key(version: str, key: AESKey) -> None:
    tx = next_tx(device(otaa_config(version)))
    request = decode_phy_payload(tx.phy_payload)
    assert isinstance(request, JoinRequest)
    assert tx.kind is TransmissionKind.JOIN_REQUEST
    assert (request.join_eui, request.dev_eui) == (JOIN_EUI, DEV_EUI)
    assert security.verify_join_request(request, key)


@pytest.mark.parametrize("version", ["1.0.4", "1.1"])
def test_dev_nonce_counts_up_from_zero(version: str) -> None:
    dev = device(otaa_config(version))
    assert [_dev_nonce(next_tx(dev).phy_payload) for _ in range(4)] == [0, 1, 2, 3]


@pytest.mark.parametrize("version", ["1.0.2", "1.0.3"])
def test_dev_nonce_is_random_and_never_repeats(version: str) -> None:
    dev = device(otaa_config(version))
    nonces = [_dev_nonce(next_tx(dev).phy_payload) for _ in range(50)]
    assert len(set(nonces)) == 50
    assert nonces != sorted(nonces)


def test_1_0_join_derives_the_network_keys_and_applies_the_accept() -> None:
    cf_list = CFListFrequencies((867_100_000, 867_300_000, 0, 867_700_000))
    dev, network, _ = joined(
        otaa_config("1.0.3"), dl_settings=DLSettings(2, 3), rx_delay=3, cf_list=cf_list
    )
    session = dev.session
    assert session is not None
    assert session.keys == network.keys
    assert (session.dev_addr, session.net_id) == (DEV_ADDR, NET_ID)
    assert (session.f_cnt_up, session.n_f_cnt_down) == (0, 0)
    settings = dev.settings
    assert (settings.rx1_dr_offset, settings.rx2_data_rate, settings.rx1_delay_s) == (2, 3, 3)
    assert [c.frequency for c in dev.enabled_channels] == [
        868_100_000,
        868_300_000,
        868_500_000,
        867_100_000,
        867_300_000,
        867_700_000,
    ]
    assert [c.index for c in dev.enabled_channels][-1] == 6  # the 0 left slot 5 undefined
    assert dev.pending_mac_commands == ()  # no RekeyInd for a 1.0 session
    uplink = network.read_uplink(next_tx(dev))  # MIC checked with the network's keys
    assert uplink.payload == b"\x01\x02"


def test_1_1_join_with_opt_neg_uses_js_int_key_and_sends_rekey_ind_until_rekey_conf() -> None:
    dev, network, _ = joined(otaa_config("1.1"))
    session = dev.session
    assert session is not None and session.lorawan_1_1
    assert session.keys == network.keys
    for _ in range(2):
        uplink = network.read_uplink(next_tx(dev))
        assert uplink.commands == (RekeyInd(minor=1),)
    uplink, result = exchange(dev, network, commands=(RekeyConf(minor=1),))
    assert uplink.commands == (RekeyInd(minor=1),) and result.accepted
    assert network.read_uplink(next_tx(dev)).commands == ()


def test_1_1_device_on_a_1_0_network_falls_back_to_1_0_keys() -> None:
    config = otaa_config("1.1")
    dev = device(config)
    network = Network(opt_neg=False)
    tx = next_tx(dev)
    assert deliver(dev, network.accept_join(tx, root_key=NWK_KEY)).accepted
    session = dev.session
    assert session is not None and not session.lorawan_1_1
    assert session.keys == network.keys
    assert network.read_uplink(next_tx(dev)).commands == ()


def test_join_windows_follow_join_accept_delays_and_region_defaults() -> None:
    dev = device(otaa_config("1.0.3", data_rate=3, rx_window_margin_ms=10))
    tx = next_tx(dev)
    rx1, rx2 = dev.receive_windows()
    assert (rx1.frequency, rx1.data_rate) == (tx.frequency, 3)
    assert (rx2.frequency, rx2.data_rate) == (869_525_000, 0)
    assert rx1.open_ns == tx.end_ns + 5 * S - 10 * MS
    assert rx2.open_ns == tx.end_ns + 6 * S - 10 * MS


def test_us915_join_alternates_125_and_500_khz_channels_of_the_sub_band() -> None:
    dev = device(otaa_config("1.0.3", region="US915", sub_bands=(2,)))
    sent = [next_tx(dev) for _ in range(9)]
    band = sub_band(2)
    assert all(tx.frequency in band.channels_125khz_hz and tx.data_rate == 0 for tx in sent[:8])
    assert (sent[8].frequency, sent[8].data_rate) == (band.channel_500khz_hz, 4)
    assert window(dev, "RX1").frequency == 923_300_000 + 600_000 * (65 % 8)
    assert (window(dev, "RX1").data_rate, window(dev, "RX2").data_rate) == (13, 8)


def test_us915_cf_list_channel_mask_replaces_the_channel_mask() -> None:
    cf_list = CFListChannelMask((0x0000, 0xFF00, 0, 0, 0x0002))
    dev, _, _ = joined(otaa_config("1.0.4", region="US915"), cf_list=cf_list)
    assert [c.index for c in dev.enabled_channels] == [*range(24, 32), 65]


def test_cf_list_of_the_wrong_type_is_ignored() -> None:
    dev, _, _ = joined(otaa_config("1.0.3"), cf_list=CFListChannelMask((0xFFFF,)))
    assert len(dev.enabled_channels) == 3


def test_unanswered_join_is_retried_after_rx2_with_a_new_nonce() -> None:
    dev = device(otaa_config("1.0.4"))
    first = next_tx(dev)
    rx2_close = window(dev, "RX2").close_ns
    assert dev.next_transmission(rx2_close) is None
    second = next_tx(dev)
    assert rx2_close + 1 * S <= second.start_ns <= rx2_close + 3 * S
    assert _dev_nonce(second.phy_payload) == _dev_nonce(first.phy_payload) + 1


def test_join_back_off_keeps_join_requests_under_one_percent_in_the_first_hour() -> None:
    dev = device(otaa_config("1.0.4", duty_cycle=True, data_rate=0))
    first = next_tx(dev)
    second = next_tx(dev)
    assert second.start_ns - first.start_ns >= 100 * first.time_on_air_ns


def test_join_nonce_must_grow_for_1_0_4_and_differ_before() -> None:
    for version, replay_refused_at in (("1.0.4", 5), ("1.0.3", 7)):
        dev = device(otaa_config(version))
        network = Network()
        assert deliver(dev, network.accept_join(next_tx(dev), join_nonce=7)).accepted
        # Join again (as after a revert) and answer with an older or equal JoinNonce.
        dev._dev.rt.revert_to_join_at = dev._dev.rt.earliest_tx_ns  # as a reset would
        tx = next_tx(dev)
        assert tx.kind is TransmissionKind.JOIN_REQUEST
        result = deliver(dev, network.accept_join(tx, join_nonce=replay_refused_at))
        assert result.refusal is Refusal.JOIN_NONCE_REPLAY, version


def _signed_accept(tx: Transmission, *, mic_key: AESKey) -> bytes:
    assert _dev_nonce(tx.phy_payload) >= 0
    accept = JoinAccept(1, NET_ID, DEV_ADDR)
    return security.seal_join_accept(accept, mic_key=mic_key, encryption_key=APP_KEY)


@pytest.mark.parametrize(
    ("build", "refusal"),
    [
        (lambda tx: _signed_accept(tx, mic_key=AESKey("ff" * 16)), Refusal.MIC_MISMATCH),
        (
            lambda tx: Network().accept_join(tx, dl_settings=DLSettings(rx1_dr_offset=7)),
            Refusal.INVALID_JOIN_ACCEPT,
        ),
        (
            lambda tx: Network().accept_join(tx, dl_settings=DLSettings(rx2_data_rate=13)),
            Refusal.INVALID_JOIN_ACCEPT,
        ),
    ],
)
def test_bad_join_accepts_are_refused(
    build: Callable[[Transmission], bytes], refusal: Refusal
) -> None:
    dev = device(otaa_config("1.0.3"))
    result = deliver(dev, build(next_tx(dev)))
    assert (result.accepted, result.refusal) == (False, refusal)
    assert not dev.activated
    assert dev.receive_windows()  # the windows stay open for a good frame


def test_join_accept_without_a_pending_request_is_unexpected() -> None:
    dev, network, join_tx = joined(otaa_config("1.0.3"))
    next_tx(dev)  # a data uplink: its windows expect data frames only
    result = deliver(dev, network.accept_join(join_tx))
    assert result.refusal is Refusal.UNEXPECTED_JOIN_ACCEPT


def test_no_rekey_conf_within_adr_ack_limit_uplinks_reverts_to_join() -> None:
    dev, network, _ = joined(otaa_config("1.1"))
    limit = dev.settings.adr_ack_limit
    for _ in range(limit):
        assert network.read_uplink(next_tx(dev)).commands == (RekeyInd(minor=1),)
    tx = next_tx(dev)
    assert tx.kind is TransmissionKind.JOIN_REQUEST
    assert not dev.activated
