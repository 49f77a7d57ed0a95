"""The ``appliance`` command's own parser: a command that is run loads only the module that
registers it (start-up on a Pi); ``--help`` and unknown commands still see every command."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from appliance.cli.main import _MODULE_OF, build_parser
from tests.cli_helpers import ROOT, appliance, assert_usage_error

HEAVY = ("httpx", "hal.sx1302.backend", "appliance.devicesim", "appliance.service.setup")


def _imported_after(*argv: str) -> list[str]:
    code = (
        "import json, sys\n"
        "from appliance.cli.main import main\n"
        f"assert main({list(argv)!r}) == 0\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("region", "list"), []),
        (("frame", "decode", "40000000010000000100000000"), []),
    ],
)
def test_a_command_loads_only_its_own_module(argv: tuple[str, ...], expected: list[str]) -> None:
    assert _imported_after(*argv) == expected


def test_help_lists_every_command_the_console_too() -> None:
    result = appliance("--help")
    assert result.returncode == 0
    for command in (*_MODULE_OF, "console"):
        assert f"    {command} " in result.stdout, command


def test_an_unknown_command_is_one_line_naming_every_command() -> None:
    result = appliance("bogus")
    assert_usage_error(result, "invalid choice: 'bogus'")
    for command in (*_MODULE_OF, "console"):
        assert f"'{command}'" in result.stderr


def test_every_built_in_command_is_registered_by_the_module_named_for_it() -> None:
    for command in _MODULE_OF:
        parser = build_parser(command)
        (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        assert command in commands.choices, command
