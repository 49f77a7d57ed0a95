"""The part of a device that survives a restart: what ``snapshot()`` saves and ``restore()``
loads. Timers, receive windows and repetitions in progress are not in it; a restored device
starts them afresh.

Mutable on purpose, like the network server's device session: the device swaps the frozen
records inside it as it runs, and snapshots serialise it whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.devicesim.channels import ChannelTable
from appliance.devicesim.config import ABP, DeviceConfig
from appliance.devicesim.join import JoinState
from appliance.devicesim.session import MACQueue, RadioSettings, Session
from appliance.lorawan.maccommands import RejoinParamSetupReq, ResetInd
from appliance.lorawan.maccommands.session import LORAWAN_MINOR_1_1
from appliance.lorawan.regions import Region


@dataclass(slots=True)
class DeviceState:
    join: JoinState
    session: Session | None
    settings: RadioSettings
    channels: ChannelTable
    mac: MACQueue
    battery: int
    adr_ack_cnt: int = 0
    indication_uplinks: int = 0  # uplinks that carried RekeyInd since the join
    ack_f_cnt: int | None = None  # a confirmed downlink the next uplink acknowledges
    rejoin_setup: RejoinParamSetupReq | None = None
    uplinks_since_rejoin: int = 0

    @classmethod
    def initial(cls, config: DeviceConfig, region: Region) -> DeviceState:
        """A device fresh from the factory: ABP devices have their session, OTAA ones none."""
        activation = config.activation
        session = None
        mac = MACQueue()
        if isinstance(activation, ABP):
            session = Session(activation.dev_addr, activation.keys)
            if config.lorawan_version.is_1_1:
                # A 1.1 ABP device announces every reset until the network confirms it.
                mac = MACQueue(indication=ResetInd(minor=LORAWAN_MINOR_1_1))
        return cls(
            join=JoinState(),
            session=session,
            settings=RadioSettings.initial(config, region),
            channels=ChannelTable.initial(region, config.sub_bands),
            mac=mac,
            battery=config.battery,
        )
