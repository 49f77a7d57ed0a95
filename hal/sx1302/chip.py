"""Register access to the SX1302 by field, on top of any transport.

A field that fills its byte is written directly; a narrower one is read-modify-written, as
the chip has no bit-level writes. Memories (MCU program RAM, RX FIFO) are moved in chunks the
transport can carry; the RX FIFO is a data port, so its address does not advance.
"""

from __future__ import annotations

from hal.sx1302.registers import Field
from hal.sx1302.transport import Transport


class Chip:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def set(self, field: Field, value: int) -> None:
        if field.whole_byte:
            self.transport.write(field.address, bytes((value & 0xFF,)))
        else:
            self.transport.read_modify_write(field.address, field.offset, field.width, value)

    def get(self, field: Field) -> int:
        byte = self.transport.read(field.address, 1)[0]
        return (byte & field.mask) >> field.offset

    def write_bytes(self, address: int, data: bytes) -> None:
        self.transport.write(address, data)

    def read_bytes(self, address: int, size: int) -> bytes:
        return self.transport.read(address, size)

    def write_memory(self, address: int, data: bytes) -> None:
        chunk = self.transport.chunk_size
        for start in range(0, len(data), chunk):
            self.transport.write(address + start, data[start : start + chunk])

    def read_memory(self, address: int, size: int, *, fifo: bool = False) -> bytes:
        chunk = self.transport.chunk_size
        parts = []
        for start in range(0, size, chunk):
            length = min(chunk, size - start)
            parts.append(self.transport.read(address if fifo else address + start, length))
        return b"".join(parts)
