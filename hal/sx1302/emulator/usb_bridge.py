"""The STM32 USB bridge of USB concentrators, emulated behind a pseudo-terminal.

The driver opens the pty's path with pyserial exactly as it opens ``/dev/ttyACM0``; this side
answers PING, GET_STATUS, WRITE_GPIO (pin 2 resets the chip) and MULTIPLE_SPI, whose raw SPI
frames and read-modify-writes go to the emulated SX1302.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import tty
from typing import Final

from hal.sx1302 import mcu
from hal.sx1302.emulator.chip import EmulatedSx1302
from hal.sx1302.transport import TARGET_SX1302, read_frame, write_frame

log = logging.getLogger(__name__)

POLL_S: Final = 0.05


class UsbBridgeEmulator:
    def __init__(
        self,
        chip: EmulatedSx1302,
        *,
        temperature_c: float = 30.5,
        version: str = "R01.00.00",
        unique_id: bytes = bytes.fromhex("0123456789abcdef01234567"),
    ) -> None:
        self.chip = chip
        self.temperature_c = temperature_c
        self.info = mcu.PingInfo(unique_id, version)
        self.requests: list[mcu.Command | int] = []
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="usb-bridge-emulator", daemon=True)
        self._started_at = chip.clock.monotonic()

    def __enter__(self) -> UsbBridgeEmulator:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> str:
        self._thread.start()
        return self.path

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- serving -------------------------------------------------------------------------

    def _read(self, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            if self._stop.is_set():
                return None
            ready, _, _ = select.select([self._master], [], [], POLL_S)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, size - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _serve(self) -> None:
        while not self._stop.is_set():
            header = self._read(mcu.HEADER_SIZE)
            if header is None:
                return
            request_id, size, command = mcu.decode_header(header)
            payload = self._read(size) if size else b""
            if payload is None:
                return
            self.requests.append(command)
            try:
                ack, answer = self.handle(command, payload)
            except (mcu.McuProtocolError, ValueError, IndexError) as exc:
                log.warning("USB bridge emulator: bad request 0x%02X: %s", command, exc)
                ack, answer = mcu.ERROR_ACK, b""
            with contextlib.suppress(OSError):
                os.write(self._master, mcu.encode_frame(request_id, ack, answer))

    def handle(self, command: int, payload: bytes) -> tuple[int, bytes]:
        if command == mcu.Command.PING:
            return command + mcu.ACK_OFFSET, self.info.encode()
        if command == mcu.Command.GET_STATUS:
            elapsed_ms = int((self.chip.clock.monotonic() - self._started_at) * 1000)
            return command + mcu.ACK_OFFSET, mcu.McuStatus(elapsed_ms, self.temperature_c).encode()
        if command == mcu.Command.WRITE_GPIO:
            port, pin, value = payload[0], payload[1], payload[2]
            if port == mcu.GPIO_PORT and pin == mcu.GPIO_SX1302_RESET and value == 1:
                self.chip.reset()
            return command + mcu.ACK_OFFSET, b"\x00"
        if command == mcu.Command.MULTIPLE_SPI:
            return command + mcu.ACK_OFFSET, self._spi(payload)
        return mcu.ERROR_ACK, b""

    def _spi(self, payload: bytes) -> bytes:
        answers = bytearray()
        index = 0
        while index < len(payload):
            sub_id, kind = payload[index], payload[index + 1]
            if kind == mcu.SubRequest.READ_WRITE:
                target = payload[index + 2]
                size = (payload[index + 3] << 8) | payload[index + 4]
                frame = payload[index + 5 : index + 5 + size]
                index += 5 + size
                status = mcu.SpiStatus.OK if len(frame) == size else mcu.SpiStatus.WRONG_PARAM
                miso = self.chip.transfer(frame) if target == mcu.SPI_TARGET_SX1302 else bytes(size)
                answers += bytes((sub_id, kind, status, size >> 8, size & 0xFF)) + miso.ljust(
                    size, b"\0"
                )
            elif kind == mcu.SubRequest.READ_MODIFY_WRITE:
                address = (payload[index + 2] << 8) | payload[index + 3]
                mask, value = payload[index + 4], payload[index + 5]
                index += 6
                old = self.chip.transfer(read_frame(TARGET_SX1302, address, 1))[4]
                new = (old & ~mask & 0xFF) | (value & mask)
                self.chip.transfer(write_frame(TARGET_SX1302, address, bytes((new,))))
                answers += bytes((sub_id, kind, mcu.SpiStatus.OK, old, new))
            else:
                raise mcu.McuProtocolError(f"unknown SPI sub-request type 0x{kind:02X}")
        return bytes(answers)
