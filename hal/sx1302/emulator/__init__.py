"""A register-level SX1302/SX1303 emulator behind a fake spidev, an I2C bus and a pty that
speaks the USB bridge protocol: the real driver runs against it unmodified."""

from hal.sx1302.emulator.chip import EmulatedSx1302, TxRecord
from hal.sx1302.emulator.devices import EmulatedI2CBus, EmulatedSpiDev, EmulatedStts751
from hal.sx1302.emulator.fifo import FifoPacket
from hal.sx1302.emulator.trace import Trace, TraceComparison, compare

__all__ = [
    "EmulatedI2CBus",
    "EmulatedSpiDev",
    "EmulatedStts751",
    "EmulatedSx1302",
    "FifoPacket",
    "Trace",
    "TraceComparison",
    "TxRecord",
    "compare",
]
