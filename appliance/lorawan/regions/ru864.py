"""RU864-870 (RU864): RP002-1.0.4 section 2.13.

2.13.2 the two default channels (duty cycle below 1 %), 2.13.3 data rates and TXPower 0..7,
2.13.4 CFList type 0, 2.13.6 maximum payload sizes, 2.13.7 receive windows, 2.13.8 class B
(the beacon and the ping slots use different default frequencies).
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

RU864: Final = Region(
    name="RU864",
    common_name="RU864-870",
    section="2.13",
    min_frequency_hz=864_000_000,
    max_frequency_hz=870_000_000,
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
        default_channels=(Channel(868_900_000, 0, 5), Channel(869_100_000, 0, 5))
    ),
    cflist_type=CFListType.FREQUENCIES,
    rx2_frequency_hz=869_100_000,
    rx2_data_rate=0,
    default_max_eirp_dbm=16.0,
    tx_power_backoff_db=tx_power_steps(8),
    beacon=ClassBChannel(3, (869_100_000,)),
    ping_slot=ClassBChannel(3, (868_900_000,)),
    duty_cycle_bands=(DutyCycleBand("864-870 MHz", 864_000_000, 870_000_000, 0.01),),
    notes=("Other channels must stay in the sub-bands allowed by Russian regulation.",),
)
