"""EU433: RP002-1.0.4 section 2.7.

2.7.2 default channels (EIRP below 12.15 dBm, duty cycle below 10 %, the limit of the
433.05-434.79 MHz band "f" of ERC/REC 70-03), 2.7.3 data rates and TXPower 0..5, 2.7.4 CFList
type 0, 2.7.6 maximum payload sizes, 2.7.7 receive windows, 2.7.8 class B.
"""

from __future__ import annotations

from typing import Final

from appliance.lorawan.regions.common import (
    CFListType,
    Channel,
    ClassBChannel,
    DutyCycleBand,
    DynamicChannelPlan,
    Rx1DataRateTable,
    fsk,
    lora,
    subtracting_rows,
    tx_power_steps,
)
from appliance.lorawan.regions.region import Region

_CLASS_B_HZ: Final = 434_665_000

EU433: Final = Region(
    name="EU433",
    common_name="EU433",
    section="2.7",
    min_frequency_hz=433_175_000,
    max_frequency_hz=434_665_000,
    data_rates=(
        lora(0, 12, 125, 59),
        lora(1, 11, 125, 59),
        lora(2, 10, 125, 59),
        lora(3, 9, 125, 123),
        lora(4, 8, 125, 250),
        lora(5, 7, 125, 250),
        lora(6, 7, 250, 250),
        fsk(7, 50_000, 250),
    ),
    rx1_data_rates=Rx1DataRateTable(subtracting_rows(range(8), offsets=6, floor=0)),
    channel_plan=DynamicChannelPlan(
        default_channels=(
            Channel(433_175_000, 0, 5),
            Channel(433_375_000, 0, 5),
            Channel(433_575_000, 0, 5),
        )
    ),
    cflist_type=CFListType.FREQUENCIES,
    rx2_frequency_hz=434_665_000,
    rx2_data_rate=0,
    default_max_eirp_dbm=12.15,
    tx_power_backoff_db=tx_power_steps(6),
    beacon=ClassBChannel(3, (_CLASS_B_HZ,)),
    ping_slot=ClassBChannel(3, (_CLASS_B_HZ,)),
    duty_cycle_bands=(DutyCycleBand("f", 433_050_000, 434_790_000, 0.1, 10),),
)
