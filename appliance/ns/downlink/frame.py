"""The gateway-level downlink for a Class A answer: one item per receive window, in order."""

from __future__ import annotations

from appliance.lorawan.regions import Region
from appliance.ns.downlink.windows import RxWindow
from appliance.ns.network import NetworkSettings
from appliance.ns.radio import downlink_modulation
from hal.model import Delay, DownlinkFrame, DownlinkItem, DownlinkTxInfo, UplinkRxInfo


def tx_power_dbm(region: Region, settings: NetworkSettings) -> int:
    """The EIRP the gateway transmits with: the network's setting or the region's default."""
    if settings.downlink_tx_power_dbm is not None:
        return settings.downlink_tx_power_dbm
    return int(region.default_max_eirp_dbm)


def class_a_downlink(
    downlink_id: int,
    *,
    reception: UplinkRxInfo,
    windows: tuple[RxWindow, ...],
    phy_payload: bytes,
    region: Region,
    settings: NetworkSettings,
) -> DownlinkFrame:
    """Answer through the gateway of ``reception`` (the best one heard), timed from its
    context, trying the windows in order; the gateway sends the first it can still meet."""
    power = tx_power_dbm(region, settings)
    items = tuple(
        DownlinkItem(
            phy_payload,
            DownlinkTxInfo(
                frequency=window.frequency,
                power=power,
                modulation=downlink_modulation(region, window.data_rate),
                timing=Delay(window.delay_ns),
                board=reception.board,
                antenna=reception.antenna,
                context=reception.context,
            ),
        )
        for window in windows
    )
    return DownlinkFrame(downlink_id, reception.gateway_id, items)
