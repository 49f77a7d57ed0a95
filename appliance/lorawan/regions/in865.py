"""IN865-867 (IN865): RP002-1.0.4 section 2.12.

2.12.2 default channels, 2.12.3 data rates (DR6 is reserved, DR7 is FSK) and TXPower 0..10,
2.12.4 CFList type 0, 2.12.6 maximum payload sizes, 2.12.7 the RX1 data-rate table with
RX1DROffset 0..7 (6 and 7 raise the downlink rate; the table skips the reserved DR6, so it is
written out as published rather than computed), 2.12.8 class B. India imposes no duty cycle.
"""

from __future__ import annotations

from typing import Final

from appliance.lorawan.regions.common import (
    CFListType,
    Channel,
    ClassBChannel,
    DynamicChannelPlan,
    Rx1DataRateTable,
    fsk,
    lora,
    tx_power_steps,
)
from appliance.lorawan.regions.region import Region

_CLASS_B_HZ: Final = 866_550_000

IN865: Final = Region(
    name="IN865",
    common_name="IN865-867",
    section="2.12",
    min_frequency_hz=865_000_000,
    max_frequency_hz=867_000_000,
    data_rates=(
        lora(0, 12, 125, 59),
        lora(1, 11, 125, 59),
        lora(2, 10, 125, 59),
        lora(3, 9, 125, 123),
        lora(4, 8, 125, 250),
        lora(5, 7, 125, 250),
        fsk(7, 50_000, 250),
    ),
    rx1_data_rates=Rx1DataRateTable(
        (
            (0, (0, 0, 0, 0, 0, 0, 1, 2)),
            (1, (1, 0, 0, 0, 0, 0, 2, 3)),
            (2, (2, 1, 0, 0, 0, 0, 3, 4)),
            (3, (3, 2, 1, 0, 0, 0, 4, 5)),
            (4, (4, 3, 2, 1, 0, 0, 5, 5)),
            (5, (5, 4, 3, 2, 1, 0, 5, 7)),
            (7, (7, 5, 5, 4, 3, 2, 7, 7)),
        )
    ),
    channel_plan=DynamicChannelPlan(
        default_channels=(
            Channel(865_062_500, 0, 5),
            Channel(865_402_500, 0, 5),
            Channel(865_985_000, 0, 5),
        )
    ),
    cflist_type=CFListType.FREQUENCIES,
    rx2_frequency_hz=866_550_000,
    rx2_data_rate=2,
    default_max_eirp_dbm=30.0,
    tx_power_backoff_db=tx_power_steps(11),
    beacon=ClassBChannel(4, (_CLASS_B_HZ,)),
    ping_slot=ClassBChannel(4, (_CLASS_B_HZ,)),
)
