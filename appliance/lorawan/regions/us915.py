"""US902-928 (US915): RP002-1.0.4 section 2.5.

2.5.2 the fixed channel plan (see ``fixed``), 2.5.3 data rates (DR0..DR6 uplink only, DR5 and
DR6 LR-FHSS; DR8..DR13 downlink only) and TXPower 0..14, 2.5.4 CFList type 1 (channel mask),
2.5.6 maximum payload sizes, 2.5.7 receive windows, 2.5.8 class B (beacon and ping slots hop
over the 8 downlink channels). FCC rules limit dwell time to 400 ms; the single payload table
already respects it, so there is no separate dwell-time table and no TxParamSetupReq.
"""

from __future__ import annotations

from typing import Final

from appliance.lorawan.regions.common import (
    CFListType,
    ClassBChannel,
    Rx1DataRateTable,
    lora,
    lr_fhss,
    tx_power_steps,
)
from appliance.lorawan.regions.fixed import FixedChannelPlan, SubBand
from appliance.lorawan.regions.region import Region

PLAN: Final = FixedChannelPlan(
    first_125khz_hz=902_300_000,
    data_rates_125khz=(0, 3),
    join_data_rate_125khz=0,
    first_500khz_hz=903_000_000,
    data_rates_500khz=(4, 6),
    join_data_rate_500khz=4,
)

BEACON_RULE: Final = (
    "hops over the 8 downlink channels: channel = floor(beacon_time / 128 s) mod 8, "
    "frequency = 923.3 MHz + channel * 600 kHz"
)
PING_SLOT_RULE: Final = (
    "hops over the 8 downlink channels: channel = (DevAddr + floor(beacon_time / 128 s)) mod 8"
)


def sub_band(number: int) -> SubBand:
    """The channel frequencies of sub-band ``number`` (1..8) of US915."""
    return PLAN.sub_band(number)


US915: Final = Region(
    name="US915",
    common_name="US902-928",
    section="2.5",
    min_frequency_hz=902_000_000,
    max_frequency_hz=928_000_000,
    data_rates=(
        lora(0, 10, 125, 19, downlink=False),
        lora(1, 9, 125, 61, downlink=False),
        lora(2, 8, 125, 133, downlink=False),
        lora(3, 7, 125, 250, downlink=False),
        lora(4, 8, 500, 250, downlink=False),
        lr_fhss(5, "1/3", 1523, 58),
        lr_fhss(6, "2/3", 1523, 133),
        lora(8, 12, 500, 61, uplink=False),
        lora(9, 11, 500, 137, uplink=False),
        lora(10, 10, 500, 250, uplink=False),
        lora(11, 9, 500, 250, uplink=False),
        lora(12, 8, 500, 250, uplink=False),
        lora(13, 7, 500, 250, uplink=False),
    ),
    rx1_data_rates=Rx1DataRateTable(
        (
            (0, (10, 9, 8, 8)),
            (1, (11, 10, 9, 8)),
            (2, (12, 11, 10, 9)),
            (3, (13, 12, 11, 10)),
            (4, (13, 13, 12, 11)),
            (5, (10, 9, 8, 8)),
            (6, (11, 10, 9, 8)),
        )
    ),
    channel_plan=PLAN,
    cflist_type=CFListType.CHANNEL_MASK,
    rx2_frequency_hz=923_300_000,
    rx2_data_rate=8,
    default_max_eirp_dbm=30.0,
    tx_power_backoff_db=tx_power_steps(15),
    beacon=ClassBChannel(8, tuple(c.frequency_hz for c in PLAN.downlink_channels()), BEACON_RULE),
    ping_slot=ClassBChannel(
        8, tuple(c.frequency_hz for c in PLAN.downlink_channels()), PING_SLOT_RULE
    ),
    dwell_time_limit_ms=400,
    notes=("Joins alternate 125 kHz channels at DR0 and 500 kHz channels at DR4.",),
)
