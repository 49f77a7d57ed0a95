"""Opening a concentrator's bus, reset lines and temperature sensor from backend options."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from hal.sx1302.board_reset import LineFactory, OutputLine, release, reset_board
from hal.sx1302.clock import Clock
from hal.sx1302.driver import TemperatureSource
from hal.sx1302.options import Sx1302Options
from hal.sx1302.spi import open_spidev
from hal.sx1302.temperature import I2CBus, LinuxI2CBus
from hal.sx1302.transport import Transport
from hal.sx1302.usb import open_usb

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Hardware:
    transport: Transport
    i2c: I2CBus | None = None
    mcu_temperature: TemperatureSource | None = None
    lines: list[OutputLine] = field(default_factory=list)

    def release(self) -> None:
        release(self.lines)


HardwareOpener = Callable[[Sx1302Options, Clock], Hardware]


def open_hardware(
    options: Sx1302Options, clock: Clock, *, lines: LineFactory | None = None
) -> Hardware:
    """Reset the board and open its bus (and, on SPI boards, its I2C temperature sensor)."""
    if options.bus_kind == "usb":
        usb = open_usb(options.device)
        return Hardware(usb, mcu_temperature=usb if options.temperature_source == "mcu" else None)
    held = reset_board(options.reset, clock, lines=lines)
    try:
        transport: Transport = open_spidev(options.device)
    except BaseException:
        release(held)
        raise
    i2c: I2CBus | None = None
    if options.temperature_source == "i2c" and options.i2c_device:
        try:
            i2c = LinuxI2CBus(options.i2c_device)
        except OSError as exc:
            log.warning("no temperature sensor: cannot open %s: %s", options.i2c_device, exc)
    return Hardware(transport, i2c=i2c, lines=held)
