"""Which gateways may carry a Class A answer, in the order to try them.

Every gateway that heard the uplink can answer it (each times the downlink from its own
reception), best link first (the de-duplication sorted them by SNR, then RSSI). A gateway
that refuses every window (TOO_LATE, COLLISION_PACKET, QUEUE_FULL, TX_FREQ, ...) hands the
downlink to the next one; the frame and its counters stay the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from appliance.lorawan.regions import Region
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.downlink.frame import class_a_downlink
from appliance.ns.downlink.windows import RxWindow
from appliance.ns.network import NetworkSettings
from hal.model import DownlinkFrame

# Beyond three gateways the answer would reach the device too late to matter anyway.
MAX_GATEWAYS_TRIED: Final = 3


def gateway_alternatives(
    downlink_id: int,
    uplink: DeduplicatedUplink,
    *,
    windows: tuple[RxWindow, ...],
    phy_payload: bytes,
    region: Region,
    settings: NetworkSettings,
) -> Iterator[DownlinkFrame]:
    """One gateway-level downlink per gateway that heard ``uplink``, best first, each built
    only when the one before it was refused."""
    for reception in uplink.rx_info[:MAX_GATEWAYS_TRIED]:
        yield class_a_downlink(
            downlink_id,
            reception=reception,
            windows=windows,
            phy_payload=phy_payload,
            region=region,
            settings=settings,
        )
