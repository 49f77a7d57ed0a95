"""KR920-923 (KR920): RP002-1.0.4 section 2.11.

2.11.2 default channels, 2.11.3 data rates DR0..DR5 and TXPower 0..7, 2.11.4 CFList type 0,
2.11.6 maximum payload sizes, 2.11.7 receive windows, 2.11.8 class B. Korea requires
listen-before-talk instead of a duty cycle, so no duty-cycle band is listed.
"""

from __future__ import annotations

from typing import Final

from appliance.lorawan.regions.common import (
    CFListType,
    Channel,
    ClassBChannel,
    DynamicChannelPlan,
    Rx1DataRateTable,
    lora,
    subtracting_rows,
    tx_power_steps,
)
from appliance.lorawan.regions.region import Region

KR920: Final = Region(
    name="KR920",
    common_name="KR920-923",
    section="2.11",
    min_frequency_hz=920_900_000,
    max_frequency_hz=923_300_000,
    data_rates=(
        lora(0, 12, 125, 59),
        lora(1, 11, 125, 59),
        lora(2, 10, 125, 59),
        lora(3, 9, 125, 123),
        lora(4, 8, 125, 250),
        lora(5, 7, 125, 250),
    ),
    rx1_data_rates=Rx1DataRateTable(subtracting_rows(range(6), offsets=6, floor=0)),
    channel_plan=DynamicChannelPlan(
        default_channels=(
            Channel(922_100_000, 0, 5),
            Channel(922_300_000, 0, 5),
            Channel(922_500_000, 0, 5),
        )
    ),
    cflist_type=CFListType.FREQUENCIES,
    rx2_frequency_hz=921_900_000,
    rx2_data_rate=0,
    default_max_eirp_dbm=14.0,
    tx_power_backoff_db=tx_power_steps(8),
    beacon=ClassBChannel(3, (923_100_000,)),
    ping_slot=ClassBChannel(3, (923_100_000,)),
    notes=(
        "Below 922 MHz the transmit power is capped at 10 dBm EIRP whatever TXPower says.",
        "Listen-before-talk is required by Korean regulation.",
    ),
)
