"""SX1302/SX1303 concentrators driven directly, over SPI or the USB bridge (kind ``sx1302``).

Layers, bottom up: transports (``spi``, ``usb`` with ``mcu``), register access (``chip``,
``registers``), the start sequence (``radio_setup``, ``rx_setup``, ``mcu_start``), reception
(``rx_fifo``, ``receive``, ``timestamps``), transmission (``tx``), the driver (``driver``),
the backend (``backend``), board profiles (``profiles``) and Semtech's ``global_conf.json``
(``global_conf``). ``emulator`` is a register-level chip for tests and self-tests.
"""

from hal.sx1302.backend import Sx1302Backend, create_sx1302_backend
from hal.sx1302.config import ConcentratorConfig
from hal.sx1302.driver import Concentrator
from hal.sx1302.errors import FirmwareError, ProfileError, StartError, Sx1302Error, TransportError

__all__ = [
    "Concentrator",
    "ConcentratorConfig",
    "FirmwareError",
    "ProfileError",
    "StartError",
    "Sx1302Backend",
    "Sx1302Error",
    "TransportError",
    "create_sx1302_backend",
]
