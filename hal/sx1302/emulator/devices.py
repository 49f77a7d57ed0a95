"""The emulated chip behind the interfaces the real driver opens: a spidev and an I2C bus."""

from __future__ import annotations

from dataclasses import dataclass, field

from hal.sx1302.emulator.chip import EmulatedSx1302
from hal.sx1302.emulator.trace import format_i2c_read, format_i2c_write


class EmulatedSpiDev:
    """Stands in for ``spidev.SpiDev`` (``xfer2``) with the emulated SX1302 on the bus."""

    def __init__(self, chip: EmulatedSx1302) -> None:
        self.chip = chip
        self.closed = False

    def xfer2(self, data: list[int]) -> list[int]:
        if self.closed:
            raise OSError(9, "the SPI device is closed")
        return list(self.chip.transfer(bytes(data)))

    def close(self) -> None:
        self.closed = True


@dataclass(slots=True)
class EmulatedStts751:
    """An ST temperature sensor: identification registers and the temperature."""

    temperature_c: float = 31.5
    product_id: int = 0x00
    registers: dict[int, int] = field(default_factory=dict)

    def read(self, register: int) -> int:
        if register == 0xFD:
            return self.product_id
        if register == 0xFE:
            return 0x53
        if register == 0xFF:
            return 0x01
        raw = round(self.temperature_c * 256)
        if register == 0x00:
            return (raw >> 8) & 0xFF
        if register == 0x02:
            return raw & 0xFF
        return self.registers.get(register, 0)

    def write(self, register: int, value: int) -> None:
        self.registers[register] = value


class EmulatedI2CBus:
    """``/dev/i2c-1`` with the given sensors; absent addresses fail as the kernel does."""

    def __init__(self, chip: EmulatedSx1302, sensors: dict[int, EmulatedStts751]) -> None:
        self.chip = chip
        self.sensors = sensors
        self.closed = False

    def _sensor(self, address: int) -> EmulatedStts751:
        sensor = self.sensors.get(address)
        if sensor is None or self.closed:
            raise OSError(6, f"no I2C device at 0x{address:02X}")  # ENXIO
        return sensor

    def read_register(self, address: int, register: int) -> int:
        value = self._sensor(address).read(register)
        self.chip.trace.append(format_i2c_read(address, register, value))
        return value

    def write_register(self, address: int, register: int, value: int) -> None:
        self._sensor(address).write(register, value)
        self.chip.trace.append(format_i2c_write(address, register, value))

    def close(self) -> None:
        self.closed = True
