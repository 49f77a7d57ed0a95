"""The STM32 bridge protocol of USB concentrators (CoreCell USB and alike), as pure codecs.

Request ``[id, len_hi, len_lo, cmd] + payload``; answer ``[id, len_hi, len_lo, cmd + 0x40] +
payload`` (0xFF = error). MULTIPLE_SPI carries up to 255 sub-requests: raw SPI frames
(read/write) or read-modify-writes done by the MCU. Shared by the USB transport and the
emulator, so both sides speak from one definition.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

HEADER_SIZE: Final = 4
MAX_PAYLOAD: Final = 4200
MAX_SPI_BULK: Final = 4096
MAX_SUB_REQUESTS: Final = 255
ACK_OFFSET: Final = 0x40
ERROR_ACK: Final = 0xFF
PING_ANSWER_SIZE: Final = 21
STATUS_ANSWER_SIZE: Final = 6
EXPECTED_VERSION: Final = "01.00.00"


class Command(IntEnum):
    PING = 0x00
    GET_STATUS = 0x01
    BOOTLOADER_MODE = 0x02
    RESET = 0x03
    WRITE_GPIO = 0x04
    MULTIPLE_SPI = 0x05


class SubRequest(IntEnum):
    READ_WRITE = 0x01
    READ_MODIFY_WRITE = 0x02


class SpiStatus(IntEnum):
    OK = 0
    FAIL = 1
    WRONG_PARAM = 2
    TIMEOUT = 3


SPI_TARGET_SX1302: Final = 0
SPI_TARGET_SX1261: Final = 1

# MCU GPIOs (port 0): power enable, SX1302 reset (active high), SX1261 reset (active low).
GPIO_PORT: Final = 0
GPIO_POWER_EN: Final = 1
GPIO_SX1302_RESET: Final = 2
GPIO_SX1261_RESET: Final = 8


class McuProtocolError(ValueError):
    """A frame that does not follow the bridge protocol."""


def encode_frame(request_id: int, command: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise McuProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return struct.pack(">BHB", request_id & 0xFF, len(payload), command) + payload


def decode_header(header: bytes) -> tuple[int, int, int]:
    """``(id, payload length, command or ack)`` of a 4-byte header."""
    if len(header) != HEADER_SIZE:
        raise McuProtocolError(f"header of {len(header)} bytes, expected {HEADER_SIZE}")
    request_id, size, command = struct.unpack(">BHB", header)
    if size > MAX_PAYLOAD:
        raise McuProtocolError(f"announced payload of {size} bytes exceeds {MAX_PAYLOAD}")
    return request_id, size, command


def spi_read_write(sub_id: int, frame: bytes, target: int = SPI_TARGET_SX1302) -> bytes:
    return struct.pack(">BBBH", sub_id & 0xFF, SubRequest.READ_WRITE, target, len(frame)) + frame


def spi_read_modify_write(sub_id: int, address: int, offset: int, width: int, value: int) -> bytes:
    mask = ((1 << width) - 1) << offset
    return struct.pack(
        ">BBHBB",
        sub_id & 0xFF,
        SubRequest.READ_MODIFY_WRITE,
        address,
        mask,
        (value << offset) & mask,
    )


@dataclass(frozen=True, slots=True)
class SpiAnswer:
    sub_id: int
    kind: SubRequest
    status: int
    data: bytes  # MISO bytes (read/write) or (read value, new value) (read-modify-write)


def decode_spi_answers(payload: bytes) -> list[SpiAnswer]:
    """Split a MULTIPLE_SPI answer into its sub-answers."""
    answers: list[SpiAnswer] = []
    index = 0
    while index < len(payload):
        if index + 5 > len(payload):
            raise McuProtocolError(f"truncated SPI answer at byte {index}")
        sub_id, kind, status = payload[index], payload[index + 1], payload[index + 2]
        if kind == SubRequest.READ_WRITE:
            size = (payload[index + 3] << 8) | payload[index + 4]
            end = index + 5 + size
            if end > len(payload):
                raise McuProtocolError(f"SPI answer {sub_id} announces {size} bytes, truncated")
            answers.append(
                SpiAnswer(sub_id, SubRequest.READ_WRITE, status, payload[index + 5 : end])
            )
            index = end
        elif kind == SubRequest.READ_MODIFY_WRITE:
            answers.append(
                SpiAnswer(
                    sub_id, SubRequest.READ_MODIFY_WRITE, status, payload[index + 3 : index + 5]
                )
            )
            index += 5
        else:
            raise McuProtocolError(f"unknown SPI answer type 0x{kind:02X}")
    return answers


@dataclass(frozen=True, slots=True)
class PingInfo:
    unique_id: bytes  # 12 bytes
    version: str

    @classmethod
    def decode(cls, payload: bytes) -> PingInfo:
        if len(payload) != PING_ANSWER_SIZE:
            raise McuProtocolError(f"PING answer of {len(payload)} bytes, expected 21")
        return cls(payload[:12], payload[12:].split(b"\x00")[0].decode("ascii", "replace"))

    def encode(self) -> bytes:
        return self.unique_id[:12].ljust(12, b"\x00") + self.version.encode()[:9].ljust(9, b"\x00")


@dataclass(frozen=True, slots=True)
class McuStatus:
    system_time_ms: int
    temperature_c: float

    @classmethod
    def decode(cls, payload: bytes) -> McuStatus:
        if len(payload) != STATUS_ANSWER_SIZE:
            raise McuProtocolError(f"GET_STATUS answer of {len(payload)} bytes, expected 6")
        time_ms, centi = struct.unpack(">Ih", payload)
        return cls(time_ms, centi / 100)

    def encode(self) -> bytes:
        return struct.pack(">Ih", self.system_time_ms & 0xFFFFFFFF, round(self.temperature_c * 100))
