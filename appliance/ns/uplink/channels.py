"""The channel index of an uplink, as the device numbers its channels (TxCh of the 1.1 MIC)."""

from __future__ import annotations

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.cn470 import CN470ChannelPlan
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.ns.session import DeviceSession


def uplink_channel_index(region: Region, session: DeviceSession, frequency: int) -> int:
    """Fixed plans number channels by frequency; dynamic plans by the device's channel list
    (the defaults first, then channels added by CFList or NewChannelReq)."""
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan | CN470ChannelPlan):
        return plan.uplink_channel(frequency)
    if isinstance(plan, DynamicChannelPlan):
        for index, channel in enumerate(plan.default_channels):
            if channel.frequency_hz == frequency:
                return index
        for index, extra in session.extra_uplink_channels.items():
            if extra.frequency == frequency:
                return index
    raise InvalidValueError(f"{frequency} Hz is not one of the device's uplink channels")
