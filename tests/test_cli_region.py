"""``appliance region list|show`` as a user runs it: ``show`` in a real subprocess, the other
cases through the same entry point in-process (``in_process``), plus the parser's handlers."""

from __future__ import annotations

import argparse
import json

import pytest

from appliance.cli import region_cmd
from appliance.cli.errors import CLIUsageError
from appliance.lorawan.regions import REGION_NAMES
from tests.cli_helpers import appliance, assert_usage_error, in_process, in_process_json


def test_show_eu868_prints_its_parameters_as_json() -> None:
    result = appliance("region", "show", "EU868")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("{\n  ")  # indented
    document = json.loads(result.stdout)
    assert document["name"] == "EU868"
    assert document["rx2"] == {"frequency_hz": 869_525_000, "data_rate": 0}
    assert [c["frequency_hz"] for c in document["channels"]["default_channels"]] == [
        868_100_000,
        868_300_000,
        868_500_000,
    ]
    assert document["data_rates"][0]["max_payload"] == {"M": 59, "N": 51}
    assert document["rx1_data_rate"]["offsets"] == [0, 1, 2, 3, 4, 5]
    assert document["tx_power"]["backoff_db"] == [0, 2, 4, 6, 8, 10, 12, 14]
    assert [b["name"] for b in document["duty_cycle_bands"]][2:] == ["g1", "g2", "g3", "g4"]
    assert document["class_b"]["beacon"]["frequencies_hz"] == [869_525_000]


@pytest.mark.parametrize(("spelling", "name"), [("as923_2", "AS923-2"), ("us915", "US915")])
def test_show_accepts_other_spellings(spelling: str, name: str) -> None:
    assert in_process_json("region", "show", spelling)["name"] == name


def test_show_unknown_region_is_a_one_line_usage_error() -> None:
    result = appliance("region", "show", "XX999")
    assert_usage_error(result, "unknown region 'XX999'")
    assert result.stdout == ""
    for name in REGION_NAMES:
        assert name in result.stderr


def test_list_prints_one_name_per_line() -> None:
    result = in_process("region", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == list(REGION_NAMES)


def test_list_json() -> None:
    listing = in_process_json("region", "list", "--json")
    assert [entry["name"] for entry in listing] == list(REGION_NAMES)
    eu = listing[0]
    assert eu == {
        "name": "EU868",
        "common_name": "EU863-870",
        "section": "2.4",
        "frequency_range_hz": {"min": 863_000_000, "max": 870_000_000},
    }


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("region", "--help"), ("RP002-1.0.4", "list", "show")),
        (("region", "list", "--help"), ("one per line", "--json")),
        (("region", "show", "--help"), ("NAME", "integers in Hz", "AS923-1", "CN470-26B")),
    ],
)
def test_every_command_has_help(args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    result = in_process(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: appliance region")
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for fragment in fragments:
        assert fragment in text


def test_missing_subcommand_or_name_is_a_usage_error() -> None:
    assert_usage_error(in_process("region"), "SUBCOMMAND")
    assert_usage_error(in_process("region", "show"), "NAME")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance")
    region_cmd.register(parser.add_subparsers())
    return parser


def test_handlers_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["region", "show", "cn470-26a"])
    assert args.handler(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["name"] == "CN470-26A"
    assert document["rx2"]["data_rate"] == 1

    args = _parser().parse_args(["region", "show", "CN470"])
    with pytest.raises(CLIUsageError, match=r"unknown region 'CN470' \(known: EU868, "):
        args.handler(args)

    args = _parser().parse_args(["region", "list"])
    assert args.handler(args) == 0
    assert capsys.readouterr().out.split() == list(REGION_NAMES)
