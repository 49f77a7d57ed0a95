"""ABP devices: their provisioned session, settings and the 1.1 ResetInd."""

from __future__ import annotations

from dataclasses import replace

from appliance.devicesim import ABP, TransmissionKind
from appliance.lorawan.maccommands import ResetConf, ResetInd

from .network import (
    ABP_KEYS_10,
    ABP_KEYS_11,
    DEV_ADDR,
    Network,
    S,
    abp_config,
    device,
    exchange,
    next_tx,
    window,
)


def test_abp_device_sends_data_at_once_with_its_session() -> None:
    dev = device(abp_config("1.0.2"))
    assert dev.activated
    tx = next_tx(dev)
    assert (tx.kind, tx.start_ns, tx.f_cnt) == (TransmissionKind.DATA, 0, 0)
    uplink = Network(keys=ABP_KEYS_10).read_uplink(tx)
    assert uplink.frame.dev_addr == DEV_ADDR
    assert uplink.payload == b"\x01\x02"


def test_abp_receive_settings_come_from_provisioning() -> None:
    activation = ABP(
        DEV_ADDR,
        ABP_KEYS_10,
        rx1_delay_s=3,
        rx1_dr_offset=2,
        rx2_data_rate=3,
        rx2_frequency=869_100_000,
    )
    dev = device(abp_config("1.0.3", activation=activation))
    tx = next_tx(dev)
    rx1, rx2 = window(dev, "RX1"), window(dev, "RX2")
    assert rx1.data_rate == 3 and rx1.open_ns == tx.end_ns + 3 * S - 20_000_000
    assert (rx2.frequency, rx2.data_rate) == (869_100_000, 3)
    assert rx2.open_ns == tx.end_ns + 4 * S - 20_000_000


def test_abp_1_1_sends_reset_ind_until_reset_conf() -> None:
    dev = device(abp_config("1.1"))
    network = Network(keys=ABP_KEYS_11)
    assert network.read_uplink(next_tx(dev)).commands == (ResetInd(minor=1),)
    uplink, result = exchange(dev, network, commands=(ResetConf(minor=1),))
    assert uplink.commands == (ResetInd(minor=1),) and result.accepted
    assert network.read_uplink(next_tx(dev)).commands == ()


def test_abp_1_0_has_no_reset_ind() -> None:
    dev = device(abp_config("1.0.4"))
    assert Network(keys=ABP_KEYS_10).read_uplink(next_tx(dev)).commands == ()


def test_abp_device_stops_when_its_frame_counter_is_exhausted() -> None:
    dev = device(abp_config("1.0.4"))
    state = dev._dev.state
    assert state.session is not None
    state.session = replace(state.session, f_cnt_up=0xFFFFFFFF)
    assert next_tx(dev).f_cnt == 0xFFFFFFFF
    wake = dev.next_wakeup_ns()
    assert wake is not None
    assert dev.next_transmission(wake) is None
    assert dev.stopped is not None and "FCntUp" in dev.stopped
    assert dev.next_wakeup_ns() is None
