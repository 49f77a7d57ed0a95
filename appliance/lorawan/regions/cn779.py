"""CN779-787 (CN779): RP002-1.0.4 section 2.6.

2.6.2 default channels (EIRP below 12.15 dBm, duty cycle below 1 %), 2.6.3 data rates and
TXPower 0..5, 2.6.4 CFList type 0, 2.6.6 maximum payload sizes, 2.6.7 receive windows, 2.6.8
class B. Channel centres may lie between 779.5 and 786.5 MHz. The values were cross-checked
against open implementations, which model this band only up to RP002-1.0.3. Since RP002,
end-devices join on the three default channels; the six join-request frequencies of the 1.0.x
Regional Parameters (adding 780.5, 780.7 and 780.9 MHz) are not listed.
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

_CLASS_B_HZ: Final = 785_000_000

CN779: Final = Region(
    name="CN779",
    common_name="CN779-787",
    section="2.6",
    min_frequency_hz=779_500_000,
    max_frequency_hz=786_500_000,
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
            Channel(779_500_000, 0, 5),
            Channel(779_700_000, 0, 5),
            Channel(779_900_000, 0, 5),
        )
    ),
    cflist_type=CFListType.FREQUENCIES,
    rx2_frequency_hz=786_000_000,
    rx2_data_rate=0,
    default_max_eirp_dbm=12.15,
    tx_power_backoff_db=tx_power_steps(6),
    beacon=ClassBChannel(3, (_CLASS_B_HZ,)),
    ping_slot=ClassBChannel(3, (_CLASS_B_HZ,)),
    duty_cycle_bands=(DutyCycleBand("779-787 MHz", 779_000_000, 787_000_000, 0.01),),
)
