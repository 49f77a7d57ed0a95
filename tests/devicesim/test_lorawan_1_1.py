"""LoRaWAN 1.1 specifics: uplink MIC inputs, ForceRejoinReq, periodic and type 1 rejoins."""

from __future__ import annotations

import pytest

from appliance.devicesim import TransmissionKind
from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import DataFrame, RejoinRequest02, RejoinRequest1
from appliance.lorawan.identifiers import DevAddr
from appliance.lorawan.maccommands import (
    ForceRejoinReq,
    RejoinParamSetupReq,
    RekeyConf,
    RekeyInd,
)

from .network import JOIN_EUI, NET_ID, S, deliver, exchange, joined, next_tx, otaa_config


def test_uplink_mic_covers_the_data_rate_and_channel() -> None:
    dev, network, _ = joined(otaa_config("1.1"))
    tx = next_tx(dev)
    frame = decode_phy_payload(tx.phy_payload)
    assert isinstance(frame, DataFrame) and network.keys is not None
    keys = network.keys
    assert security.verify_data_mic(frame, keys, 0, tx_dr=tx.data_rate, tx_ch=tx.channel)
    assert not security.verify_data_mic(frame, keys, 0, tx_dr=tx.data_rate, tx_ch=tx.channel + 1)


def test_f_opts_are_encrypted_in_1_1() -> None:
    dev, _, _ = joined(otaa_config("1.1"))
    frame = decode_phy_payload(next_tx(dev).phy_payload)
    assert isinstance(frame, DataFrame)
    assert frame.f_opts != RekeyInd(minor=1).to_bytes()


def test_force_rejoin_sends_type_0_requests_and_a_rejoin_accept_rekeys() -> None:
    dev, network, _ = joined(otaa_config("1.1", uplink_interval_s=3600))
    old_keys = network.keys
    command = ForceRejoinReq(period=0, max_retries=1, rejoin_type=0, data_rate=3)
    exchange(dev, network, commands=(RekeyConf(minor=1), command))
    first = next_tx(dev)
    second = next_tx(dev)
    assert first.kind is second.kind is TransmissionKind.REJOIN_REQUEST
    assert first.data_rate == 3
    assert 32 * S <= second.start_ns - first.start_ns <= 64 * S
    requests = [decode_phy_payload(tx.phy_payload) for tx in (first, second)]
    assert all(isinstance(r, RejoinRequest02) for r in requests)
    assert [r.rj_count0 for r in requests] == [0, 1]  # type: ignore[union-attr]
    assert requests[0].net_id == NET_ID  # type: ignore[union-attr]
    result = deliver(dev, network.accept_rejoin(second, dev_addr=DevAddr("26000002")))
    assert result.accepted and result.joined, result.reason
    session = dev.session
    assert session is not None and session.keys == network.keys != old_keys
    assert session.dev_addr == DevAddr("26000002") and session.f_cnt_up == 0
    uplink = network.read_uplink(next_tx(dev))
    assert uplink.commands == (RekeyInd(minor=1),)


def test_force_rejoin_type_2_keeps_the_radio_settings() -> None:
    dev, network, _ = joined(otaa_config("1.1", uplink_interval_s=3600))
    command = ForceRejoinReq(period=0, max_retries=0, rejoin_type=2, data_rate=5)
    exchange(dev, network, commands=(RekeyConf(minor=1), command))
    settings = dev.settings
    tx = next_tx(dev)
    request = decode_phy_payload(tx.phy_payload)
    assert isinstance(request, RejoinRequest02) and request.rejoin_type == 2
    assert deliver(dev, network.accept_rejoin(tx)).accepted
    assert dev.settings == settings
    assert dev.session is not None and dev.session.keys == network.keys


def test_rejoin_param_setup_sends_periodic_type_0_rejoins() -> None:
    dev, network, _ = joined(otaa_config("1.1", uplink_interval_s=10))
    setup = RejoinParamSetupReq(max_time_n=15, max_count_n=0)  # every 16 uplinks
    exchange(dev, network, commands=(RekeyConf(minor=1), setup))
    kinds = [next_tx(dev).kind for _ in range(34)]
    rejoins = [i for i, kind in enumerate(kinds) if kind is TransmissionKind.REJOIN_REQUEST]
    assert rejoins == [16, 33]


def test_rejoin_accept_for_a_1_0_device_is_unexpected() -> None:
    dev, network, join_tx = joined(otaa_config("1.0.4"))
    network.read_uplink(next_tx(dev))
    result = deliver(dev, network.accept_join(join_tx))
    assert not result.accepted


def test_type_1_rejoins_count_rj_count1_across_sessions() -> None:
    dev, network, _ = joined(otaa_config("1.1", uplink_interval_s=3600))
    exchange(dev, network, commands=(RekeyConf(minor=1),))
    counters = []
    for _ in range(2):
        dev.request_rejoin(0, rejoin_type=1)  # as soon as the device may send
        tx = next_tx(dev)
        assert tx.kind is TransmissionKind.REJOIN_REQUEST
        request = decode_phy_payload(tx.phy_payload)
        assert isinstance(request, RejoinRequest1)
        assert (request.join_eui, request.dev_eui) == (JOIN_EUI, dev.config.dev_eui)
        counters.append(request.rj_count1)
        result = deliver(dev, network.accept_rejoin(tx))
        assert result.accepted and result.joined, result.reason
        assert dev.session is not None and dev.session.keys == network.keys
        assert dev.session.rj_count0 == 0
    assert counters == [0, 1]  # RJcount1 goes on: a new session does not restart it
    assert dev.snapshot()["join"]["next_rj_count1"] == 2


def test_rejoin_requests_need_a_joined_1_1_session() -> None:
    dev, _, _ = joined(otaa_config("1.0.4"))
    with pytest.raises(ValueError, match=r"1\.1"):
        dev.request_rejoin(0)
    dev11, _, _ = joined(otaa_config("1.1"))
    with pytest.raises(ValueError, match="rejoin_type"):
        dev11.request_rejoin(0, rejoin_type=3)
