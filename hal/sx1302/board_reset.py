"""Power and reset of SPI boards: host GPIO lines (through gpiozero) or vendor commands.

Sequence (boards.md): power enable on, 100 ms; SX1302 reset active 100 ms, then inactive
100 ms; SX1261 reset (active low) released after 100 ms low. USB boards reset through their
MCU instead (usb.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from hal.sx1302.clock import Clock
from hal.sx1302.errors import StartError

STEP_S: Final = 0.1
COMMAND_TIMEOUT_S: Final = 10.0


class OutputLine(Protocol):
    def on(self) -> None: ...

    def off(self) -> None: ...

    def close(self) -> None: ...


LineFactory = Callable[[int], OutputLine]


@dataclass(frozen=True, slots=True)
class ResetPlan:
    gpio_chip: str | None = None
    power_pin: int | None = None
    reset_pin: int | None = None
    sx1261_reset_pin: int | None = None
    commands: tuple[tuple[str, ...], ...] = ()

    @property
    def uses_gpio(self) -> bool:
        return any(p is not None for p in (self.power_pin, self.reset_pin, self.sx1261_reset_pin))


def gpiozero_lines(chip_path: str | None) -> LineFactory:
    """Output lines on ``/dev/gpiochipN`` through gpiozero's lgpio pin factory."""
    try:
        from gpiozero import DigitalOutputDevice  # noqa: PLC0415 - only on hardware
        from gpiozero.pins.lgpio import LGPIOFactory  # noqa: PLC0415
    except ImportError:
        raise StartError(
            "board reset",
            "the 'gpiozero' and 'lgpio' packages are missing: install the appliance with its "
            "'hardware' extra",
        ) from None
    chip = int((chip_path or "/dev/gpiochip0").removeprefix("/dev/gpiochip") or 0)
    factory: Any = LGPIOFactory(chip=chip)

    def line(pin: int) -> OutputLine:
        try:
            device: OutputLine = DigitalOutputDevice(pin, initial_value=False, pin_factory=factory)
        except Exception as exc:  # gpiozero raises its own hierarchy and OSError
            raise StartError(
                "board reset", f"cannot drive GPIO {pin} on {chip_path}: {exc}"
            ) from None
        return device

    return line


def run_command(argv: tuple[str, ...]) -> None:
    try:
        subprocess.run(argv, check=True, timeout=COMMAND_TIMEOUT_S, capture_output=True)
    except FileNotFoundError:
        raise StartError("board reset", f"reset command {argv[0]!r} not found") from None
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip() or f"exit code {exc.returncode}"
        raise StartError("board reset", f"{' '.join(argv)} failed: {detail}") from None
    except subprocess.TimeoutExpired:
        raise StartError("board reset", f"{' '.join(argv)} did not finish in 10 s") from None


def reset_board(
    plan: ResetPlan,
    clock: Clock,
    *,
    lines: LineFactory | None = None,
    command: Callable[[tuple[str, ...]], None] = run_command,
) -> list[OutputLine]:
    """Power and reset the board; returns the lines to hold (and close on stop)."""
    for argv in plan.commands:
        command(argv)
        clock.sleep(STEP_S)
    if not plan.uses_gpio:
        return []
    factory = lines or gpiozero_lines(plan.gpio_chip)
    held: list[OutputLine] = []
    try:
        if plan.power_pin is not None:
            power = factory(plan.power_pin)
            held.append(power)
            power.on()
            clock.sleep(STEP_S)
        if plan.reset_pin is not None:
            reset = factory(plan.reset_pin)
            held.append(reset)
            reset.on()
            clock.sleep(STEP_S)
            reset.off()
            clock.sleep(STEP_S)
        if plan.sx1261_reset_pin is not None:
            sx1261 = factory(plan.sx1261_reset_pin)
            held.append(sx1261)
            sx1261.off()
            clock.sleep(STEP_S)
            sx1261.on()
            clock.sleep(STEP_S)
    except BaseException:
        release(held)
        raise
    return held


def release(lines: list[OutputLine]) -> None:
    for line in lines:
        line.close()
    lines.clear()
