"""Class A receive windows: timing, frequency and data rate, and refusals outside them."""

from __future__ import annotations

import pytest

from appliance.devicesim import ABP, Refusal
from appliance.lorawan.maccommands import DlChannelReq, RXParamSetupReq, RXTimingSetupReq

from .network import (
    ABP_KEYS_10,
    DEV_ADDR,
    MS,
    S,
    abp_config,
    deliver,
    device,
    exchange,
    joined,
    next_tx,
    otaa_config,
    window,
)


def test_data_windows_open_receive_delay_after_the_uplink() -> None:
    dev = device(abp_config(rx_window_margin_ms=15))
    tx = next_tx(dev)
    rx1, rx2 = dev.receive_windows()
    assert (rx1.name, rx1.frequency, rx1.data_rate) == ("RX1", tx.frequency, 5)
    assert (rx2.name, rx2.frequency, rx2.data_rate) == ("RX2", 869_525_000, 0)
    assert rx1.open_ns == tx.end_ns + 1 * S - 15 * MS
    assert rx2.open_ns == tx.end_ns + 2 * S - 15 * MS
    # Open long enough to detect a preamble: the margin plus six symbols (SF7: 1.024 ms each).
    assert rx1.close_ns - rx1.open_ns == 30 * MS + 6 * 1_024_000


def test_rx1_data_rate_follows_the_offset_and_rx2_the_session() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    commands = (RXParamSetupReq(rx1_dr_offset=3, rx2_data_rate=2, frequency_hz=869_525_000),)
    assert exchange(dev, network, commands=commands)[1].accepted
    next_tx(dev)
    assert window(dev, "RX1").data_rate == 2  # DR5 - 3
    assert window(dev, "RX2").data_rate == 2


def test_rx_timing_setup_moves_both_windows() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    assert exchange(dev, network, commands=(RXTimingSetupReq(delay=4),))[1].accepted
    tx = next_tx(dev)
    assert window(dev, "RX1").open_ns == tx.end_ns + 4 * S - 20 * MS
    assert window(dev, "RX2").open_ns == tx.end_ns + 5 * S - 20 * MS


def test_dl_channel_moves_rx1_of_that_channel_only() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    commands = tuple(DlChannelReq(ch_index=i, frequency_hz=869_100_000) for i in range(3))
    assert exchange(dev, network, commands=commands)[1].accepted
    next_tx(dev)
    assert window(dev, "RX1").frequency == 869_100_000


def test_us915_rx1_uses_the_downlink_channel_and_table() -> None:
    dev = device(abp_config(region="US915", sub_bands=(1,), data_rate=2))
    tx = next_tx(dev)
    assert window(dev, "RX1").frequency == 923_300_000 + 600_000 * (tx.channel % 8)
    assert window(dev, "RX1").data_rate == 12  # DR2 with offset 0
    assert (window(dev, "RX2").frequency, window(dev, "RX2").data_rate) == (923_300_000, 8)


@pytest.mark.parametrize(("dwell", "rx1_rate"), [(False, 1), (True, 2)])
def test_as923_downlink_dwell_time_selects_the_rx1_table(dwell: bool, rx1_rate: int) -> None:
    activation = ABP(DEV_ADDR, ABP_KEYS_10, rx1_dr_offset=1)
    config = abp_config(
        region="AS923", data_rate=2, downlink_dwell_time=dwell, activation=activation
    )
    dev = device(config)
    next_tx(dev)
    # The dwell-time table floors at DR2 where the ordinary one goes on down.
    assert window(dev, "RX1").data_rate == rx1_rate


@pytest.mark.parametrize(
    ("shift", "frequency_delta", "data_rate_delta", "refusal"),
    [
        (-1 * S, 0, 0, Refusal.NOT_IN_WINDOW),
        (+500 * MS, 0, 0, Refusal.NOT_IN_WINDOW),
        (0, 200_000, 0, Refusal.WRONG_FREQUENCY),
        (0, 0, -1, Refusal.WRONG_DATA_RATE),
    ],
)
def test_frames_outside_the_windows_are_refused(
    shift: int, frequency_delta: int, data_rate_delta: int, refusal: Refusal
) -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    next_tx(dev)
    rx1 = window(dev, "RX1")
    phy = network.downlink(f_port=1, payload=b"x")
    result = dev.on_downlink(
        phy,
        rx1.frequency + frequency_delta,
        rx1.data_rate + data_rate_delta,
        rx1.open_ns + 20 * MS + shift,
    )
    assert (result.accepted, result.refusal) == (False, refusal)
    assert result.reason
    assert dev.session is not None and dev.session.n_f_cnt_down == 0


def test_window_edges_are_inclusive() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    next_tx(dev)
    rx2 = window(dev, "RX2")
    assert dev.on_downlink(network.downlink(), rx2.frequency, 0, rx2.close_ns).accepted


def test_a_frame_in_rx1_closes_both_windows() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    next_tx(dev)
    rx2 = window(dev, "RX2")
    assert deliver(dev, network.downlink()).accepted
    assert dev.receive_windows() == ()
    late = dev.on_downlink(network.downlink(), rx2.frequency, rx2.data_rate, rx2.open_ns)
    assert late.refusal is Refusal.NOT_IN_WINDOW


def test_a_frame_for_another_device_leaves_rx2_open() -> None:
    from appliance.lorawan.identifiers import DevAddr  # noqa: PLC0415

    dev, network, _ = joined(otaa_config("1.0.3"))
    next_tx(dev)
    stranger = network.downlink(dev_addr=DevAddr("01020304"))
    assert deliver(dev, stranger).refusal is Refusal.DEV_ADDR_MISMATCH
    network.n_f_cnt_down = 0
    assert deliver(dev, network.downlink(), "RX2").accepted


def test_no_transmission_before_the_windows_close() -> None:
    dev = device(abp_config(uplink_interval_s=0.001))
    next_tx(dev)
    rx2 = window(dev, "RX2")
    assert dev.next_transmission(rx2.close_ns - 1) is None
    wake = dev.next_wakeup_ns()
    assert wake is not None and wake >= rx2.close_ns
    assert dev.next_transmission(wake) is not None
