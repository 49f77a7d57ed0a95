"""The SX1302 over Linux spidev: mode 0, 8 bits, 2 MHz, one frame per access."""

from __future__ import annotations

import re
from typing import Any, Final, Protocol

from hal.sx1302.errors import TransportError
from hal.sx1302.transport import (
    TARGET_SX1302,
    radio_frame,
    read_frame,
    write_frame,
)

SPI_SPEED_HZ: Final = 2_000_000
SPI_CHUNK: Final = 1024


class SpiDevice(Protocol):
    """The part of ``spidev.SpiDev`` the driver uses (full-duplex transfer of one frame)."""

    def xfer2(self, data: list[int]) -> list[int]: ...

    def close(self) -> None: ...


class SpiTransport:
    def __init__(self, device: SpiDevice) -> None:
        self._device = device

    @property
    def chunk_size(self) -> int:
        return SPI_CHUNK

    def _transfer(self, frame: bytes) -> bytes:
        try:
            answer = self._device.xfer2(list(frame))
        except OSError as exc:
            raise TransportError(f"SPI transfer failed: {exc}") from exc
        if len(answer) != len(frame):
            raise TransportError(f"SPI transfer returned {len(answer)} of {len(frame)} bytes")
        return bytes(answer)

    def write(self, address: int, data: bytes) -> None:
        for start in range(0, len(data), SPI_CHUNK):
            self._transfer(
                write_frame(TARGET_SX1302, address + start, data[start : start + SPI_CHUNK])
            )

    def read(self, address: int, size: int) -> bytes:
        return self._transfer(read_frame(TARGET_SX1302, address, size))[4:]

    def read_modify_write(self, address: int, offset: int, width: int, value: int) -> None:
        mask = ((1 << width) - 1) << offset
        current = self.read(address, 1)[0]
        self.write(address, bytes(((current & ~mask) | ((value << offset) & mask),)))

    def radio_command(self, rf_chain: int, opcode: int, args: bytes) -> bytes:
        return self._transfer(radio_frame(rf_chain, opcode, args))[2:]

    def begin_bulk(self) -> None:
        """SPI writes go out as they come."""

    def flush(self) -> None:
        """Nothing is queued on SPI."""

    def close(self) -> None:
        self._device.close()


_SPIDEV_PATH = re.compile(r"^/dev/spidev(\d+)\.(\d+)$")


def open_spidev(path: str) -> SpiTransport:
    """Open ``/dev/spidevB.C`` with the chip's settings (needs the ``spidev`` package)."""
    match = _SPIDEV_PATH.match(path)
    if match is None:
        raise TransportError(f"not a spidev path: {path!r} (expected /dev/spidevB.C)")
    try:
        import spidev  # noqa: PLC0415 - only on hardware (the 'hardware' extra)
    except ImportError:
        raise TransportError(
            "the 'spidev' package is missing: install the appliance with its 'hardware' extra"
        ) from None
    device: Any = spidev.SpiDev()
    try:
        device.open(int(match.group(1)), int(match.group(2)))
    except OSError as exc:
        raise TransportError(f"cannot open {path}: {exc.strerror or exc}") from None
    device.mode = 0
    device.bits_per_word = 8
    device.lsbfirst = False
    device.max_speed_hz = SPI_SPEED_HZ
    return SpiTransport(device)
