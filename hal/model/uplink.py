"""What every radio source delivers: a received frame with the metadata of each reception.

Modelled on ChirpStack's ``gw.UplinkFrame``. Times are integers in nanoseconds so every
conversion (protobuf Timestamp/Duration, GPS fine timestamps) is lossless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from appliance.lorawan.identifiers import EUI64
from hal.model.modulation import Modulation


class CRCStatus(IntEnum):
    """Values match ``gw.CRCStatus``."""

    NO_CRC = 0
    BAD_CRC = 1
    CRC_OK = 2


class LocationSource(IntEnum):
    """Values match ``common.LocationSource``."""

    UNKNOWN = 0
    GPS = 1
    CONFIG = 2
    GEO_RESOLVER_TDOA = 3
    GEO_RESOLVER_RSSI = 4
    GEO_RESOLVER_GNSS = 5
    GEO_RESOLVER_WIFI = 6


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    altitude: float = 0.0
    source: LocationSource = LocationSource.UNKNOWN
    accuracy: float = 0.0


@dataclass(frozen=True, slots=True)
class UplinkTxInfo:
    frequency: int  # Hz
    modulation: Modulation


@dataclass(frozen=True, slots=True)
class UplinkRxInfo:
    """One gateway's reception of a frame."""

    gateway_id: EUI64
    uplink_id: int = 0
    rssi: int = 0  # dBm
    snr: float = 0.0  # dB
    channel: int = 0
    rf_chain: int = 0
    board: int = 0
    antenna: int = 0
    context: bytes = b""  # opaque to the network server; echoed in a Class A downlink
    crc_status: CRCStatus = CRCStatus.CRC_OK
    gw_time_ns: int | None = None  # Unix time of reception as the gateway knows it
    ns_time_ns: int | None = None  # Unix time the appliance received it
    time_since_gps_epoch_ns: int | None = None
    fine_time_since_gps_epoch_ns: int | None = None
    location: Location | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UplinkFrame:
    phy_payload: bytes
    tx_info: UplinkTxInfo
    rx_info: UplinkRxInfo
