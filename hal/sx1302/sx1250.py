"""SX1250 radios behind the SX1302's SPI mux: image calibration and setup for reception.

The reference HAL waits 1 ms before each command instead of polling BUSY; so does this
driver (through the caller's ``sleep``), which keeps it correct on boards where BUSY is not
wired to the host.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Final

from hal.sx1302.errors import StartError
from hal.sx1302.transport import Transport

BUSY_WAIT_S: Final = 0.001
CALIBRATION_WAIT_S: Final = 0.010


class Opcode(IntEnum):
    SET_STANDBY = 0x80
    SET_RX = 0x82
    SET_TX = 0x83
    SET_RF_FREQUENCY = 0x86
    CALIBRATE = 0x89
    SET_TX_PARAMS = 0x8E
    SET_PA_CONFIG = 0x95
    CALIBRATE_IMAGE = 0x98
    SET_FS = 0xC1
    GET_STATUS = 0xC0
    WRITE_REGISTER = 0x0D
    READ_REGISTER = 0x1D
    GET_DEVICE_ERRORS = 0x17


STANDBY_RC: Final = 0x00
STANDBY_XOSC: Final = 0x01
MODE_STANDBY_RC: Final = 0x2
MODE_STANDBY_XOSC: Final = 0x3

# CalibrateImage band bytes per frequency range (Hz, exclusive bounds).
_IMAGE_BANDS: Final = (
    (430_000_000, 440_000_000, b"\x6b\x6f"),
    (470_000_000, 510_000_000, b"\x75\x81"),
    (779_000_000, 787_000_000, b"\xc1\xc5"),
    (863_000_000, 870_000_000, b"\xd7\xdb"),
    (902_000_000, 928_000_000, b"\xe1\xe9"),
)


def frequency_register(frequency_hz: int) -> int:
    """The SetRfFrequency argument: f * 2^25 / 32 MHz."""
    return frequency_hz * (1 << 25) // 32_000_000


def image_band(frequency_hz: int) -> bytes | None:
    for low, high, band in _IMAGE_BANDS:
        if low < frequency_hz < high:
            return band
    return None


class Sx1250:
    def __init__(self, transport: Transport, rf_chain: int, sleep: Callable[[float], None]) -> None:
        self._transport = transport
        self._chain = rf_chain
        self._sleep = sleep
        self.label = "AB"[rf_chain]

    def command(self, opcode: Opcode, args: bytes) -> bytes:
        self._sleep(BUSY_WAIT_S)
        return self._transport.radio_command(self._chain, opcode, args)

    def write_register(self, address: int, data: bytes) -> None:
        self.command(Opcode.WRITE_REGISTER, address.to_bytes(2, "big") + data)

    def mode(self) -> int:
        """Chip mode, bits 6:4 of the status byte."""
        return (self.command(Opcode.GET_STATUS, b"\x00")[0] >> 4) & 0x7

    def calibrate_image(self, frequency_hz: int) -> None:
        step = f"radio {self.label} image calibration"
        self.command(Opcode.GET_STATUS, b"\x00")
        band = image_band(frequency_hz)
        if band is None:
            raise StartError(step, f"no SX1250 image band covers {frequency_hz} Hz")
        self.command(Opcode.CALIBRATE_IMAGE, band)
        self._sleep(CALIBRATION_WAIT_S)
        errors = self.command(Opcode.GET_DEVICE_ERRORS, b"\x00\x00\x00")
        if errors[2] & 0x10:
            raise StartError(step, "the radio reports an image calibration error")

    def setup(self, frequency_hz: int, *, single_input: bool) -> None:
        """Standby, calibration, and continuous reception (which also clocks the SX1302)."""
        self.command(Opcode.SET_STANDBY, bytes((STANDBY_RC,)))
        self._sleep(CALIBRATION_WAIT_S)
        if (mode := self.mode()) != MODE_STANDBY_RC:
            raise StartError(f"radio {self.label} setup", f"not in STANDBY_RC (mode {mode})")
        self.command(Opcode.CALIBRATE, b"\x7f")
        self._sleep(CALIBRATION_WAIT_S)
        self.command(Opcode.SET_STANDBY, bytes((STANDBY_XOSC,)))
        self._sleep(CALIBRATION_WAIT_S)
        if (mode := self.mode()) != MODE_STANDBY_XOSC:
            raise StartError(f"radio {self.label} setup", f"not in STANDBY_XOSC (mode {mode})")
        # Highest bit rate (shorter TX-to-FS switch), DIOs as outputs with no pulls.
        for address, value in ((0x06A1, 0x01), (0x06A2, 0x00), (0x06A3, 0x00)):
            self.write_register(address, bytes((value,)))
        for address in (0x0582, 0x0583, 0x0584, 0x0585, 0x0580):
            self.write_register(address, b"\x00")
        self.write_register(0x08B6, b"\x2a")  # fixed gain
        self.command(Opcode.SET_RF_FREQUENCY, frequency_register(frequency_hz).to_bytes(4, "big"))
        self.write_register(0x088F, b"\x00\x00\x00")  # no frequency offset
        self.command(Opcode.SET_RX, b"\xff\xff\xff")  # continuous
        if single_input:
            self.write_register(0x08E2, b"\x0d")
        self.write_register(0x0587, b"\x0b")  # digital front-end in RX mode
