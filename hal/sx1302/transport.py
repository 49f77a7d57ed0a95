"""What the chip driver needs from a bus: register bursts, read-modify-write and radio frames.

Two implementations: ``SpiTransport`` (spidev, the SPI framing of the chip) and ``UsbTransport``
(the STM32 bridge of USB boards, which wraps the same SPI frames). The chip driver above them
is the same.
"""

from __future__ import annotations

from typing import Final, Protocol

# First byte of every SPI frame: which device behind the SX1302's SPI mux.
TARGET_SX1302: Final = 0x00
TARGET_RADIO: Final = (0x01, 0x02)  # radio A, radio B

WRITE_FLAG: Final = 0x80


class Transport(Protocol):
    @property
    def chunk_size(self) -> int:
        """The longest burst one access carries (1024 bytes on SPI, 4096 over USB)."""
        ...

    def write(self, address: int, data: bytes) -> None:
        """Burst write to the SX1302 (one chip-select frame)."""
        ...

    def read(self, address: int, size: int) -> bytes:
        """Burst read from the SX1302 (one chip-select frame)."""
        ...

    def read_modify_write(self, address: int, offset: int, width: int, value: int) -> None:
        """Set a sub-byte field, leaving the other bits of the byte as they are."""
        ...

    def radio_command(self, rf_chain: int, opcode: int, args: bytes) -> bytes:
        """An SX1250 command through the SX1302's mux; returns the bytes clocked in after
        the opcode (as many as ``args``)."""
        ...

    def begin_bulk(self) -> None:
        """Queue writes until ``flush`` (USB sends them in one request; SPI writes at once)."""
        ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def write_frame(target: int, address: int, data: bytes) -> bytes:
    """``[target, 0x80|addr_hi, addr_lo] + data``."""
    return bytes((target, WRITE_FLAG | ((address >> 8) & 0x7F), address & 0xFF)) + data


def read_frame(target: int, address: int, size: int) -> bytes:
    """``[target, addr_hi, addr_lo, dummy] + size clocked bytes``; the data comes back at 4."""
    return bytes((target, (address >> 8) & 0x7F, address & 0xFF, 0)) + bytes(size)


def radio_frame(rf_chain: int, opcode: int, args: bytes) -> bytes:
    return bytes((TARGET_RADIO[rf_chain], opcode)) + args
