"""ADR on the device: when to set ADRACKReq and how to back off without downlinks.

ADR_ACK_CNT counts new uplinks since the last downlink. From ADR_ACK_LIMIT on the device asks
for a downlink with ADRACKReq; from ADR_ACK_LIMIT + ADR_ACK_DELAY it restores the default TX
power; every ADR_ACK_DELAY from ADR_ACK_LIMIT + 2 * ADR_ACK_DELAY it steps one data rate down,
and once at the default data rate it re-enables the default channels (all channels in fixed
plans) and resets NbTrans to 1 (LoRaWAN 1.0.4 section 4.3.1.1 and its table 9, as LoRaMac-node
implements it).

When ADRACKReq may be set changed between versions: 1.0.2/1.0.3 only above the lowest data
rate, 1.1 not at the default data rate and TX power, 1.0.4 whenever the counter allows (its
table 9 keeps the bit set at the default data rate).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from appliance.devicesim.channels import ChannelTable
from appliance.devicesim.config import LoRaWANVersion
from appliance.devicesim.regional import default_data_rate, next_lower_data_rate
from appliance.devicesim.session import RadioSettings
from appliance.lorawan.regions import Region

DEFAULT_TX_POWER = 0  # TXPower 0 is the maximum EIRP, the "default TX power" of ADR


@dataclass(frozen=True, slots=True)
class ADRStep:
    adr_ack_req: bool
    settings: RadioSettings
    channels: ChannelTable


def adr_before_uplink(
    adr_ack_cnt: int,
    *,
    settings: RadioSettings,
    channels: ChannelTable,
    region: Region,
    version: LoRaWANVersion,
    adr: bool,
) -> ADRStep:
    """Settings for the next new uplink, given ADR_ACK_CNT before it is counted."""
    if not adr:
        return ADRStep(False, settings, channels)
    limit, delay = settings.adr_ack_limit, settings.adr_ack_delay
    minimum = default_data_rate(region, settings.uplink_dwell_time)
    if adr_ack_cnt >= limit + delay:
        settings = replace(settings, tx_power=DEFAULT_TX_POWER)
    if adr_ack_cnt >= limit + 2 * delay and (adr_ack_cnt - limit) % delay == 0:
        if settings.data_rate <= minimum:
            channels = channels.with_defaults_enabled()
            settings = replace(settings, nb_trans=1)
        lower = next_lower_data_rate(region, settings.data_rate, settings.uplink_dwell_time)
        settings = replace(settings, data_rate=max(lower, minimum))
    request = adr_ack_cnt >= limit
    if version in (LoRaWANVersion.V1_0_2, LoRaWANVersion.V1_0_3):
        request = request and settings.data_rate > minimum
    elif version is LoRaWANVersion.V1_1:
        at_default = settings.data_rate <= minimum and settings.tx_power == DEFAULT_TX_POWER
        request = request and not at_default
    return ADRStep(request, settings, channels)
