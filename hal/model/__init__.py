"""The one frame model every radio source speaks (modelled on ChirpStack's ``gw.proto``)."""

from hal.model.downlink import (
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    DownlinkTxInfo,
    GPSEpoch,
    Immediately,
    Timing,
    TxAckStatus,
)
from hal.model.gateway import (
    FSKChannel,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    GatewayStats,
    LoRaChannel,
)
from hal.model.modulation import (
    CodeRate,
    FSKModulation,
    LoRaModulation,
    LRFHSSModulation,
    Modulation,
)
from hal.model.uplink import (
    CRCStatus,
    Location,
    LocationSource,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)

BackendEvent = UplinkFrame | GatewayStats | GatewayConnected | GatewayDisconnected

__all__ = [
    "BackendEvent",
    "CRCStatus",
    "CodeRate",
    "Delay",
    "DownlinkFrame",
    "DownlinkItem",
    "DownlinkTxAck",
    "DownlinkTxInfo",
    "FSKChannel",
    "FSKModulation",
    "GPSEpoch",
    "GatewayConfiguration",
    "GatewayConnected",
    "GatewayDisconnected",
    "GatewayStats",
    "Immediately",
    "LRFHSSModulation",
    "LoRaChannel",
    "LoRaModulation",
    "Location",
    "LocationSource",
    "Modulation",
    "Timing",
    "TxAckStatus",
    "UplinkFrame",
    "UplinkRxInfo",
    "UplinkTxInfo",
]
