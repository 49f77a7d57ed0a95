"""A simulated concentrator and its backend (registered as ``virtual``)."""

from hal.virtual_radio.air import AirPacket, Transmission, time_on_air_ns
from hal.virtual_radio.backend import VirtualRadioBackend, create_virtual_radio
from hal.virtual_radio.concentrator import VirtualConcentrator, VirtualConcentratorConfig
from hal.virtual_radio.propagation import PathLossModel, Position

__all__ = [
    "AirPacket",
    "PathLossModel",
    "Position",
    "Transmission",
    "VirtualConcentrator",
    "VirtualConcentratorConfig",
    "VirtualRadioBackend",
    "create_virtual_radio",
    "time_on_air_ns",
]
