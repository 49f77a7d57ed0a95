"""DeviceAllow= drop-ins from board profiles, as a function and as ``appliance service``."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.service.board_profiles import (
    BoardDevices,
    ProfileError,
    board_devices,
    list_boards,
    load_board_devices,
    profile_path,
)
from appliance.service.device_allow import device_rules, render_drop_in
from tests.cli_helpers import ROOT, appliance, assert_usage_error
from tests.deployment.conftest import SPI_PROFILE, USB_PROFILE, write_profile


@pytest.mark.parametrize(
    ("devices", "specifiers"),
    [
        (
            BoardDevices("spi", "/dev/spidev0.0", "/dev/gpiochip0", "/dev/i2c-1"),
            ["/dev/spidev0.0", "/dev/gpiochip0", "/dev/i2c-1"],
        ),
        (BoardDevices("spi", "/dev/spidev1.0"), ["/dev/spidev1.0"]),
        (BoardDevices("usb", "/dev/ttyACM0"), ["char-ttyACM"]),
        (BoardDevices("usb", "/dev/ttyUSB1"), ["char-ttyUSB"]),
        # A udev link may point at either kind of USB serial device.
        (BoardDevices("usb", "/dev/lorawan/concentrator-usb"), ["char-ttyACM", "char-ttyUSB"]),
        (
            BoardDevices("usb", "/dev/ttyACM0", gpio_chip="/dev/gpiochip4"),
            ["char-ttyACM", "/dev/gpiochip4"],
        ),
    ],
)
def test_rules_per_board(devices: BoardDevices, specifiers: list[str]) -> None:
    assert [rule.specifier for rule in device_rules(devices)] == specifiers


def test_drop_in_text_is_a_service_section_with_one_line_per_device() -> None:
    rules = device_rules(BoardDevices("spi", "/dev/spidev0.0", "/dev/gpiochip0"))
    text = render_drop_in(rules, board="corecell", profile="/opt/p/corecell.toml")
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert body == [
        "[Service]",
        "DeviceAllow=/dev/spidev0.0 rw",
        "DeviceAllow=/dev/gpiochip0 rw",
    ]
    assert "corecell" in text.splitlines()[0]


def test_no_board_gives_an_empty_service_section() -> None:
    text = render_drop_in([], board="none", profile=None)
    assert [line for line in text.splitlines() if not line.startswith("#")] == ["[Service]"]


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({}, "[bus] must be a table"),
        ({"bus": "spi"}, "[bus] must be a table"),
        ({"bus": {"kind": "pcie", "device": "/dev/x"}}, 'bus.kind must be "spi" or "usb"'),
        ({"bus": {"kind": "spi"}}, "bus.device must be a device path"),
        ({"bus": {"kind": "spi", "device": "spidev0.0"}}, "bus.device must be a device path"),
        ({"bus": {"kind": "spi", "device": "/dev/../etc/shadow"}}, "bus.device"),
        ({"bus": {"kind": "spi", "device": "/dev/spidev0.0 rwm"}}, "bus.device"),
        ({"bus": {"kind": "spi", "device": "/dev/x\nDeviceAllow=/dev/sda"}}, "bus.device"),
        ({"bus": {"kind": "spi", "device": "/dev/x"}, "gpio": {"chip": 0}}, "gpio.chip"),
        (
            {"bus": {"kind": "spi", "device": "/dev/x"}, "temperature": {"i2c_device": ""}},
            "temperature.i2c_device",
        ),
        ({"bus": {"kind": "spi", "device": "/dev/x"}, "gpio": []}, "[gpio] must be a table"),
    ],
)
def test_bad_profiles_are_refused_naming_the_key(
    document: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ProfileError, match=None) as caught:
        board_devices(document, "board.toml")
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("board.toml")


def test_other_profile_keys_are_the_drivers_business(tmp_path: Path) -> None:
    path = write_profile(tmp_path, "rich", SPI_PROFILE + '\n[radios]\nclock = "A"\n[tx_gain]\n')
    assert load_board_devices(path) == BoardDevices(
        "spi", "/dev/spidev0.0", "/dev/gpiochip0", "/dev/i2c-1"
    )


def test_profiles_are_listed_and_looked_up_by_name(tmp_path: Path) -> None:
    write_profile(tmp_path, "rak5146-spi", SPI_PROFILE)
    write_profile(tmp_path, "corecell-usb", USB_PROFILE)
    (tmp_path / "README.md").write_text("not a profile")
    (tmp_path / "Bad Name.toml").write_text(SPI_PROFILE)
    assert list_boards(tmp_path) == ["corecell-usb", "rak5146-spi"]
    assert list_boards(tmp_path / "missing") == []
    assert profile_path(tmp_path, "rak5146-spi") == tmp_path / "rak5146-spi.toml"
    with pytest.raises(ProfileError, match=r"unknown board 'rak2245' \(known: corecell-usb"):
        profile_path(tmp_path, "rak2245")
    with pytest.raises(ProfileError, match="not valid"):
        profile_path(tmp_path, "../etc/passwd")


def test_cli_prints_the_drop_in(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, "corecell", SPI_PROFILE)
    result = appliance("service", "device-allow", "--profile", str(profile))
    assert result.returncode == 0, result.stderr
    assert "DeviceAllow=/dev/spidev0.0 rw" in result.stdout
    assert "DeviceAllow=/dev/gpiochip0 rw" in result.stdout
    assert "DeviceAllow=/dev/i2c-1 rw" in result.stdout


def test_cli_writes_the_drop_in_to_a_file(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, "corecell-usb", USB_PROFILE)
    output = tmp_path / "50-devices.conf"
    result = appliance(
        "service", "device-allow", "--profile", str(profile), "--output", str(output)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "DeviceAllow=char-ttyACM rw" in output.read_text()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[bus\n", "is not valid TOML"),
        ('[bus]\nkind = "spi"\n', "bus.device must be a device path"),
    ],
)
def test_cli_refuses_bad_profiles_in_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    profile = write_profile(tmp_path, "broken", text)
    assert_usage_error(appliance("service", "device-allow", "--profile", str(profile)), fragment)


def test_cli_refuses_a_missing_profile(tmp_path: Path) -> None:
    result = appliance("service", "device-allow", "--profile", str(tmp_path / "nope.toml"))
    assert_usage_error(result, "cannot read board profile")


@pytest.mark.parametrize(
    "profile",
    sorted((ROOT / "firmware_profiles").glob("*.toml")),
    ids=lambda path: path.stem,
)
def test_every_shipped_profile_gives_a_drop_in(profile: Path) -> None:
    devices = load_board_devices(profile)
    rules = device_rules(devices)
    assert rules, profile
    text = render_drop_in(rules, board=profile.stem, profile=str(profile))
    assert all(rule.line() in text.splitlines() for rule in rules)
