"""The questions ``appliance setup`` asks on a terminal: numbered choices, a default in brackets.

Answers come from standard input line by line, so a script (or a test) can pipe them in. End of
input before an answer cancels the setup instead of guessing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.lorawan.regions import REGIONS
from appliance.service.board_profiles import NO_BOARD, ProfileError, load_board_devices


class SetupCancelledError(Exception):
    """Standard input ended before every question had an answer."""


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


Ask = Callable[[str], str]


def read_answer(prompt: str) -> str:
    try:
        return input(prompt)
    except EOFError:
        print(file=sys.stdout)
        raise SetupCancelledError(
            "setup cancelled: standard input ended before an answer"
        ) from None


def choose(title: str, options: Sequence[Option], default: str | None, ask: Ask) -> str:
    """The value of the option picked by number or by value (case-insensitive)."""
    print(f"\n{title}")
    width = max(len(option.value) for option in options)
    for number, option in enumerate(options, start=1):
        print(f"  {number:2d}) {option.value:<{width}}  {option.label}")
    by_value = {option.value.lower(): option.value for option in options}
    hint = f" [{default}]" if default else ""
    while True:
        answer = ask(f"Choose 1-{len(options)} or a name{hint}: ").strip()
        if not answer and default:
            return default
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1].value
        if answer.lower() in by_value:
            return by_value[answer.lower()]
        print(f"  not one of the choices: {answer!r}")


def yes_no(question: str, default: bool, ask: Ask) -> bool:
    hint = "Y/n" if default else "y/N"
    while True:
        answer = ask(f"{question} [{hint}]: ").strip().lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        print("  please answer y or n")


def region_options() -> list[Option]:
    return [
        Option(
            region.name,
            f"{region.common_name}, {region.min_frequency_hz / 1e6:g}-"
            f"{region.max_frequency_hz / 1e6:g} MHz",
        )
        for region in REGIONS
    ]


def board_options(profiles_dir: Path, boards: Sequence[str]) -> list[Option]:
    options = [Option(board, _board_label(profiles_dir, board)) for board in boards]
    options.append(
        Option(NO_BOARD, "no concentrator on this Pi: gateways connect over the network")
    )
    return options


def _board_label(profiles_dir: Path, board: str) -> str:
    try:
        devices = load_board_devices(profiles_dir / f"{board}.toml")
    except ProfileError as exc:
        return f"(unusable profile: {exc})"
    title = devices.title or "concentrator board"
    return f"{title}, {devices.bus_kind.upper()} {devices.bus_device}"
