"""EU863-870 (EU868): RP002-1.0.4 section 2.4.

2.4.2 default channels, 2.4.3 data rates (DR8..DR11 are LR-FHSS, uplink only) and TXPower,
2.4.4 CFList type 0, 2.4.6 maximum payload sizes (the "not repeater compatible" table),
2.4.7 receive windows, 2.4.8 class B. RP002 leaves the duty cycle to ETSI EN 300 220: the
sub-bands below are the ones of EN 300 220-2 / ERC/REC 70-03, named as in the older
EN 300 220 edition LoRaWAN material uses (g, g1..g4); EN 300 220-2 V3.2.1 split the old band
"g" at 865 MHz, which gives two 'g' entries with different limits.
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
    lr_fhss,
    subtracting_rows,
    tx_power_steps,
)
from appliance.lorawan.regions.region import Region

_CLASS_B_HZ: Final = 869_525_000

EU868: Final = Region(
    name="EU868",
    common_name="EU863-870",
    section="2.4",
    min_frequency_hz=863_000_000,
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
        lr_fhss(8, "1/3", 137, 58),
        lr_fhss(9, "2/3", 137, 123),
        lr_fhss(10, "1/3", 336, 58),
        lr_fhss(11, "2/3", 336, 123),
    ),
    rx1_data_rates=Rx1DataRateTable(
        (
            *subtracting_rows(range(8), offsets=6, floor=0),
            # An LR-FHSS uplink is answered as if it came at DR1 (coding rate 1/3) or DR2 (2/3).
            (8, (1, 0, 0, 0, 0, 0)),
            (9, (2, 1, 0, 0, 0, 0)),
            (10, (1, 0, 0, 0, 0, 0)),
            (11, (2, 1, 0, 0, 0, 0)),
        )
    ),
    channel_plan=DynamicChannelPlan(
        default_channels=(
            Channel(868_100_000, 0, 5),
            Channel(868_300_000, 0, 5),
            Channel(868_500_000, 0, 5),
        )
    ),
    cflist_type=CFListType.FREQUENCIES,
    rx2_frequency_hz=869_525_000,
    rx2_data_rate=0,
    default_max_eirp_dbm=16.0,
    tx_power_backoff_db=tx_power_steps(8),
    beacon=ClassBChannel(3, (_CLASS_B_HZ,)),
    ping_slot=ClassBChannel(3, (_CLASS_B_HZ,)),
    duty_cycle_bands=(
        DutyCycleBand("g (863.0-865.0 MHz)", 863_000_000, 865_000_000, 0.001, 25),
        DutyCycleBand("g (865.0-868.0 MHz)", 865_000_000, 868_000_000, 0.01, 25),
        DutyCycleBand("g1", 868_000_000, 868_600_000, 0.01, 25),
        DutyCycleBand("g2", 868_700_000, 869_200_000, 0.001, 25),
        DutyCycleBand("g3", 869_400_000, 869_650_000, 0.1, 500),
        DutyCycleBand("g4", 869_700_000, 870_000_000, 0.01, 25),
    ),
    notes=(
        "Duty-cycle sub-bands are those of ETSI EN 300 220-2; RP002 only refers to the standard.",
        "Maximum payload sizes are the 'not repeater compatible' table.",
    ),
)
