"""Board profiles: every board of boards.md, validated on load, producing configurations."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from hal.sx1302.errors import ProfileError
from hal.sx1302.global_conf import load_global_conf
from hal.sx1302.profiles import (
    DEFAULT_PROFILES_DIR,
    concentrator_config,
    load_all,
    load_profile,
    profile_names,
)

# The SX1302/SX1303 rows of shared/reference/boards.md, as profile names (USB variants of
# boards sold with either bus, MultiTech cards per slot).
BOARDS = {
    "dragino-pg1302",
    "elecrow-lr1302",
    "elecrow-lr1302-usb",
    "embit-emb-lr1302-mpcie",
    "embit-emb-lr1302-mpcie-usb",
    "miromico-gwc-02-lw-868",
    "miromico-gwc-02-lw-915",
    "multitech-mtac-003e00-ap1",
    "multitech-mtac-003e00-ap2",
    "multitech-mtac-003u00-ap1",
    "multitech-mtac-003u00-ap2",
    "multitech-mtcap3-003e00",
    "multitech-mtcap3-003u00",
    "rak2287",
    "rak2287-usb",
    "rak5146",
    "rak5146-usb",
    "seeed-wm1302",
    "seeed-wm1302-usb",
    "semtech-sx1302c490gw1",
    "semtech-sx1302c868gw1",
    "semtech-sx1302c915gw1",
    "semtech-sx1302css868gw1",
    "semtech-sx1302css915gw1",
    "semtech-sx1302css923gw1",
    "waveshare-sx1302-lorawan-gateway-hat",
}


def test_every_board_has_a_profile_that_loads() -> None:
    assert set(profile_names()) == BOARDS
    for profile in load_all():
        assert profile.regions
        for region in profile.regions:
            sub_band = 1 if region in ("US915", "AU915") or region.startswith("CN470") else None
            config = concentrator_config(profile, region, sub_band=sub_band)
            assert config.radios[0].enable and config.radios[0].tx_enable
            assert config.radios[0].tx_gains


def test_profiles_name_their_sources_and_keep_the_device_keys() -> None:
    """The systemd DeviceAllow= generator reads [bus].device, [gpio].chip and
    [temperature].i2c_device: those keys must stay where they are."""
    for path in DEFAULT_PROFILES_DIR.glob("*.toml"):
        text = path.read_text()
        assert "Concentratord" in text.split("\n\n")[0], path.name
        data = tomllib.loads(text)
        assert data["bus"]["kind"] in ("spi", "usb")
        assert data["bus"]["device"].startswith("/dev/")
        if "gpio" in data:
            assert data["gpio"]["chip"] == "/dev/gpiochip0"
        if data["temperature"].get("addresses"):
            assert data["temperature"]["i2c_device"] == "/dev/i2c-1"


def test_board_facts_from_boards_md() -> None:
    corecell = load_profile("semtech-sx1302c868gw1")
    assert (corecell.reset_pin, corecell.power_pin, corecell.sx1261_reset_pin) == (23, 18, 22)
    assert corecell.temperature_addresses == (0x3B, 0x39, 0x38)
    rak = load_profile("rak2287")
    assert (rak.reset_pin, rak.temperature_source) == (17, "none")
    usb = load_profile("semtech-sx1302css868gw1")
    assert (usb.bus_kind, usb.device, usb.temperature_source, usb.reset_pin) == (
        "usb",
        "/dev/ttyACM0",
        "mcu",
        None,
    )
    assert load_profile("rak5146").chip == "sx1303"
    assert load_profile("multitech-mtcap3-003e00").reset_commands[0][0] == "mts-io-sysfs"
    eu = corecell.region("eu868")
    assert (eu.tx_min_hz, eu.tx_max_hz, eu.rssi_offset) == (863_000_000, 870_000_000, -215.4)
    assert [(g.rf_power, g.pa_gain, g.pwr_idx) for g in eu.tx_gains][:3] == [
        (12, 0, 15),
        (13, 0, 16),
        (14, 0, 17),
    ]


def test_profile_and_region_give_the_eu868_layout() -> None:
    config = concentrator_config(load_profile("rak2287"), "EU868")
    frequencies = sorted(config.channel_frequency(n) for n in range(8))
    assert frequencies == [
        867_100_000,
        867_300_000,
        867_500_000,
        867_700_000,
        867_900_000,
        868_100_000,
        868_300_000,
        868_500_000,
    ]
    assert config.radios[0].single_input_mode and not config.radios[1].single_input_mode
    assert config.radios[1].rssi_offset == -215.4


def _profile(tmp_path: Path, text: str, name: str = "board") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


VALID = """
name = "board"
title = "A board"
vendor = "Someone"
chip = "sx1302"
[bus]
kind = "spi"
device = "/dev/spidev0.0"
[radios]
[gain_tables.eu]
rows = [ { rf_power = 14, pa_gain = 0, pwr_idx = 17 } ]
[regions.EU868]
rx_min_hz = 863_000_000
rx_max_hz = 870_000_000
tx_min_hz = 863_000_000
tx_max_hz = 870_000_000
rssi_offset = -215.4
tx_gain_table = "eu"
"""


def test_a_minimal_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(str(_profile(tmp_path, VALID)))
    assert (profile.gpio_chip, profile.reset_pin, profile.temperature_source) == (
        None,
        None,
        "none",
    )


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ('name = "board"', 'name = "other"', "name: must match the file name"),
        ('kind = "spi"', 'kind = "i2c"', "bus.kind: must be one of spi, usb"),
        ('chip = "sx1302"', 'chip = "sx1301"', "chip: must be one of sx1302, sx1303"),
        ('tx_gain_table = "eu"', 'tx_gain_table = "us"', "no [gain_tables.us]"),
        ("pwr_idx = 17", "pwr_idx = 40", "pwr_idx: must be within 0..22"),
        ("rssi_offset = -215.4", 'rssi_offset = "low"', "rssi_offset: must be a number"),
        ("[regions.EU868]", "[regions.eu868]", "write the region as 'EU868'"),
        ("[radios]", '[radios]\ntype = "sx1257"', "radios.type: must be one of sx1250"),
        ('device = "/dev/spidev0.0"', "", "bus.device: missing"),
        ("[bus]", '[temperature]\nsource = "mcu"\n[bus]', "only USB boards report"),
        ("title", "title = [", "not valid TOML"),
    ],
)
def test_invalid_profiles_name_the_file_and_key(
    tmp_path: Path, old: str, new: str, fragment: str
) -> None:
    path = _profile(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ProfileError) as error:
        load_profile(str(path))
    assert str(path) in str(error.value)
    assert fragment in str(error.value)


def test_a_channel_outside_the_boards_range_is_refused(tmp_path: Path) -> None:
    profile = load_profile(
        str(_profile(tmp_path, VALID.replace("rx_max_hz = 870_000_000", "rx_max_hz = 868_000_000")))
    )
    with pytest.raises(ProfileError, match="868100000 Hz is outside board's EU868 RX range"):
        concentrator_config(profile, "EU868")


def test_global_conf_gives_the_same_configuration_as_the_profile(tmp_path: Path) -> None:
    """A forwarder file written for the board and plan yields the very same configuration."""
    profile = load_profile("semtech-sx1302c868gw1")
    config = concentrator_config(profile, "EU868")
    radios = {}
    for index, radio in enumerate(config.radios):
        radios[f"radio_{index}"] = {
            "enable": radio.enable,
            "type": "SX1250",
            "freq": radio.frequency_hz,
            "rssi_offset": radio.rssi_offset,
            "rssi_tcomp": {f"coeff_{k}": getattr(radio.rssi_tcomp, k) for k in "abcde"},
            "single_input_mode": radio.single_input_mode,
            "tx_enable": radio.tx_enable,
            "tx_freq_min": radio.tx_min_hz,
            "tx_freq_max": radio.tx_max_hz,
            "tx_gain_lut": [
                {"rf_power": g.rf_power, "pa_gain": g.pa_gain, "pwr_idx": g.pwr_idx}
                for g in radio.tx_gains
            ],
        }
    channels = {
        f"chan_multiSF_{n}": {"enable": c.enable, "radio": c.rf_chain, "if": c.if_hz}
        for n, c in enumerate(config.multi_sf)
    }
    document = {
        "SX130x_conf": {
            "com_type": "SPI",
            "com_path": "/dev/spidev0.0",
            "clksrc": 0,
            **radios,
            **channels,
        }
    }
    path = tmp_path / "global_conf.json"
    path.write_text("/* from the profile */\n" + json.dumps(document, indent=1))
    assert load_global_conf(path).config == config


def test_an_installed_appliance_finds_the_profiles_beside_its_virtualenv(tmp_path: Path) -> None:
    """Installed without the checkout (scripts/install.sh: /opt/lorawan-appliance/venv and
    /opt/lorawan-appliance/firmware_profiles), the default is the folder beside the venv."""
    (tmp_path / "firmware_profiles").mkdir()
    venv = tmp_path / "venv"
    venv.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        sys.prefix = {str(venv)!r}
        import hal.sx1302.profiles as p
        assert p.SOURCE_PROFILES_DIR.is_dir()  # the checkout: it wins when present
        print(p.INSTALLED_PROFILES_DIR)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(out) == (tmp_path / "firmware_profiles").resolve()
