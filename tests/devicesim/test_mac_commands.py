"""Every MAC command a class A device handles: the answer it queues and what it changes.

Each case drives a joined device end to end: an uplink, a downlink carrying the requests, then
the answers read back from the next uplink by the network side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from appliance.devicesim import EndDevice
from appliance.lorawan.maccommands import (
    ADRParamSetupAns,
    ADRParamSetupReq,
    DeviceTimeAns,
    DeviceTimeReq,
    DevStatusAns,
    DevStatusReq,
    DlChannelAns,
    DlChannelReq,
    DutyCycleAns,
    DutyCycleReq,
    LinkCheckAns,
    LinkCheckReq,
    MACCommand,
    NewChannelAns,
    NewChannelReq,
    PingSlotChannelReq,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
    RXParamSetupAns,
    RXParamSetupReq,
    RXTimingSetupAns,
    RXTimingSetupReq,
    TxParamSetupAns,
    TxParamSetupReq,
)

from .network import S, deliver, exchange, joined, next_tx, otaa_config


@dataclass(frozen=True)
class Case:
    name: str
    commands: tuple[MACCommand, ...]
    answers: tuple[MACCommand, ...]
    check: Callable[[EndDevice], bool] = lambda dev: True
    version: str = "1.0.3"
    region: str = "EU868"
    snr_db: float = 0.0


def _channel(dev: EndDevice, index: int) -> tuple[int, int, int, int | None] | None:
    for channel in dev.channels:
        if channel.index == index:
            return (channel.frequency, channel.min_dr, channel.max_dr, channel.rx1_frequency)
    return None


RX2 = 869_525_000
CASES = [
    Case(
        "DutyCycleReq",
        (DutyCycleReq(3),),
        (DutyCycleAns(),),
        lambda dev: dev.settings.max_duty_cycle == 3,
    ),
    Case(
        "RXParamSetupReq accepted",
        (RXParamSetupReq(2, 3, 869_100_000),),
        (RXParamSetupAns(True, True, True),),
        lambda dev: (
            (dev.settings.rx1_dr_offset, dev.settings.rx2_data_rate, dev.settings.rx2_frequency)
            == (2, 3, 869_100_000)
        ),
    ),
    Case(
        "RXParamSetupReq offset undefined in EU868",
        (RXParamSetupReq(6, 3, RX2),),
        (RXParamSetupAns(False, True, True),),
        lambda dev: dev.settings.rx2_data_rate == 0,
    ),
    Case(
        "RXParamSetupReq LR-FHSS RX2 rate",
        (RXParamSetupReq(0, 8, RX2),),
        (RXParamSetupAns(True, False, True),),
    ),
    Case(
        "RXParamSetupReq frequency outside the band",
        (RXParamSetupReq(0, 3, 902_300_000),),
        (RXParamSetupAns(True, True, False),),
        lambda dev: dev.settings.rx2_frequency == RX2,
    ),
    Case(
        "RXParamSetupReq US915 off the downlink raster",
        (RXParamSetupReq(0, 8, 923_500_000),),
        (RXParamSetupAns(True, True, False),),
        region="US915",
    ),
    Case("DevStatusReq margin", (DevStatusReq(),), (DevStatusAns(200, 8),), snr_db=7.6),
    Case("DevStatusReq margin floor", (DevStatusReq(),), (DevStatusAns(200, -32),), snr_db=-40),
    Case("DevStatusReq margin ceiling", (DevStatusReq(),), (DevStatusAns(200, 31),), snr_db=45),
    Case(
        "NewChannelReq adds a channel",
        (NewChannelReq(3, 867_100_000, 0, 5),),
        (NewChannelAns(True, True),),
        lambda dev: _channel(dev, 3) == (867_100_000, 0, 5, None),
    ),
    Case(
        "NewChannelReq cannot change a default channel",
        (NewChannelReq(1, 867_100_000, 0, 5),),
        (NewChannelAns(False, False),),
        lambda dev: _channel(dev, 1) == (868_300_000, 0, 5, None),
    ),
    Case(
        "NewChannelReq frequency outside the band",
        (NewChannelReq(4, 870_500_000, 0, 5),),
        (NewChannelAns(True, False),),
        lambda dev: _channel(dev, 4) is None,
    ),
    Case(
        "NewChannelReq inverted data-rate range",
        (NewChannelReq(4, 867_500_000, 5, 2),),
        (NewChannelAns(False, True),),
    ),
    Case(
        "NewChannelReq frequency 0 removes the channel",
        (NewChannelReq(3, 867_100_000, 0, 5), NewChannelReq(3, 0, 0, 0)),
        (NewChannelAns(True, True), NewChannelAns(True, True)),
        lambda dev: _channel(dev, 3) is None,
    ),
    Case(
        "NewChannelReq is not implemented in US915",
        (NewChannelReq(3, 903_100_000, 0, 3), DevStatusReq()),
        (DevStatusAns(200, 0),),
        region="US915",
    ),
    Case(
        "DlChannelReq",
        (DlChannelReq(0, 869_100_000),),
        (DlChannelAns(True, True),),
        lambda dev: _channel(dev, 0) == (868_100_000, 0, 5, 869_100_000),
    ),
    Case(
        "DlChannelReq for an undefined channel",
        (DlChannelReq(9, 869_100_000),),
        (DlChannelAns(False, True),),
    ),
    Case(
        "DlChannelReq frequency outside the band",
        (DlChannelReq(0, 915_000_000),),
        (DlChannelAns(True, False),),
        lambda dev: _channel(dev, 0) == (868_100_000, 0, 5, None),
    ),
    Case(
        "RXTimingSetupReq 0 means one second",
        (RXTimingSetupReq(0),),
        (RXTimingSetupAns(),),
        lambda dev: dev.settings.rx1_delay_s == 1,
    ),
    Case(
        "RXTimingSetupReq",
        (RXTimingSetupReq(5),),
        (RXTimingSetupAns(),),
        lambda dev: dev.settings.rx1_delay_s == 5,
    ),
    Case(
        "TxParamSetupReq is ignored where the region lacks it",
        (TxParamSetupReq(True, True, 2), DutyCycleReq(1)),
        (DutyCycleAns(),),
        lambda dev: not dev.settings.uplink_dwell_time,
    ),
    Case(
        "TxParamSetupReq in AS923",
        (TxParamSetupReq(False, False, 5),),
        (TxParamSetupAns(),),
        lambda dev: (
            (
                dev.settings.uplink_dwell_time,
                dev.settings.downlink_dwell_time,
                dev.settings.max_eirp_dbm,
            )
            == (False, False, 16.0)
        ),
        region="AS923",
    ),
    Case(
        "LinkCheckAns is recorded",
        (LinkCheckAns(12, 3),),
        (),
        lambda dev: dev.link_check == LinkCheckAns(12, 3),
    ),
    Case(
        "DeviceTimeAns is recorded",
        (DeviceTimeAns(1_300_000_000, 128),),
        (),
        lambda dev: dev.device_time is not None and dev.device_time.answer.gps_seconds > 0,
    ),
    Case(
        "DeviceTimeAns is unknown to 1.0.2 and stops processing",
        (DeviceTimeAns(1_300_000_000, 0), DevStatusReq()),
        (),
        lambda dev: dev.device_time is None,
        version="1.0.2",
    ),
    Case(
        "1.1-only commands are unknown to a 1.0 device",
        (ADRParamSetupReq(3, 2), DevStatusReq()),
        (),
        lambda dev: dev.settings.adr_ack_limit == 64,
    ),
    Case(
        "ADRParamSetupReq",
        (ADRParamSetupReq(3, 2),),
        (ADRParamSetupAns(),),
        lambda dev: (dev.settings.adr_ack_limit, dev.settings.adr_ack_delay) == (8, 4),
        version="1.1",
    ),
    Case(
        "RejoinParamSetupReq",
        (RejoinParamSetupReq(max_time_n=4, max_count_n=2),),
        (RejoinParamSetupAns(time_ok=True),),
        version="1.1",
    ),
    Case(
        "class B commands are not implemented and stop processing",
        (PingSlotChannelReq(869_525_000, 3), DevStatusReq()),
        (),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_mac_command(case: Case) -> None:
    config = otaa_config(case.version, region=case.region, battery=200)
    dev, network, _ = joined(config)
    if case.version == "1.1":
        network.read_uplink(next_tx(dev))  # skip past the RekeyInd-only uplink shape
    _, result = exchange(dev, network, commands=case.commands, snr_db=case.snr_db)
    assert result.accepted
    assert result.mac_answers == case.answers
    assert case.check(dev)
    carried = network.read_uplink(next_tx(dev)).commands
    rekey = tuple(c for c in carried if c.name == "RekeyInd")
    assert carried[len(rekey) :] == case.answers


def test_battery_level_is_reported() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    dev.set_battery(0)
    _, result = exchange(dev, network, commands=(DevStatusReq(),), snr_db=-3.4)
    assert result.mac_answers == (DevStatusAns(0, -3),)
    with pytest.raises(ValueError, match=r"0\.\.255"):
        dev.set_battery(300)


def test_the_same_commands_on_fport_0() -> None:
    dev, network, _ = joined(otaa_config("1.0.3", battery=0))
    _, result = exchange(dev, network, commands=(DevStatusReq(),), on_port_0=True)
    assert result.mac_answers == (DevStatusAns(0, 0),)


def test_sticky_answers_repeat_until_a_downlink_and_others_go_once() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    requests = (RXParamSetupReq(0, 0, RX2), DevStatusReq(), RXTimingSetupReq(1))
    exchange(dev, network, commands=requests)
    sticky = (RXParamSetupAns(True, True, True), RXTimingSetupAns())
    assert network.read_uplink(next_tx(dev)).commands == (*sticky, DevStatusAns(255, 0))
    assert network.read_uplink(next_tx(dev)).commands == sticky
    uplink, result = exchange(dev, network)
    assert uplink.commands == sticky and result.accepted
    assert network.read_uplink(next_tx(dev)).commands == ()


def test_device_requests_go_in_the_next_uplink() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    dev.request_link_check()
    dev.request_device_time()
    uplink = network.read_uplink(next_tx(dev))
    assert uplink.commands == (LinkCheckReq(), DeviceTimeReq())
    answers = (LinkCheckAns(20, 2), DeviceTimeAns(1_000_000_000, 64))
    assert deliver(dev, network.downlink(commands=answers)).accepted
    assert dev.link_check == LinkCheckAns(20, 2)
    time = dev.device_time
    assert time is not None and dev.last_transmission is not None
    assert time.gps_time_at(time.uplink_end_ns + 2 * S) == pytest.approx(1_000_000_002.25)
    assert network.read_uplink(next_tx(dev)).commands == ()


def test_device_time_req_needs_1_0_3() -> None:
    dev, _, _ = joined(otaa_config("1.0.2"))
    with pytest.raises(ValueError, match=r"1\.0\.3"):
        dev.request_device_time()
