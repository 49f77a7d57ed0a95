"""LinkADRReq: atomic blocks, per-bit answers, and the regional ChMaskCntl rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from appliance.devicesim import DeviceConfig, LoRaWANVersion, RadioSettings
from appliance.devicesim.channels import ChannelTable, UplinkChannel
from appliance.devicesim.linkadr import apply_link_adr_block
from appliance.lorawan.maccommands import LinkADRAns, LinkADRReq
from appliance.lorawan.regions import get_region

from .network import exchange, joined, next_tx, otaa_config

EU868 = get_region("EU868")
US915 = get_region("US915")


def _settings(region_name: str, config: DeviceConfig | None = None) -> RadioSettings:
    region = get_region(region_name)
    return RadioSettings.initial(config or otaa_config(region=region_name), region)


def _eu868_with_extra_channels() -> ChannelTable:
    table = ChannelTable.initial(EU868)
    for index, frequency in ((3, 867_100_000), (4, 867_300_000)):
        table = table.with_channel(index, UplinkChannel(index, frequency, 0, 5))
    return table


def _req(
    dr: int = 3, power: int = 2, mask: int = 0b11111, cntl: int = 0, nb: int = 2
) -> LinkADRReq:
    return LinkADRReq(data_rate=dr, tx_power=power, ch_mask=mask, ch_mask_cntl=cntl, nb_trans=nb)


def _run(
    block: tuple[LinkADRReq, ...],
    *,
    region_name: str = "EU868",
    version: LoRaWANVersion = LoRaWANVersion.V1_0_4,
    adr: bool = True,
    table: ChannelTable | None = None,
) -> tuple[LinkADRAns, RadioSettings, ChannelTable]:
    region = get_region(region_name)
    settings = _settings(region_name)
    channels = table or (
        _eu868_with_extra_channels() if region_name == "EU868" else ChannelTable.initial(region)
    )
    outcome = apply_link_adr_block(
        block, settings=settings, channels=channels, region=region, version=version, adr=adr
    )
    return outcome.answer, outcome.settings, outcome.channels


ALL_OK = LinkADRAns(power_ack=True, data_rate_ack=True, channel_mask_ack=True)


@pytest.mark.parametrize(
    ("block", "answer"),
    [
        ((_req(),), ALL_OK),
        ((_req(mask=0b100000),), LinkADRAns(True, True, False)),  # channel 5 is undefined
        ((_req(mask=0),), LinkADRAns(True, True, False)),  # every channel off
        ((_req(cntl=3),), LinkADRAns(True, True, False)),  # RFU in dynamic plans
        ((_req(cntl=6, mask=0),), ALL_OK),  # all defined channels on, ChMask ignored
        ((_req(dr=6, mask=0b1),), LinkADRAns(True, False, True)),  # channel 0 stops at DR5
        ((_req(dr=9),), LinkADRAns(True, False, True)),  # LR-FHSS: not for this device
        ((_req(power=8),), LinkADRAns(False, True, True)),  # EU868 has TXPower 0..7
    ],
)
def test_eu868_answers(block: tuple[LinkADRReq, ...], answer: LinkADRAns) -> None:
    got, settings, channels = _run(block)
    assert got == answer
    if answer == ALL_OK:
        assert (settings.data_rate, settings.tx_power, settings.nb_trans) == (3, 2, 2)
    else:
        # Atomic: a single refused part leaves everything as it was.
        assert settings == _settings("EU868")
        assert channels == _eu868_with_extra_channels()


def test_channel_mask_applies_exactly() -> None:
    _, _, channels = _run((_req(mask=0b10010),))
    assert [c.index for c in channels.enabled] == [1, 4]
    assert len(channels.defined) == 5  # disabled, not forgotten


def test_a_block_applies_masks_in_order_and_the_last_rates() -> None:
    block = (_req(dr=1, power=1, mask=0b1, nb=1), _req(cntl=6, dr=4, power=3, nb=3))
    answer, settings, channels = _run(block)
    assert answer == ALL_OK
    assert len(channels.enabled) == 5
    assert (settings.data_rate, settings.tx_power, settings.nb_trans) == (4, 3, 3)


def test_keep_current_values_from_1_0_4_on_and_rfu_before() -> None:
    keep = _req(dr=15, power=15)
    answer, settings, _ = _run((keep,))
    assert answer == ALL_OK
    assert (settings.data_rate, settings.tx_power) == (5, 0)
    answer, _, _ = _run((keep,), version=LoRaWANVersion.V1_0_3)
    assert answer == LinkADRAns(False, False, True)


def test_nb_trans_zero_means_one() -> None:
    _, settings, _ = _run((_req(nb=0),))
    assert settings.nb_trans == 1


def test_with_adr_off_only_the_channel_mask_applies() -> None:
    answer, settings, channels = _run((_req(mask=0b1),), adr=False)
    assert answer == LinkADRAns(power_ack=False, data_rate_ack=False, channel_mask_ack=True)
    assert settings == _settings("EU868")
    assert [c.index for c in channels.enabled] == [0]


@pytest.mark.parametrize(
    ("block", "enabled"),
    [
        # Only the block ChMaskCntl names changes: the other channels keep their state.
        ((_req(dr=0, cntl=0, mask=0x00FF),), [*range(8), *range(16, 72)]),
        ((_req(dr=0, cntl=7, mask=0), _req(dr=0, cntl=1, mask=0xFF00)), [*range(24, 32)]),
        ((_req(dr=4, cntl=7, mask=0b10),), [65]),
        ((_req(dr=0, cntl=6, mask=0b1),), [*range(64), 64]),
        ((_req(dr=0, cntl=5, mask=0b10),), [*range(8, 16), 65]),
        ((_req(dr=0, cntl=5, mask=0b101),), [*range(8), *range(16, 24), 64, 66]),
        (
            (_req(dr=0, cntl=7, mask=0), _req(dr=0, cntl=4, mask=0b1), _req(dr=0, cntl=0, mask=1)),
            [0, 64],
        ),
    ],
)
def test_us915_channel_mask_controls(block: tuple[LinkADRReq, ...], enabled: list[int]) -> None:
    answer, _, channels = _run(block, region_name="US915")
    assert answer == ALL_OK
    assert [c.index for c in channels.enabled] == enabled


def test_us915_data_rate_needs_an_enabled_channel_of_its_bandwidth() -> None:
    answer, _, _ = _run((_req(dr=4, cntl=7, mask=0),), region_name="US915")
    assert answer == LinkADRAns(True, True, False)  # every channel off
    answer, _, _ = _run(
        (_req(dr=4, cntl=0, mask=0xFF), _req(dr=4, cntl=4, mask=0)), region_name="US915"
    )
    assert answer == LinkADRAns(True, False, True)  # DR4 needs a 500 kHz channel


def test_au915_rates_below_dr2_are_refused_under_the_dwell_time_limit() -> None:
    answer, _, _ = _run((_req(dr=0, cntl=6, mask=0xFF),), region_name="AU915")
    assert answer == LinkADRAns(True, False, True)


def test_us915_device_follows_a_ttn_style_sub_band_block_end_to_end() -> None:
    dev, network, _ = joined(otaa_config("1.0.3", region="US915"))
    block = (
        LinkADRReq(data_rate=3, tx_power=5, ch_mask=0, ch_mask_cntl=7, nb_trans=1),
        LinkADRReq(data_rate=3, tx_power=5, ch_mask=0xFF00, ch_mask_cntl=0, nb_trans=1),
    )
    _, result = exchange(dev, network, commands=block)
    assert result.mac_answers == (ALL_OK, ALL_OK)
    assert [c.index for c in dev.enabled_channels] == [*range(8, 16)]
    frequencies = set()
    for _ in range(20):
        tx = next_tx(dev)
        frequencies.add(tx.frequency)
        assert tx.data_rate == 3 and tx.tx_power_dbm == 20.0
    assert frequencies <= {902_300_000 + 200_000 * i for i in range(8, 16)}
    assert len(frequencies) > 1  # it hops


def test_unchanged_inputs_are_not_mutated() -> None:
    table = _eu868_with_extra_channels()
    before = replace(table)
    _run((_req(mask=0b1),), table=table)
    assert table == before
