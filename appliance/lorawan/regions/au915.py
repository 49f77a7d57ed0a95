"""AU915-928 (AU915): RP002-1.0.4 section 2.8.

2.8.2 the fixed channel plan (see ``fixed``), 2.8.3 data rates (DR0..DR7 uplink only, DR7
LR-FHSS; DR8..DR13 downlink only) and TXPower 0..14, 2.8.4 CFList type 1, 2.8.6 maximum
payload sizes with and without the 400 ms uplink dwell-time limit (DR0 and DR1 cannot be used
under it), 2.8.7 receive windows, 2.8.8 class B. AU915 end-devices implement TxParamSetupReq.
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
from appliance.lorawan.regions.us915 import BEACON_RULE, PING_SLOT_RULE

PLAN: Final = FixedChannelPlan(
    first_125khz_hz=915_200_000,
    data_rates_125khz=(0, 5),
    # DR0 and DR1 are too slow for the dwell-time limit that applies until TxParamSetupReq.
    join_data_rate_125khz=2,
    first_500khz_hz=915_900_000,
    data_rates_500khz=(6, 7),
    join_data_rate_500khz=6,
)


def sub_band(number: int) -> SubBand:
    """The channel frequencies of sub-band ``number`` (1..8) of AU915."""
    return PLAN.sub_band(number)


AU915: Final = Region(
    name="AU915",
    common_name="AU915-928",
    section="2.8",
    min_frequency_hz=915_000_000,
    max_frequency_hz=928_000_000,
    data_rates=(
        lora(0, 12, 125, 59, None, downlink=False),
        lora(1, 11, 125, 59, None, downlink=False),
        lora(2, 10, 125, 59, 19, downlink=False),
        lora(3, 9, 125, 123, 61, downlink=False),
        lora(4, 8, 125, 250, 133, downlink=False),
        lora(5, 7, 125, 250, 250, downlink=False),
        lora(6, 8, 500, 250, 250, downlink=False),
        lr_fhss(7, "1/3", 1523, 58),
        lora(8, 12, 500, 61, uplink=False),
        lora(9, 11, 500, 137, uplink=False),
        lora(10, 10, 500, 250, uplink=False),
        lora(11, 9, 500, 250, uplink=False),
        lora(12, 8, 500, 250, uplink=False),
        lora(13, 7, 500, 250, uplink=False),
    ),
    rx1_data_rates=Rx1DataRateTable(
        (
            (0, (8, 8, 8, 8, 8, 8)),
            (1, (9, 8, 8, 8, 8, 8)),
            (2, (10, 9, 8, 8, 8, 8)),
            (3, (11, 10, 9, 8, 8, 8)),
            (4, (12, 11, 10, 9, 8, 8)),
            (5, (13, 12, 11, 10, 9, 8)),
            (6, (13, 13, 12, 11, 10, 9)),
            (7, (9, 8, 8, 8, 8, 8)),
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
    dwell_time_payload_tables=True,
    tx_param_setup_req=True,
    notes=(
        "End-devices start with the uplink dwell-time limit in force; joins alternate "
        "125 kHz channels at DR2 and 500 kHz channels at DR6.",
    ),
)
