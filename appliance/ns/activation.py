"""ABP activation: the session of a device personalised with its DevAddr and keys.

An ABP device never joins, so the network must be told what the device was built with: its
RX1 delay, RX1 DR offset and RX2 settings come from the device profile (the ``abp_*`` fields),
and it starts on the region's default channels. The MAC engine then moves it to the network's
channel plan (NewChannelReq, or the sub-band's LinkADRReq block) like any other device.
"""

from __future__ import annotations

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import DevAddr
from appliance.lorawan.regions.cn470 import CN470ChannelPlan
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.lorawan.security import SessionKeys
from appliance.ns.device import Device
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile
from appliance.ns.session import DeviceSession


def abp_session(
    device: Device,
    profile: DeviceProfile,
    settings: NetworkSettings,
    *,
    dev_addr: DevAddr,
    keys: SessionKeys,
) -> DeviceSession:
    if profile.mac_version.is_1_1 != keys.lorawan_1_1:
        raise InvalidValueError(
            f"a LoRaWAN {profile.mac_version} device needs "
            f"{'1.1 (four)' if profile.mac_version.is_1_1 else '1.0.x (NwkSKey, AppSKey)'} "
            "session keys"
        )
    region = settings.region
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        channels: tuple[int, ...] = tuple(range(72))
    elif isinstance(plan, DynamicChannelPlan):
        channels = tuple(range(len(plan.default_channels)))
    else:
        assert isinstance(plan, CN470ChannelPlan)
        channels = tuple(range(len(plan.join_channels())))
    return DeviceSession(
        dev_addr=dev_addr,
        keys=keys,
        mac_version=profile.mac_version,
        region=region.name,
        rx2_dr=region.rx2_data_rate if profile.abp_rx2_dr is None else profile.abp_rx2_dr,
        rx2_frequency=(
            region.rx2_frequency_hz
            if profile.abp_rx2_frequency is None
            else profile.abp_rx2_frequency
        ),
        enabled_uplink_channels=channels,
        rx1_delay_s=profile.abp_rx1_delay_s,
        rx1_dr_offset=profile.abp_rx1_dr_offset,
        skip_f_cnt_check=device.skip_f_cnt_check,
    )
