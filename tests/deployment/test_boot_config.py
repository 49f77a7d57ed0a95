"""Turning SPI and I2C on in config.txt, as raspi-config would, on a file below a root."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.service.boot_config import enable_dtparams
from tests.cli_helpers import appliance, assert_usage_error

# The relevant part of Raspberry Pi OS Bookworm's stock config.txt.
STOCK = """\
# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

[cm4]
otg_mode=1

[all]
"""


@pytest.mark.parametrize(
    ("before", "buses", "after"),
    [
        # The commented stock lines are switched on in place.
        (
            STOCK,
            ["spi", "i2c"],
            STOCK.replace("#dtparam=i2c_arm=on", "dtparam=i2c_arm=on").replace(
                "#dtparam=spi=on", "dtparam=spi=on"
            ),
        ),
        # Already on: nothing changes.
        ("dtparam=spi=on\n", ["spi"], "dtparam=spi=on\n"),
        # Off becomes on.
        ("dtparam=spi=off\n", ["spi"], "dtparam=spi=on\n"),
        # A later "off" would win over the first line, so it is turned on too.
        ("#dtparam=spi=on\ndtparam=spi=off\n", ["spi"], "dtparam=spi=on\ndtparam=spi=on\n"),
        # Nothing to switch: appended where it applies to every model.
        ("dtparam=audio=on\n", ["i2c"], "dtparam=audio=on\ndtparam=i2c_arm=on\n"),
        ("[pi4]\narm_boost=1\n", ["spi"], "[pi4]\narm_boost=1\n[all]\ndtparam=spi=on\n"),
        # A line inside a model section is not the global setting and stays as it is.
        (
            "[cm4]\ndtparam=spi=off\n[all]\n",
            ["spi"],
            "[cm4]\ndtparam=spi=off\n[all]\ndtparam=spi=on\n",
        ),
        ("", ["spi"], "dtparam=spi=on\n"),
    ],
)
def test_enable_dtparams(before: str, buses: list[str], after: str) -> None:
    assert enable_dtparams(before, buses) == after


def test_cli_enables_the_buses_below_a_root(tmp_path: Path) -> None:
    config = tmp_path / "boot/firmware/config.txt"
    config.parent.mkdir(parents=True)
    config.write_text(STOCK)
    result = appliance("service", "enable-buses", "--spi", "--i2c", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "spi, i2c enabled" in result.stdout
    lines = config.read_text().splitlines()
    assert "dtparam=spi=on" in lines
    assert "dtparam=i2c_arm=on" in lines
    modules = tmp_path / "etc/modules-load.d/lorawan-appliance-i2c.conf"
    assert "i2c-dev" in modules.read_text().splitlines()

    again = appliance("service", "enable-buses", "--spi", "--i2c", "--root", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "already enabled: nothing to change"


def test_cli_finds_the_pre_bookworm_location(tmp_path: Path) -> None:
    config = tmp_path / "boot/config.txt"
    config.parent.mkdir(parents=True)
    config.write_text("#dtparam=spi=on\n")
    result = appliance("service", "enable-buses", "--spi", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert config.read_text() == "dtparam=spi=on\n"


def test_cli_refuses_a_system_without_config_txt(tmp_path: Path) -> None:
    result = appliance("service", "enable-buses", "--spi", "--root", str(tmp_path))
    assert_usage_error(result, "is this Raspberry Pi OS?")


def test_cli_needs_a_bus(tmp_path: Path) -> None:
    assert_usage_error(appliance("service", "enable-buses", "--root", str(tmp_path)), "--spi")
