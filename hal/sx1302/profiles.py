"""Board profiles: one TOML file per concentrator board in ``firmware_profiles/``.

A profile says how the board is wired (bus and default device, reset/power/SX1261 pins,
temperature sensor), which radios it has, and per region its RX/TX frequency limits, RSSI
offset and TX gain table. With a region it yields the ``ConcentratorConfig``; no hand-written
global_conf.json. docs/board-profiles.md describes the schema.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import get_region
from hal.channel_plan import gateway_channels
from hal.model import FSKChannel, LoRaChannel
from hal.sx1302.channels import layout_channels
from hal.sx1302.config import (
    ConcentratorConfig,
    RadioConfig,
    RssiTemperatureCompensation,
    TxGain,
)
from hal.sx1302.errors import ProfileError
from hal.sx1302.profile_schema import TableReader

PROFILES_ENV: Final = "APPLIANCE_FIRMWARE_PROFILES"
# The checkout's folder (a development or editable install); an installed appliance keeps them
# beside its virtualenv (/opt/lorawan-appliance/{venv,firmware_profiles}, scripts/install.sh).
SOURCE_PROFILES_DIR: Final = Path(__file__).resolve().parents[2] / "firmware_profiles"
INSTALLED_PROFILES_DIR: Final = Path(sys.prefix).resolve().parent / "firmware_profiles"
DEFAULT_PROFILES_DIR: Final = (
    SOURCE_PROFILES_DIR
    if SOURCE_PROFILES_DIR.is_dir() or not INSTALLED_PROFILES_DIR.is_dir()
    else INSTALLED_PROFILES_DIR
)
# The extra channels an EU868 network announces in its join-accept CFList, so an SX1302
# listens on eight channels as the usual EU868 gateway does.
EU868_EXTRA_FREQUENCIES: Final = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)


@dataclass(frozen=True, slots=True)
class RegionSettings:
    region: str
    rx_min_hz: int
    rx_max_hz: int
    tx_min_hz: int
    tx_max_hz: int
    rssi_offset: float
    tx_gains: tuple[TxGain, ...]
    gain_table: str


@dataclass(frozen=True, slots=True)
class BoardProfile:
    name: str
    title: str
    vendor: str
    chip: str
    path: str
    bus_kind: str  # spi or usb
    device: str
    gpio_chip: str | None
    reset_pin: int | None
    power_pin: int | None
    sx1261_reset_pin: int | None
    reset_commands: tuple[tuple[str, ...], ...]
    temperature_source: str  # i2c, mcu or none
    i2c_device: str | None
    temperature_addresses: tuple[int, ...]
    clock_source: int
    single_input_mode: tuple[bool, bool]
    tx_radio: int
    rssi_tcomp: RssiTemperatureCompensation
    sx1261: bool
    gnss_device: str | None
    regions: dict[str, RegionSettings]

    def region(self, name: str) -> RegionSettings:
        canonical = canonical_region(name)
        settings = self.regions.get(canonical)
        if settings is None:
            known = ", ".join(sorted(self.regions)) or "none"
            raise ProfileError(
                f"profile {self.name} has no settings for {canonical} (it has: {known})"
            )
        return settings


def canonical_region(name: str) -> str:
    try:
        return get_region(name).name
    except InvalidValueError as exc:
        raise ProfileError(str(exc)) from None


def profiles_dir(override: str | Path | None = None) -> Path:
    if override:
        return Path(override)
    return Path(os.environ.get(PROFILES_ENV) or DEFAULT_PROFILES_DIR)


def profile_names(directory: str | Path | None = None) -> list[str]:
    return sorted(path.stem for path in profiles_dir(directory).glob("*.toml"))


def load_profile(name_or_path: str, directory: str | Path | None = None) -> BoardProfile:
    """A profile by name (``rak2287``) from the profiles directory, or by file path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = profiles_dir(directory) / f"{name_or_path}.toml"
        if not path.exists():
            known = ", ".join(profile_names(directory)) or "none"
            raise ProfileError(f"unknown board profile {name_or_path!r} (known: {known})")
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ProfileError(f"board profile {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read board profile {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return parse_profile(TableReader(data, str(path)), path)


def load_all(directory: str | Path | None = None) -> list[BoardProfile]:
    return [load_profile(name, directory) for name in profile_names(directory)]


def _pin(reader: TableReader, key: str) -> int | None:
    return reader.optional_integer(key, low=0, high=1023)


def parse_profile(top: TableReader, path: Path) -> BoardProfile:
    name = top.string("name")
    if name != path.stem:
        raise top.fail("name", f"must match the file name ({path.stem!r}), got {name!r}")
    bus = top.sub("bus", required=True)
    bus_kind = bus.choice("kind", ("spi", "usb"))
    gpio = top.sub("gpio")
    reset = top.sub("reset")
    commands = tuple(
        _command(reset, index, item) for index, item in enumerate(reset.array("commands", []))
    )
    temperature = top.sub("temperature")
    addresses = tuple(
        _address(temperature, index, value)
        for index, value in enumerate(temperature.array("addresses", []))
    )
    i2c_device = temperature.optional_string("i2c_device")
    source = temperature.choice("source", ("i2c", "mcu", "none"), "i2c" if addresses else "none")
    if source == "i2c" and (not addresses or i2c_device is None):
        raise temperature.fail("addresses", "an I2C sensor needs i2c_device and addresses")
    if source == "mcu" and bus_kind != "usb":
        raise temperature.fail("source", "only USB boards report the temperature from their MCU")
    radios = top.sub("radios", required=True)
    radio_type = radios.choice("type", ("sx1250",), "sx1250")
    del radio_type  # validated: every SX1302/SX1303 board uses SX1250 radios
    single = radios.array("single_input_mode", [False, False])
    if len(single) != 2 or not all(isinstance(v, bool) for v in single):
        raise radios.fail("single_input_mode", "must be two booleans (radio A, radio B)")
    tcomp = radios.sub("rssi_tcomp")
    tables = _gain_tables(top.sub("gain_tables"))
    regions = _regions(top.sub("regions", required=True), tables)
    if not regions:
        raise top.fail("regions", "a profile needs at least one region")
    gnss = top.sub("gnss")
    return BoardProfile(
        name=name,
        title=top.string("title"),
        vendor=top.string("vendor"),
        chip=top.choice("chip", ("sx1302", "sx1303")),
        path=str(path),
        bus_kind=bus_kind,
        device=bus.string("device"),
        gpio_chip=gpio.optional_string("chip"),
        reset_pin=_pin(gpio, "reset"),
        power_pin=_pin(gpio, "power"),
        sx1261_reset_pin=_pin(gpio, "sx1261_reset"),
        reset_commands=commands,
        temperature_source=source,
        i2c_device=i2c_device,
        temperature_addresses=addresses,
        clock_source=radios.integer("clock_source", 0, low=0, high=1),
        single_input_mode=(single[0], single[1]),
        tx_radio=radios.integer("tx_radio", 0, low=0, high=1),
        rssi_tcomp=RssiTemperatureCompensation(*(tcomp.number(k, 0.0) for k in "abcde")),
        sx1261=top.sub("sx1261").boolean("present", False),
        gnss_device=gnss.optional_string("device"),
        regions=regions,
    )


def _command(reader: TableReader, index: int, item: object) -> tuple[str, ...]:
    if not isinstance(item, list) or not item or not all(isinstance(a, str) for a in item):
        raise reader.fail(f"commands[{index}]", "must be a non-empty array of strings")
    return tuple(item)


def _address(reader: TableReader, index: int, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0x03 <= value <= 0x77:
        raise reader.fail(f"addresses[{index}]", f"must be a 7-bit I2C address, got {value!r}")
    return value


def _gain_tables(tables: TableReader) -> dict[str, tuple[TxGain, ...]]:
    result: dict[str, tuple[TxGain, ...]] = {}
    for name in tables.table:
        table = tables.sub(name)
        rows = []
        for index, row in enumerate(table.array("rows")):
            if not isinstance(row, dict):
                raise table.fail(f"rows[{index}]", "must be an inline table")
            entry = TableReader(row, table.source, f"{table.prefix}rows[{index}].")
            try:
                rows.append(
                    TxGain(
                        rf_power=entry.integer("rf_power", low=-10, high=32),
                        pa_gain=entry.integer("pa_gain", low=0, high=3),
                        pwr_idx=entry.integer("pwr_idx", low=0, high=22),
                        dig_gain=entry.integer("dig_gain", 0, low=0, high=3),
                    )
                )
            except ProfileError as exc:
                raise table.fail(f"rows[{index}]", str(exc)) from None
        powers = [row.rf_power for row in rows]
        if not rows or len(rows) > 16 or powers != sorted(set(powers)):
            raise table.fail("rows", "1..16 rows in increasing rf_power order")
        result[name] = tuple(rows)
    return result


def _regions(
    regions: TableReader, tables: dict[str, tuple[TxGain, ...]]
) -> dict[str, RegionSettings]:
    result: dict[str, RegionSettings] = {}
    for key in regions.table:
        table = regions.sub(key)
        try:
            canonical = get_region(key).name
        except InvalidValueError:
            raise table.fail("", f"{key!r} is not a region name") from None
        if canonical != key:
            raise table.fail("", f"write the region as {canonical!r}")
        gain_name = table.string("tx_gain_table")
        if gain_name not in tables:
            raise table.fail("tx_gain_table", f"no [gain_tables.{gain_name}] in this profile")
        settings = RegionSettings(
            region=canonical,
            rx_min_hz=table.integer("rx_min_hz", low=100_000_000, high=1_100_000_000),
            rx_max_hz=table.integer("rx_max_hz", low=100_000_000, high=1_100_000_000),
            tx_min_hz=table.integer("tx_min_hz", low=100_000_000, high=1_100_000_000),
            tx_max_hz=table.integer("tx_max_hz", low=100_000_000, high=1_100_000_000),
            rssi_offset=table.number("rssi_offset"),
            tx_gains=tables[gain_name],
            gain_table=gain_name,
        )
        if settings.rx_min_hz >= settings.rx_max_hz or settings.tx_min_hz >= settings.tx_max_hz:
            raise table.fail("rx_min_hz", "each minimum must be below its maximum")
        result[canonical] = settings
    return result


def region_channels(
    region_name: str, *, sub_band: int | None = None, extra_frequencies: Iterable[int] | None = None
) -> tuple[LoRaChannel | FSKChannel, ...]:
    """The channels a gateway of ``region_name`` listens on (EU868: the usual eight)."""
    region = get_region(region_name)
    if extra_frequencies is None:
        extra_frequencies = EU868_EXTRA_FREQUENCIES if region.name == "EU868" else ()
    try:
        return gateway_channels(
            region, sub_band=sub_band, extra_frequencies=tuple(extra_frequencies)
        )
    except InvalidValueError as exc:
        raise ProfileError(str(exc)) from None


def concentrator_config(
    profile: BoardProfile,
    region_name: str,
    *,
    channels: tuple[LoRaChannel | FSKChannel, ...] | None = None,
    sub_band: int | None = None,
    extra_frequencies: Iterable[int] | None = None,
    lorawan_public: bool = True,
    antenna_gain_db: float = 0.0,
) -> ConcentratorConfig:
    settings = profile.region(region_name)
    if channels is None:
        channels = region_channels(
            settings.region, sub_band=sub_band, extra_frequencies=extra_frequencies
        )
    for channel in channels:
        if not settings.rx_min_hz <= channel.frequency <= settings.rx_max_hz:
            raise ProfileError(
                f"channel {channel.frequency} Hz is outside {profile.name}'s {settings.region} RX "
                f"range {settings.rx_min_hz}..{settings.rx_max_hz} Hz"
            )
    layout = layout_channels(channels)
    radios = []
    for chain in (0, 1):
        frequency = layout.radio_frequencies[chain]
        tx = chain == profile.tx_radio
        radios.append(
            RadioConfig(
                enable=frequency != 0,
                frequency_hz=frequency,
                rssi_offset=settings.rssi_offset,
                rssi_tcomp=profile.rssi_tcomp,
                single_input_mode=profile.single_input_mode[chain],
                tx_enable=tx and frequency != 0,
                tx_min_hz=settings.tx_min_hz if tx else 0,
                tx_max_hz=settings.tx_max_hz if tx else 0,
                tx_gains=settings.tx_gains if tx else (),
            )
        )
    return ConcentratorConfig(
        radios=(radios[0], radios[1]),
        multi_sf=layout.multi_sf,
        service=layout.service,
        fsk=layout.fsk,
        clock_source=profile.clock_source,
        lorawan_public=lorawan_public,
        antenna_gain_db=antenna_gain_db,
    )
