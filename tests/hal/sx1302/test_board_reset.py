"""Power and reset sequences of SPI boards."""

from __future__ import annotations

import pytest

from hal.sx1302.board_reset import ResetPlan, reset_board, run_command
from hal.sx1302.clock import ManualClock
from hal.sx1302.errors import StartError


class Line:
    def __init__(self, pin: int, log: list[tuple[float, int, str]], clock: ManualClock) -> None:
        self.pin, self.log, self.clock = pin, log, clock

    def on(self) -> None:
        self.log.append((self.clock.now, self.pin, "on"))

    def off(self) -> None:
        self.log.append((self.clock.now, self.pin, "off"))

    def close(self) -> None:
        self.log.append((self.clock.now, self.pin, "close"))


def test_gpio_sequence_follows_the_board_timing() -> None:
    clock = ManualClock()
    log: list[tuple[float, int, str]] = []
    held = reset_board(
        ResetPlan("/dev/gpiochip0", power_pin=18, reset_pin=23, sx1261_reset_pin=22),
        clock,
        lines=lambda pin: Line(pin, log, clock),
    )
    assert [(round(t, 3), pin, what) for t, pin, what in log] == [
        (0.0, 18, "on"),
        (0.1, 23, "on"),
        (0.2, 23, "off"),
        (0.3, 22, "off"),
        (0.4, 22, "on"),
    ]
    assert len(held) == 3


def test_commands_run_in_order() -> None:
    ran: list[tuple[str, ...]] = []
    reset_board(ResetPlan(commands=(("a", "1"), ("b", "2"))), ManualClock(), command=ran.append)
    assert ran == [("a", "1"), ("b", "2")]


def test_failing_commands_are_start_errors() -> None:
    with pytest.raises(StartError, match=r"'board reset'.*not found"):
        run_command(("/nonexistent/mts-io-sysfs", "store", "x", "1"))
    with pytest.raises(StartError, match="false failed"):
        run_command(("false",))
