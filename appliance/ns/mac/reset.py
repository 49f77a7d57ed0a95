"""ResetInd -> ResetConf (CID 0x01, LoRaWAN 1.1 ABP devices): the device rebooted.

The device is back on the settings it was built with, so the session is too: the device
profile's ABP RX settings, the region's default channels, full power, one transmission,
nothing pending. The network then reconfigures it through the usual requests. The answer
carries the highest LoRaWAN 1.x minor both sides speak (this server: 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from appliance.lorawan.maccommands import MACCommand, ResetConf, ResetInd
from appliance.ns.mac.channel_mask import default_channels
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult, of_type
from appliance.ns.session import DeviceSession

SERVER_MINOR: Final = 1


def handle(
    session: DeviceSession, commands: Sequence[MACCommand], ctx: MACContext, result: MACResult
) -> None:
    indication = of_type(commands, ResetInd)[0]
    profile, region = ctx.profile, ctx.region
    session.nb_trans = 1
    if profile.supports_otaa:
        # ResetInd is meant for ABP devices (LoRaWAN 1.1 section 5.1); an OTAA device that
        # sends it still gets its answer, but its negotiated session is kept.
        result.log(LogLevel.WARNING, MACLogCode.INFO, ResetInd.CID, "ResetInd from an OTAA device")
    else:
        session.rx1_delay_s = profile.abp_rx1_delay_s
        session.rx1_dr_offset = profile.abp_rx1_dr_offset
        session.rx2_dr = region.rx2_data_rate if profile.abp_rx2_dr is None else profile.abp_rx2_dr
        session.rx2_frequency = (
            region.rx2_frequency_hz
            if profile.abp_rx2_frequency is None
            else profile.abp_rx2_frequency
        )
        session.tx_power_index = 0
        session.max_supported_tx_power_index = 0
        session.min_supported_tx_power_index = 0
        session.max_duty_cycle = 0
        session.rx1_frequencies.clear()
        session.beacon_frequency = 0
        session.extra_uplink_channels.clear()
        channels = default_channels(region)
        if channels is not None:
            session.enabled_uplink_channels = channels
        session.pending_mac_requests.clear()
        session.uplink_history.clear()
    result.answer(ResetConf(minor=min(SERVER_MINOR, indication.minor)))
