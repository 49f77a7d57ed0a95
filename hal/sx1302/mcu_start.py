"""Start steps 8-9: load the AGC and ARB firmware, check them, and run their handshakes.

Each MCU is held in reset while its 8 KiB program memory is written and read back; once
released, the firmware reports its version and walks through a numbered handshake in which
the host hands it the radio gains, AGC thresholds and PA settings through mailboxes. Every
wait has a timeout: the reference HAL waits forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hal.sx1302 import registers as reg
from hal.sx1302.chip import Chip
from hal.sx1302.clock import Clock, wait_for
from hal.sx1302.errors import StartError
from hal.sx1302.firmware import FirmwareImage

HANDSHAKE_TIMEOUT_S: Final = 1.0
RADIO_GAIN_AUTO: Final = 0xFF
AGC_RADIO_A_INIT: Final = 0x80
AGC_RADIO_B_INIT: Final = 0x20
AGC_CONFIG_DONE: Final = 0x0F
PA_START_DELAY: Final = 8  # x 100 us
ARB_SF7_STATS: Final = 7
ARB_DOUBLE_DETECT_THRESHOLD: Final = 3


@dataclass(frozen=True, slots=True)
class _McuRegisters:
    name: str
    memory: int
    mcu_clear: reg.Field
    host_prog: reg.Field
    parity_error: reg.Field


_AGC: Final = _McuRegisters(
    "AGC", reg.AGC_MEMORY, reg.AGC_MCU_CLEAR, reg.AGC_HOST_PROG, reg.AGC_PARITY_ERROR
)
_ARB: Final = _McuRegisters(
    "ARB", reg.ARB_MEMORY, reg.ARB_MCU_CLEAR, reg.ARB_HOST_PROG, reg.ARB_PARITY_ERROR
)

# SX1250 AGC parameters, in handshake order: (step, mailbox values 0..2).
AGC_SX1250_STEPS: Final = (
    (0x03, (1, 13)),  # analog gain min/max
    (0x04, (3, 12)),  # analog thresholds low/high
    (0x05, (4, 15)),  # decimator attenuation min/max
    (0x06, (40, 80, 90)),  # decimator thresholds low/high1/high2
    (0x07, (4, 14)),  # channel attenuation min/max
    (0x08, (52, 132)),  # channel thresholds low/high
    (0x09, (0, 7, 4)),  # SX1250 SetPaConfig: deviceSel, hpMax, paDutyCycle
)


def load_firmware(chip: Chip, image: FirmwareImage, mcu: _McuRegisters) -> None:
    step = f"{mcu.name} firmware load"
    chip.set(mcu.mcu_clear, 1)
    chip.set(mcu.host_prog, 1)
    chip.set(reg.PAGE, 0)
    chip.write_memory(mcu.memory, image.data)
    readback = chip.read_memory(mcu.memory, len(image.data))
    if readback != image.data:
        first = next(i for i, (a, b) in enumerate(zip(readback, image.data, strict=True)) if a != b)
        raise StartError(step, f"program memory read-back differs from the image at byte {first}")
    chip.set(mcu.host_prog, 0)
    chip.set(mcu.mcu_clear, 0)
    if chip.get(mcu.parity_error) != 0:
        raise StartError(step, "the MCU reports a parity error in its program memory")


def load_agc_firmware(chip: Chip, image: FirmwareImage) -> None:
    load_firmware(chip, image, _AGC)


def load_arb_firmware(chip: Chip, image: FirmwareImage) -> None:
    load_firmware(chip, image, _ARB)


class _Agc:
    def __init__(self, chip: Chip, clock: Clock) -> None:
        self.chip = chip
        self.clock = clock

    def wait_status(self, step: str, status: int) -> None:
        wait_for(
            self.clock,
            step,
            lambda: self.chip.get(reg.AGC_STATUS),
            status,
            timeout_s=HANDSHAKE_TIMEOUT_S,
            what="AGC status",
        )

    def read(self, mailbox: int) -> int:
        return self.chip.get(reg.agc_mailbox_read(mailbox))

    def exchange(self, step: str, command: int, values: tuple[int, ...], next_status: int) -> None:
        """Write ``values`` to mailboxes 0.., ``command`` to mailbox 3, wait for the AGC to
        move to ``next_status`` and check it echoes the values."""
        for mailbox, value in enumerate(values):
            self.chip.set(reg.agc_mailbox_write(mailbox), value)
        self.chip.set(reg.agc_mailbox_write(3), command)
        self.wait_status(step, next_status)
        for mailbox, value in enumerate(values):
            if (echoed := self.read(mailbox)) != value:
                raise StartError(
                    step, f"AGC mailbox {mailbox} reads {echoed}, the host wrote {value}"
                )


def start_agc(chip: Chip, image: FirmwareImage, clock: Clock, *, lbt: bool = False) -> None:
    agc = _Agc(chip, clock)
    agc.wait_status("AGC start", 0x01)
    if (version := agc.read(0)) != image.expected_version:
        raise StartError(
            "AGC start", f"firmware reports version {version}, expected {image.expected_version}"
        )
    # Radio gains: automatic for both radios; SX1250 boards do not use the FDD mailbox, which
    # must still read 0.
    agc.exchange("AGC radio A gains", AGC_RADIO_A_INIT, (RADIO_GAIN_AUTO, RADIO_GAIN_AUTO), 0x02)
    if agc.read(2) != 0:
        raise StartError("AGC radio A gains", "AGC reports full-duplex mode")
    agc.exchange("AGC radio B gains", AGC_RADIO_B_INIT, (RADIO_GAIN_AUTO, RADIO_GAIN_AUTO), 0x03)
    if agc.read(2) != 0:
        raise StartError("AGC radio B gains", "AGC reports full-duplex mode")
    for command, values in AGC_SX1250_STEPS:
        agc.exchange(f"AGC parameters step {command}", command, values, command + 1)
    agc.exchange("AGC PA start delay", 0x0A, (PA_START_DELAY,), 0x0B)
    agc.exchange("AGC LBT", 0x0B, (1 if lbt else 0,), AGC_CONFIG_DONE)
    chip.set(reg.agc_mailbox_write(3), AGC_CONFIG_DONE)


def start_arb(chip: Chip, image: FirmwareImage, clock: Clock) -> None:
    def status() -> int:
        return chip.get(reg.ARB_STATUS)

    wait_for(clock, "ARB start", status, 0x01, timeout_s=HANDSHAKE_TIMEOUT_S, what="ARB status")
    if (version := chip.get(reg.ARB_DEBUG_STS_0)) != image.expected_version:
        raise StartError(
            "ARB start", f"firmware reports version {version}, expected {image.expected_version}"
        )
    chip.set(reg.ARB_DEBUG_CFG[0], ARB_SF7_STATS)
    chip.set(reg.ARB_DEBUG_CFG[3], 0x00)  # double demodulation off (no fine timestamps)
    chip.set(reg.ARB_DEBUG_CFG[2], ARB_DOUBLE_DETECT_THRESHOLD)
    chip.set(reg.ARB_DEBUG_CFG[1], 1)  # resume
    wait_for(clock, "ARB resume", status, 0x00, timeout_s=HANDSHAKE_TIMEOUT_S, what="ARB status")
