"""The SX1302 behind the STM32 USB bridge: MULTIPLE_SPI requests over a serial port.

Every access is one round trip, except while a transmission is being built: then writes and
read-modify-writes are queued (``begin_bulk``) and sent in one request at ``flush``.
"""

from __future__ import annotations

import logging
from typing import Final, Protocol

from hal.sx1302 import mcu
from hal.sx1302.errors import TransportError
from hal.sx1302.transport import TARGET_SX1302, radio_frame, read_frame, write_frame

log = logging.getLogger(__name__)

BAUD_RATE: Final = 115_200
ANSWER_TIMEOUT_S: Final = 2.0


class SerialPort(Protocol):
    """The part of ``serial.Serial`` the transport uses."""

    def write(self, data: bytes, /) -> int | None: ...

    def read(self, size: int = 1, /) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class UsbTransport:
    def __init__(self, port: SerialPort, *, name: str = "usb") -> None:
        self._port = port
        self._name = name
        self._request_id = 0
        self._bulk: list[bytes] | None = None

    @property
    def chunk_size(self) -> int:
        return mcu.MAX_SPI_BULK

    # --- requests ------------------------------------------------------------------------

    def request(self, command: mcu.Command, payload: bytes = b"") -> bytes:
        """Send one request and return the payload of its acknowledgement."""
        self._request_id = (self._request_id + 1) & 0xFF
        try:
            self._port.write(mcu.encode_frame(self._request_id, command, payload))
            header = self._read_exactly(mcu.HEADER_SIZE, command)
            _, size, ack = mcu.decode_header(header)
            body = self._read_exactly(size, command)
        except mcu.McuProtocolError as exc:
            raise TransportError(f"{self._name}: bad answer to {command.name}: {exc}") from None
        except OSError as exc:
            raise TransportError(f"{self._name}: serial I/O failed: {exc}") from exc
        if ack == mcu.ERROR_ACK:
            raise TransportError(f"{self._name}: the MCU refused {command.name}")
        if ack != command + mcu.ACK_OFFSET:
            raise TransportError(
                f"{self._name}: answer 0x{ack:02X} to {command.name}, expected "
                f"0x{command + mcu.ACK_OFFSET:02X}"
            )
        return body

    def _read_exactly(self, size: int, command: mcu.Command) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._port.read(size - len(data))
            if not chunk:
                raise TransportError(
                    f"{self._name}: no answer to {command.name} within {ANSWER_TIMEOUT_S:g} s"
                )
            data += chunk
        return data

    def ping(self) -> mcu.PingInfo:
        info = mcu.PingInfo.decode(self.request(mcu.Command.PING))
        if info.version[1:] != mcu.EXPECTED_VERSION:
            log.warning(
                "MCU firmware version %r, expected 'x%s'", info.version, mcu.EXPECTED_VERSION
            )
        return info

    def status(self) -> mcu.McuStatus:
        return mcu.McuStatus.decode(self.request(mcu.Command.GET_STATUS))

    def temperature_c(self) -> float:
        return self.status().temperature_c

    def write_gpio(self, pin: int, value: int) -> None:
        answer = self.request(mcu.Command.WRITE_GPIO, bytes((mcu.GPIO_PORT, pin, value)))
        if answer[:1] != b"\x00":
            raise TransportError(f"{self._name}: the MCU could not set GPIO {pin} to {value}")

    def reset_chip(self) -> None:
        """Power on and reset the SX1302 and SX1261 through the MCU's GPIOs."""
        self.write_gpio(mcu.GPIO_POWER_EN, 1)
        self.write_gpio(mcu.GPIO_SX1302_RESET, 1)
        self.write_gpio(mcu.GPIO_SX1302_RESET, 0)
        self.write_gpio(mcu.GPIO_SX1261_RESET, 0)
        self.write_gpio(mcu.GPIO_SX1261_RESET, 1)

    def _spi(self, sub_requests: list[bytes]) -> list[mcu.SpiAnswer]:
        answers = mcu.decode_spi_answers(
            self.request(mcu.Command.MULTIPLE_SPI, b"".join(sub_requests))
        )
        if len(answers) != len(sub_requests):
            raise TransportError(
                f"{self._name}: {len(answers)} SPI answers to {len(sub_requests)} requests"
            )
        for answer in answers:
            if answer.status != mcu.SpiStatus.OK:
                status = mcu.SpiStatus(answer.status).name if answer.status < 4 else answer.status
                raise TransportError(f"{self._name}: SPI request {answer.sub_id} failed ({status})")
        return answers

    def _submit(self, sub_request: bytes) -> None:
        if self._bulk is not None:
            self._bulk.append(sub_request)
        else:
            self._spi([sub_request])

    # --- Transport -----------------------------------------------------------------------

    def write(self, address: int, data: bytes) -> None:
        for start in range(0, len(data), mcu.MAX_SPI_BULK):
            frame = write_frame(
                TARGET_SX1302, address + start, data[start : start + mcu.MAX_SPI_BULK]
            )
            self._submit(mcu.spi_read_write(len(self._bulk or ()), frame))

    def read(self, address: int, size: int) -> bytes:
        if self._bulk is not None:
            raise TransportError(
                f"{self._name}: a read cannot be queued while building a transmission"
            )
        (answer,) = self._spi([mcu.spi_read_write(0, read_frame(TARGET_SX1302, address, size))])
        return answer.data[4:]

    def read_modify_write(self, address: int, offset: int, width: int, value: int) -> None:
        self._submit(
            mcu.spi_read_modify_write(len(self._bulk or ()), address, offset, width, value)
        )

    def radio_command(self, rf_chain: int, opcode: int, args: bytes) -> bytes:
        if self._bulk is not None:
            raise TransportError(f"{self._name}: radio commands cannot be queued")
        (answer,) = self._spi([mcu.spi_read_write(0, radio_frame(rf_chain, opcode, args))])
        return answer.data[2:]

    def begin_bulk(self) -> None:
        self._bulk = []

    def flush(self) -> None:
        queued, self._bulk = self._bulk or [], None
        batch: list[bytes] = []
        size = 0
        for sub_request in queued:
            if batch and (
                len(batch) == mcu.MAX_SUB_REQUESTS or size + len(sub_request) > mcu.MAX_SPI_BULK
            ):
                self._spi(batch)
                batch, size = [], 0
            batch.append(sub_request)
            size += len(sub_request)
        if batch:
            self._spi(batch)

    def close(self) -> None:
        self._port.close()


def open_usb(path: str) -> UsbTransport:
    """Open the bridge on ``path``, check it answers, and reset the chip through it."""
    try:
        import serial  # noqa: PLC0415 - only for USB boards
    except ImportError:
        raise TransportError(
            "the 'pyserial' package is missing: install the appliance with its 'hardware' extra"
        ) from None
    try:
        port = serial.Serial(
            path, BAUD_RATE, timeout=ANSWER_TIMEOUT_S, write_timeout=ANSWER_TIMEOUT_S
        )
    except (serial.SerialException, OSError) as exc:
        raise TransportError(f"cannot open {path}: {exc}") from None
    port.reset_input_buffer()
    transport = UsbTransport(port, name=path)
    try:
        transport.ping()
        transport.status()
        transport.reset_chip()
    except TransportError:
        transport.close()
        raise
    return transport
