"""Building a started driver on the emulated chip, for the SX1302 tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hal.sx1302.clock import ManualClock
from hal.sx1302.config import ConcentratorConfig, MultiSfChannel, RadioConfig, TxGain
from hal.sx1302.driver import Concentrator
from hal.sx1302.emulator import EmulatedI2CBus, EmulatedSpiDev, EmulatedStts751, EmulatedSx1302
from hal.sx1302.emulator.selftest import synthetic_firmware
from hal.sx1302.spi import SpiTransport

DATA: Final = Path(__file__).parent / "data"
# Copies of ../shared/reference/sx1302 (the reference HAL's traces), kept with the tests so
# a clone runs them anywhere.
REFERENCE: Final = Path(__file__).resolve().parents[2] / "data" / "sx1302"

EU868_GAINS: Final = tuple(
    TxGain(power, pa, index)
    for power, pa, index in ((12, 0, 15), (14, 0, 17), (16, 0, 20), (20, 1, 3), (27, 1, 14))
)


def eu868_config(**changes: object) -> ConcentratorConfig:
    """Section 8's eight channels on two radios, with TX on radio A."""
    layout = zip(
        (1, 1, 1, 0, 0, 0, 0, 0),
        (-400_000, -200_000, 0, -400_000, -200_000, 0, 200_000, 400_000),
        strict=True,
    )
    radio_a = RadioConfig(
        True,
        867_500_000,
        rssi_offset=-215.4,
        tx_enable=True,
        tx_min_hz=863_000_000,
        tx_max_hz=870_000_000,
        tx_gains=EU868_GAINS,
    )
    radio_b = RadioConfig(True, 868_500_000, rssi_offset=-215.4)
    values: dict[str, object] = {
        "radios": (radio_a, radio_b),
        "multi_sf": tuple(MultiSfChannel(True, chain, offset) for chain, offset in layout),
    }
    values.update(changes)
    return ConcentratorConfig(**values)  # type: ignore[arg-type]


@dataclass
class Bench:
    clock: ManualClock
    chip: EmulatedSx1302
    driver: Concentrator
    sensor: EmulatedStts751


def started(config: ConcentratorConfig | None = None, *, sensor_address: int = 0x39) -> Bench:
    clock = ManualClock()
    chip = EmulatedSx1302(clock)
    sensor = EmulatedStts751()
    agc, arb = synthetic_firmware()
    driver = Concentrator(
        SpiTransport(EmulatedSpiDev(chip)),
        config or eu868_config(),
        agc_firmware=agc,
        arb_firmware=arb,
        clock=clock,
        i2c=EmulatedI2CBus(chip, {sensor_address: sensor}),
    )
    driver.start()
    return Bench(clock, chip, driver, sensor)
