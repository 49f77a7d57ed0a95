"""Data downlinks: address, MIC, frame counters (1.0.x and 1.1), ACKs and payload delivery."""

from __future__ import annotations

from dataclasses import replace

from appliance.devicesim import ApplicationPayload, Refusal
from appliance.lorawan import security
from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.maccommands import DevStatusReq
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys

from .network import DEV_ADDR, S, deliver, device, exchange, joined, next_tx, otaa_config


def test_application_payload_is_decrypted_and_handed_over() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    _, result = exchange(dev, network, f_port=42, payload=b"hello")
    assert result.accepted and result.window == "RX1"
    assert result.payloads == (ApplicationPayload(42, b"hello"),)
    assert result.f_cnt == 0


def test_replayed_frame_counter_is_refused() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    assert exchange(dev, network, f_port=1, payload=b"a")[1].accepted
    network.read_uplink(next_tx(dev))
    replay = network.downlink(f_port=1, payload=b"a", f_cnt=0)
    result = deliver(dev, replay)
    assert (result.refusal, result.accepted) == (Refusal.F_CNT_REPLAY, False)
    assert deliver(dev, network.downlink(f_port=1, payload=b"b", f_cnt=1)).accepted


def test_counter_gaps_and_16_bit_roll_over_are_accepted() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    _, result = exchange(dev, network, f_cnt=0xFFFE)  # frames were lost: a gap
    assert (result.accepted, result.f_cnt) == (True, 0xFFFE)
    _, result = exchange(dev, network, f_cnt=0x10001)  # travels as 0x0001
    assert (result.accepted, result.f_cnt) == (True, 0x10001)
    assert dev.session is not None and dev.session.n_f_cnt_down == 0x10002


def test_mic_with_other_keys_is_refused() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    network.read_uplink(next_tx(dev))
    forged = security.build_data_frame(
        MType.UNCONFIRMED_DATA_DOWN,
        DEV_ADDR,
        SessionKeys.for_1_0(AESKey("00" * 16), AESKey("00" * 16)),
        0,
        f_port=1,
        payload=b"x",
    )
    assert deliver(dev, forged.encode()).refusal is Refusal.MIC_MISMATCH


def test_other_dev_addr_and_uplink_frames_are_refused() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    tx = next_tx(dev)
    network.read_uplink(tx)
    other = network.downlink(dev_addr=DevAddr("01020304"))
    assert deliver(dev, other).refusal is Refusal.DEV_ADDR_MISMATCH
    assert deliver(dev, tx.phy_payload).refusal is Refusal.NOT_FOR_DEVICE
    assert deliver(dev, b"\xe0\x01\x02").refusal is Refusal.NOT_FOR_DEVICE  # proprietary
    assert deliver(dev, b"\x60").refusal is Refusal.UNDECODABLE


def test_data_before_the_join_is_refused() -> None:
    _, network, _ = joined(otaa_config("1.0.3"))
    unjoined = device(otaa_config("1.0.3"), seed=3)
    next_tx(unjoined)
    assert deliver(unjoined, network.downlink()).refusal is Refusal.NOT_ACTIVATED


def test_confirmed_downlink_is_acknowledged_in_the_next_uplink() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    _, result = exchange(dev, network, confirmed=True, f_port=3, payload=b"c")
    assert result.confirmed
    uplink = network.read_uplink(next_tx(dev))
    assert uplink.frame.f_ctrl.ack
    assert not network.read_uplink(next_tx(dev)).frame.f_ctrl.ack  # acknowledged once


def test_1_1_ack_of_a_confirmed_downlink_signs_conf_f_cnt() -> None:
    dev, network, _ = joined(otaa_config("1.1"))
    # AFCntDown 5 is acknowledged: the uplink MIC covers it (network.read_uplink checks).
    exchange(dev, network, confirmed=True, f_port=3, payload=b"c", f_cnt=5)
    uplink = network.read_uplink(next_tx(dev))
    assert uplink.frame.f_ctrl.ack


def test_1_1_counts_mac_and_application_downlinks_apart() -> None:
    dev, network, _ = joined(otaa_config("1.1"))
    assert exchange(dev, network, f_port=1, payload=b"a")[1].f_cnt == 0  # AFCntDown
    assert exchange(dev, network, commands=(DevStatusReq(),))[1].f_cnt == 0  # NFCntDown
    assert exchange(dev, network, f_port=1, payload=b"b")[1].f_cnt == 1
    session = dev.session
    assert session is not None
    assert (session.n_f_cnt_down, session.a_f_cnt_down) == (1, 2)


def test_1_1_downlink_ack_signs_the_confirmed_uplink_counter() -> None:
    dev, network, _ = joined(otaa_config("1.1", confirmed=True))  # NbTrans 1: no retries
    network.read_uplink(next_tx(dev))
    network.read_uplink(next_tx(dev))  # FCnt 1 is the one being acknowledged
    assert network.last_confirmed_up == 1
    result = deliver(dev, network.downlink(ack=True))
    assert result.accepted and result.ack


def test_ack_without_a_confirmed_uplink_is_not_an_ack() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    _, result = exchange(dev, network, ack=True)
    assert result.accepted and not result.ack


def test_f_pending_brings_an_empty_uplink_forward() -> None:
    dev, network, _ = joined(otaa_config("1.0.3", uplink_interval_s=3600))
    tx = next_tx(dev)
    network.read_uplink(tx)
    result = deliver(dev, network.downlink(f_pending=True))
    assert result.f_pending
    follow_up = next_tx(dev)
    assert follow_up.start_ns < tx.start_ns + 10 * S
    assert network.read_uplink(follow_up).frame.f_port is None


def test_fcnt_on_the_air_is_16_bits_and_the_mic_uses_32() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    state = dev._dev.state
    assert state.session is not None
    state.session = replace(state.session, f_cnt_up=0x1FFFF)
    network.next_f_cnt_up = 0x1FFFF
    first = network.read_uplink(next_tx(dev))
    second = network.read_uplink(next_tx(dev))
    assert (first.frame.f_cnt, first.f_cnt) == (0xFFFF, 0x1FFFF)
    assert (second.frame.f_cnt, second.f_cnt) == (0x0000, 0x20000)


def test_1_1_f_opts_beside_an_application_payload_use_the_a_f_cnt_down_keystream() -> None:
    dev, network, _ = joined(otaa_config("1.1", battery=9))
    _, result = exchange(dev, network, commands=(DevStatusReq(),), f_port=7, payload=b"app")
    assert result.accepted
    assert result.payloads == (ApplicationPayload(7, b"app"),)
    assert result.mac_commands == (DevStatusReq(),)
