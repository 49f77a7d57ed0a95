"""Data uplinks: interval, counters, FOpts and FPort 0, NbTrans, confirmed retransmission."""

from __future__ import annotations

import itertools

from appliance.devicesim import FSKParameters, LoRaParameters, TransmissionKind
from appliance.lorawan.airtime import lora_time_on_air
from appliance.lorawan.maccommands import (
    DutyCycleReq,
    LinkADRReq,
    LinkCheckReq,
    NewChannelReq,
    RXParamSetupReq,
)

from .network import (
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


def test_uplinks_follow_the_interval_and_count_up() -> None:
    dev = device(abp_config(uplink_interval_s=30, payload=lambda f_cnt: bytes([f_cnt])))
    sent = [next_tx(dev) for _ in range(3)]
    assert [tx.f_cnt for tx in sent] == [0, 1, 2]
    assert [tx.application_payload for tx in sent] == [b"\x00", b"\x01", b"\x02"]
    assert [tx.start_ns for tx in sent] == [0, 30 * S, 60 * S]
    assert dev.next_transmission(90 * S - 1) is None


def test_jitter_spreads_uplinks_within_its_bound() -> None:
    dev = device(abp_config(uplink_interval_s=30, uplink_jitter_s=5))
    starts = [next_tx(dev).start_ns for _ in range(6)]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(30 * S <= gap <= 35 * S for gap in gaps)
    assert len(set(gaps)) > 1


def test_radio_parameters_of_a_transmission() -> None:
    dev = device(abp_config(data_rate=5, tx_power=2))
    tx = next_tx(dev)
    assert tx.kind is TransmissionKind.DATA
    assert tx.modulation == LoRaParameters(7, 125_000)
    assert tx.tx_power_dbm == 16 - 4
    assert tx.frequency in (868_100_000, 868_300_000, 868_500_000)
    expected = lora_time_on_air(len(tx.phy_payload), 7, 125_000)
    assert abs(tx.time_on_air_ns - expected * S) < 1


def test_mac_answers_up_to_15_bytes_ride_in_f_opts() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    dev.request_link_check()
    uplink = network.read_uplink(next_tx(dev))
    assert uplink.commands == (LinkCheckReq(),)
    assert uplink.frame.f_opts and uplink.payload == b"\x01\x02"


def test_more_than_15_bytes_of_answers_go_on_fport_0_before_the_payload() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    requests = tuple(
        RXParamSetupReq(rx1_dr_offset=0, rx2_data_rate=0, frequency_hz=869_525_000)
        for _ in range(8)
    ) + tuple(NewChannelReq(ch_index=3 + i, frequency_hz=0, min_dr=0, max_dr=0) for i in range(8))
    assert exchange(dev, network, commands=requests, on_port_0=True)[1].accepted
    mac_frame = network.read_uplink(next_tx(dev))
    assert mac_frame.frame.f_port == 0 and mac_frame.frame.f_opts == b""
    assert len(mac_frame.commands) == 16
    data = network.read_uplink(next_tx(dev))
    assert data.frame.f_port == 1 and data.payload == b"\x01\x02"
    # The sticky RXParamSetupAns repeat, as many as FOpts holds: the payload is not held back.
    assert data.commands == mac_frame.commands[:7]


def test_payload_too_long_for_the_data_rate_is_dropped_and_counted() -> None:
    dev = device(abp_config(data_rate=0, payload=bytes(60)))
    tx = next_tx(dev)
    assert tx.application_payload is None
    assert dev.dropped_payloads == 1


def test_nb_trans_repeats_unconfirmed_frames_until_a_downlink() -> None:
    dev, network, _ = joined(otaa_config("1.0.4", nb_trans=3, uplink_interval_s=600))
    first = next_tx(dev)
    second = next_tx(dev)
    third = next_tx(dev)
    assert [tx.f_cnt for tx in (first, second, third)] == [0, 0, 0]
    assert [tx.attempt for tx in (first, second, third)] == [1, 2, 3]
    assert first.phy_payload == second.phy_payload or first.channel != second.channel
    assert next_tx(dev).f_cnt == 1
    network.next_f_cnt_up = 1
    network.read_uplink(dev.last_transmission)  # type: ignore[arg-type]
    assert deliver(dev, network.downlink()).accepted
    assert next_tx(dev).f_cnt == 2  # the downlink ended the repetitions of FCnt 1


def test_confirmed_uplink_is_retransmitted_until_acknowledged() -> None:
    dev, network, _ = joined(otaa_config("1.0.4", confirmed=True, nb_trans=4))
    first = next_tx(dev)
    rx2_end = window(dev, "RX2").close_ns
    retry = next_tx(dev)
    assert (first.f_cnt, retry.f_cnt, retry.attempt) == (0, 0, 2)
    assert first.confirmed and retry.confirmed
    # RETRANSMIT_TIMEOUT (1..3 s) after RECEIVE_DELAY2.
    assert retry.start_ns >= first.end_ns + 2 * S + 1 * S
    assert retry.start_ns >= rx2_end
    network.read_uplink(retry)
    result = deliver(dev, network.downlink(ack=True))
    assert result.ack
    assert next_tx(dev).f_cnt == 1


def test_confirmed_uplink_gives_up_after_the_allowed_transmissions() -> None:
    dev, _, _ = joined(otaa_config("1.0.4", confirmed=True, confirmed_transmissions=3))
    sent = [next_tx(dev) for _ in range(4)]
    assert [tx.f_cnt for tx in sent] == [0, 0, 0, 1]


def test_1_0_3_confirmed_retransmissions_step_the_data_rate_down() -> None:
    dev, _, _ = joined(otaa_config("1.0.3", confirmed=True, data_rate=5))
    sent = [next_tx(dev) for _ in range(9)]
    assert [tx.data_rate for tx in sent[:8]] == [5, 5, 4, 4, 3, 3, 2, 2]
    assert {tx.f_cnt for tx in sent[:8]} == {0}
    assert (sent[8].f_cnt, sent[8].data_rate) == (1, 2)  # later frames keep the last rate


def test_regional_duty_cycle_spaces_uplinks_in_one_sub_band() -> None:
    dev = device(abp_config(duty_cycle=True, data_rate=0, uplink_interval_s=1))
    first = next_tx(dev)
    second = next_tx(dev)
    # EU868 default channels share sub-band g1 (1 %): 99 times the air time off.
    assert second.start_ns - first.start_ns >= 100 * first.time_on_air_ns - 1


def test_duty_cycle_req_limits_the_aggregated_duty_cycle() -> None:
    dev, network, _ = joined(otaa_config("1.0.3", uplink_interval_s=1))
    assert exchange(dev, network, commands=(DutyCycleReq(max_duty_cycle=7),))[1].accepted
    first = next_tx(dev)
    second = next_tx(dev)
    assert second.start_ns - first.start_ns >= 128 * first.time_on_air_ns - 1


def test_link_adr_changes_apply_to_the_next_uplink() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    command = LinkADRReq(data_rate=3, tx_power=1, ch_mask=0b010, ch_mask_cntl=0, nb_trans=1)
    assert exchange(dev, network, commands=(command,))[1].accepted
    tx = next_tx(dev)
    assert (tx.data_rate, tx.frequency, tx.tx_power_dbm) == (3, 868_300_000, 14.0)


def test_fsk_channel_added_then_removed_falls_back_to_a_carried_rate() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    add = (
        NewChannelReq(3, 868_800_000, 7, 7),
        LinkADRReq(data_rate=7, tx_power=0, ch_mask=0b1000, ch_mask_cntl=0, nb_trans=1),
    )
    assert exchange(dev, network, commands=add)[1].accepted
    fsk = next_tx(dev)
    assert (fsk.data_rate, fsk.modulation, fsk.frequency) == (7, FSKParameters(50_000), 868_800_000)
    network.read_uplink(fsk)
    assert deliver(dev, network.downlink(commands=(NewChannelReq(3, 0, 0, 0),))).accepted
    tx = next_tx(dev)
    assert tx.data_rate == 5 and dev.settings.data_rate == 5
    assert tx.frequency in (868_100_000, 868_300_000, 868_500_000)


def test_trigger_uplink_brings_the_next_uplink_forward() -> None:
    dev = device(abp_config(uplink_interval_s=3600))
    next_tx(dev)
    dev.trigger_uplink(10 * S)
    assert next_tx(dev).start_ns == 10 * S
