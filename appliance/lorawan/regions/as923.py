"""AS923-1, AS923-2, AS923-3 and AS923-4: RP002-1.0.4 section 2.10.

The four groups share one channel plan shifted by AS923_FREQ_OFFSET (2.10.2): 0, -1.8 MHz,
-6.6 MHz and -5.9 MHz; the offset moves the default channels, RX2 and the class B channel.
2.10.3 data rates and TXPower, 2.10.4 CFList type 0, 2.10.6 maximum payload sizes with and
without the 400 ms uplink dwell-time limit, 2.10.7 the RX1 data-rate tables for
DownlinkDwellTime 0 and 1 (RX1DROffset 6 and 7 raise the downlink rate above the uplink's),
2.10.8 class B. AS923 end-devices implement TxParamSetupReq. RP002 leaves duty cycle and
listen-before-talk to each country's rules, so no duty-cycle band is listed.
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

FREQUENCY_OFFSETS_HZ: Final = {
    "AS923-1": 0,
    "AS923-2": -1_800_000,
    "AS923-3": -6_600_000,
    "AS923-4": -5_900_000,
}

_DATA_RATES: Final = (
    lora(0, 12, 125, 59, None),
    lora(1, 11, 125, 59, None),
    lora(2, 10, 125, 123, 19),
    lora(3, 9, 125, 123, 61),
    lora(4, 8, 125, 250, 133),
    lora(5, 7, 125, 250, 250),
    lora(6, 7, 250, 250, 250),
    fsk(7, 50_000, 250),
)

# Written out rather than computed: with offsets 6 and 7 the spec caps at DR7, and with the
# downlink dwell-time limit it floors at DR2, which no single formula in the text covers.
_RX1_NO_DWELL: Final = (
    (0, (0, 0, 0, 0, 0, 0, 1, 2)),
    (1, (1, 0, 0, 0, 0, 0, 2, 3)),
    (2, (2, 1, 0, 0, 0, 0, 3, 4)),
    (3, (3, 2, 1, 0, 0, 0, 4, 5)),
    (4, (4, 3, 2, 1, 0, 0, 5, 6)),
    (5, (5, 4, 3, 2, 1, 0, 6, 7)),
    (6, (6, 5, 4, 3, 2, 1, 7, 7)),
    (7, (7, 6, 5, 4, 3, 2, 7, 7)),
)
_RX1_DWELL: Final = (
    (0, (2, 2, 2, 2, 2, 2, 2, 2)),
    (1, (2, 2, 2, 2, 2, 2, 2, 3)),
    (2, (2, 2, 2, 2, 2, 2, 3, 4)),
    (3, (3, 2, 2, 2, 2, 2, 4, 5)),
    (4, (4, 3, 2, 2, 2, 2, 5, 6)),
    (5, (5, 4, 3, 2, 2, 2, 6, 7)),
    (6, (6, 5, 4, 3, 2, 2, 7, 7)),
    (7, (7, 6, 5, 4, 3, 2, 7, 7)),
)


def _as923(name: str) -> Region:
    offset = FREQUENCY_OFFSETS_HZ[name]
    class_b_hz = 923_400_000 + offset
    return Region(
        name=name,
        common_name=name,
        section="2.10",
        min_frequency_hz=915_000_000,
        max_frequency_hz=928_000_000,
        data_rates=_DATA_RATES,
        rx1_data_rates=Rx1DataRateTable(_RX1_NO_DWELL, _RX1_DWELL),
        channel_plan=DynamicChannelPlan(
            default_channels=(
                Channel(923_200_000 + offset, 0, 5),
                Channel(923_400_000 + offset, 0, 5),
            )
        ),
        cflist_type=CFListType.FREQUENCIES,
        rx2_frequency_hz=923_200_000 + offset,
        rx2_data_rate=2,
        default_max_eirp_dbm=16.0,
        tx_power_backoff_db=tx_power_steps(8),
        beacon=ClassBChannel(3, (class_b_hz,)),
        ping_slot=ClassBChannel(3, (class_b_hz,)),
        dwell_time_limit_ms=400,
        dwell_time_payload_tables=True,
        tx_param_setup_req=True,
        notes=(
            f"AS923_FREQ_OFFSET = {offset} Hz.",
            "Devices supporting only DR0..DR5 must not use RX1DROffset 6/7 combinations that "
            "map to DR6 or DR7.",
            "Duty cycle and listen-before-talk follow local regulations.",
        ),
    )


AS923_1: Final = _as923("AS923-1")
AS923_2: Final = _as923("AS923-2")
AS923_3: Final = _as923("AS923-3")
AS923_4: Final = _as923("AS923-4")
