"""An SX1250 as the SX1302's SPI mux reaches it: modes, status answers, stored settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from hal.sx1302.sx1250 import Opcode


class RadioMode(IntEnum):
    STANDBY_RC = 0x2
    STANDBY_XOSC = 0x3
    FS = 0x4
    RX = 0x5
    TX = 0x6


@dataclass(slots=True)
class EmulatedSx1250:
    mode: RadioMode = RadioMode.STANDBY_RC
    frequency_register: int = 0
    registers: dict[int, int] = field(default_factory=dict)
    calibrated_image: bytes = b""
    device_errors: int = 0  # set bit 4 of the third byte to fail image calibration

    def reset(self) -> None:
        self.mode = RadioMode.STANDBY_RC
        self.frequency_register = 0
        self.registers.clear()
        self.calibrated_image = b""

    @property
    def frequency_hz(self) -> int:
        return self.frequency_register * 32_000_000 >> 25

    def command(self, opcode: int, args: bytes) -> bytes:
        """The MISO bytes clocked out for ``[opcode] + args`` (the status byte, then data)."""
        answer = bytearray(1 + len(args))
        if opcode == Opcode.GET_STATUS and args:
            answer[1] = self.mode << 4
        elif opcode == Opcode.GET_DEVICE_ERRORS and len(args) >= 3:
            answer[1:4] = self.device_errors.to_bytes(3, "big")
        elif opcode == Opcode.SET_STANDBY and args:
            self.mode = RadioMode.STANDBY_XOSC if args[0] == 1 else RadioMode.STANDBY_RC
        elif opcode == Opcode.SET_RX:
            self.mode = RadioMode.RX
        elif opcode == Opcode.SET_FS:
            self.mode = RadioMode.FS
        elif opcode == Opcode.SET_RF_FREQUENCY and len(args) == 4:
            self.frequency_register = int.from_bytes(args, "big")
        elif opcode == Opcode.CALIBRATE_IMAGE:
            self.calibrated_image = bytes(args)
        elif opcode == Opcode.WRITE_REGISTER and len(args) >= 3:
            address = int.from_bytes(args[:2], "big")
            for offset, value in enumerate(args[2:]):
                self.registers[address + offset] = value
        elif opcode == Opcode.READ_REGISTER and len(args) >= 3:
            address = int.from_bytes(args[:2], "big")
            for offset in range(len(args) - 3):
                answer[4 + offset] = self.registers.get(address + offset, 0)
        return bytes(answer)
