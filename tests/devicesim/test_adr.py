"""ADR on the device: ADRACKReq, the back-off without downlinks, and what resets it."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.devicesim import EndDevice
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import DataFrame
from appliance.lorawan.maccommands import ADRParamSetupReq, LinkADRReq, RekeyConf

from .network import (
    ABP_KEYS_10,
    Network,
    abp_config,
    device,
    exchange,
    joined,
    next_tx,
    otaa_config,
)


@dataclass(frozen=True)
class Row:
    """One new uplink as the network sees it."""

    adr_ack_req: bool
    data_rate: int
    tx_power_dbm: float
    transmissions: int
    frequencies: frozenset[int]


def _rows(dev: EndDevice, count: int) -> list[Row]:
    rows: list[Row] = []
    current: list[tuple[bool, int, float, int]] = []
    while len(rows) < count:
        tx = next_tx(dev)
        frame = decode_phy_payload(tx.phy_payload)
        assert isinstance(frame, DataFrame)
        if tx.attempt == 1 and current:
            rows.append(_row(current))
            current = []
        current.append((frame.f_ctrl.adr_ack_req, tx.data_rate, tx.tx_power_dbm, tx.frequency))
    return rows


def _row(sent: list[tuple[bool, int, float, int]]) -> Row:
    req, rate, power, _ = sent[0]
    return Row(req, rate, power, len(sent), frozenset(f for *_, f in sent))


def test_back_off_follows_table_9_of_lorawan_1_0_4() -> None:
    dev = device(abp_config("1.0.4", uplink_interval_s=1))
    network = Network(keys=ABP_KEYS_10)
    request = LinkADRReq(data_rate=1, tx_power=3, ch_mask=0b1, ch_mask_cntl=0, nb_trans=3)
    assert exchange(dev, network, commands=(request,))[1].mac_answers
    rows = _rows(dev, 170)
    table = [
        (range(64), False, 1, 10.0, 3),
        (range(64, 96), True, 1, 10.0, 3),
        (range(96, 128), True, 1, 16.0, 3),
        (range(128, 160), True, 0, 16.0, 3),
        (range(160, 170), True, 0, 16.0, 1),
    ]
    for counts, req, rate, power, transmissions in table:
        for count in counts:
            row = rows[count]
            assert (row.adr_ack_req, row.data_rate, row.tx_power_dbm, row.transmissions) == (
                req,
                rate,
                power,
                transmissions,
            ), count
    assert {f for row in rows[:160] for f in row.frequencies} == {868_100_000}
    # At the default data rate the default channels come back.
    assert {f for row in rows[160:] for f in row.frequencies} - {868_100_000}


def test_a_downlink_resets_the_counter() -> None:
    dev, network, _ = joined(otaa_config("1.0.4", uplink_interval_s=1))
    for _ in range(64):
        network.read_uplink(next_tx(dev))
    assert dev.adr_ack_cnt == 64
    uplink, result = exchange(dev, network)
    assert uplink.frame.f_ctrl.adr_ack_req and result.accepted
    assert dev.adr_ack_cnt == 0
    assert not network.read_uplink(next_tx(dev)).frame.f_ctrl.adr_ack_req


def test_adr_off_never_asks_and_never_backs_off() -> None:
    dev = device(abp_config("1.0.4", adr=False, data_rate=4, uplink_interval_s=1))
    rows = _rows(dev, 200)
    assert not any(row.adr_ack_req for row in rows)
    assert {row.data_rate for row in rows} == {4}


def test_1_0_3_does_not_ask_at_the_lowest_data_rate() -> None:
    dev = device(abp_config("1.0.3", data_rate=0, uplink_interval_s=1))
    assert not any(row.adr_ack_req for row in _rows(dev, 80))


def test_1_1_does_not_ask_at_default_rate_and_power() -> None:
    config = abp_config("1.1", data_rate=0, uplink_interval_s=1)
    assert not any(row.adr_ack_req for row in _rows(device(config), 80))
    lowered = abp_config("1.1", data_rate=0, tx_power=2, uplink_interval_s=1)
    rows = _rows(device(lowered), 80)
    assert rows[64].adr_ack_req and not rows[63].adr_ack_req


def test_1_0_4_asks_even_at_the_default_data_rate() -> None:
    dev = device(abp_config("1.0.4", data_rate=0, uplink_interval_s=1))
    rows = _rows(dev, 70)
    assert rows[64].adr_ack_req and not rows[63].adr_ack_req


def test_adr_param_setup_changes_limit_and_delay() -> None:
    dev, network, _ = joined(otaa_config("1.1", uplink_interval_s=1))
    commands = (RekeyConf(minor=1), ADRParamSetupReq(limit_exp=2, delay_exp=1))
    assert exchange(dev, network, commands=commands)[1].accepted
    rows = _rows(dev, 10)
    assert [row.adr_ack_req for row in rows[:6]] == [False] * 4 + [True] * 2
    # The first step down comes at ADR_ACK_LIMIT + 2 * ADR_ACK_DELAY = 8.
    assert (rows[7].data_rate, rows[8].data_rate) == (5, 4)
