"""Board temperature, for RSSI compensation: an STTS751 on I2C (SPI boards) or the USB MCU.

The sensor is optional: several boards (RAK2287 among them) have none; the driver then uses
a fixed temperature for the compensation and reports no temperature.
"""

from __future__ import annotations

import fcntl
import os
from typing import Final, Protocol

DEFAULT_ADDRESSES: Final = (0x39, 0x3B, 0x38)
_I2C_SLAVE: Final = 0x0703  # ioctl: set the target address of following reads/writes

_PRODUCT_ID: Final = 0xFD
_MANUFACTURER_ID: Final = 0xFE
_REVISION_ID: Final = 0xFF
_ST_MANUFACTURER: Final = 0x53
_PRODUCTS: Final = (0x00, 0x01)  # STTS751-0, STTS751-1
_TEMPERATURE_HIGH: Final = 0x00
_TEMPERATURE_LOW: Final = 0x02
_CONFIGURATION: Final = 0x03
_CONVERSION_RATE: Final = 0x04


class I2CBus(Protocol):
    def read_register(self, address: int, register: int) -> int: ...

    def write_register(self, address: int, register: int, value: int) -> None: ...

    def close(self) -> None: ...


class LinuxI2CBus:
    """``/dev/i2c-N`` through the kernel's i2c-dev interface (no extra package)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR)
        self._target: int | None = None

    def _select(self, address: int) -> None:
        if self._target != address:
            fcntl.ioctl(self._fd, _I2C_SLAVE, address)
            self._target = address

    def read_register(self, address: int, register: int) -> int:
        self._select(address)
        os.write(self._fd, bytes((register,)))
        data = os.read(self._fd, 1)
        if len(data) != 1:
            raise OSError(f"short read from I2C device 0x{address:02X}")
        return data[0]

    def write_register(self, address: int, register: int, value: int) -> None:
        self._select(address)
        os.write(self._fd, bytes((register, value)))

    def close(self) -> None:
        os.close(self._fd)


class Stts751:
    def __init__(self, bus: I2CBus, address: int) -> None:
        self.bus = bus
        self.address = address

    @classmethod
    def probe(cls, bus: I2CBus, addresses: tuple[int, ...] = DEFAULT_ADDRESSES) -> Stts751 | None:
        """The first address answering as an STTS751, configured for 12 bits at 1 Hz."""
        for address in addresses:
            try:
                if bus.read_register(address, _PRODUCT_ID) not in _PRODUCTS:
                    continue
                if bus.read_register(address, _MANUFACTURER_ID) != _ST_MANUFACTURER:
                    continue
                bus.read_register(address, _REVISION_ID)
                bus.write_register(address, _CONFIGURATION, 0x8C)
                bus.write_register(address, _CONVERSION_RATE, 0x04)
            except OSError:
                continue
            return cls(bus, address)
        return None

    def temperature_c(self) -> float:
        low = self.bus.read_register(self.address, _TEMPERATURE_LOW)
        high = self.bus.read_register(self.address, _TEMPERATURE_HIGH)
        signed_high = high - 256 if high & 0x80 else high
        return signed_high + low / 256
