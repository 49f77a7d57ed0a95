"""Gateway-level events and configuration: statistics, connection changes, channel plans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from appliance.lorawan.identifiers import EUI64
from hal.model.modulation import Modulation
from hal.model.uplink import Location


@dataclass(frozen=True, slots=True)
class GatewayStats:
    """Modelled on ``gw.GatewayStats``."""

    gateway_id: EUI64
    time_ns: int | None = None
    location: Location | None = None
    config_version: str = ""
    rx_packets_received: int = 0
    rx_packets_received_ok: int = 0
    tx_packets_received: int = 0
    tx_packets_emitted: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)
    tx_packets_per_frequency: Mapping[int, int] = field(default_factory=dict)
    rx_packets_per_frequency: Mapping[int, int] = field(default_factory=dict)
    tx_packets_per_modulation: tuple[tuple[Modulation, int], ...] = ()
    rx_packets_per_modulation: tuple[tuple[Modulation, int], ...] = ()
    tx_packets_per_status: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GatewayConnected:
    gateway_id: EUI64
    backend: str
    remote: str = ""  # e.g. the forwarder's address


@dataclass(frozen=True, slots=True)
class GatewayDisconnected:
    gateway_id: EUI64
    backend: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LoRaChannel:
    frequency: int  # Hz
    bandwidth: int  # Hz
    spreading_factors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FSKChannel:
    frequency: int
    bandwidth: int
    datarate: int


@dataclass(frozen=True, slots=True)
class GatewayConfiguration:
    """The channel plan pushed to a gateway (``gw.GatewayConfiguration``)."""

    gateway_id: EUI64
    version: str
    channels: tuple[LoRaChannel | FSKChannel, ...]
    stats_interval_s: int = 30
