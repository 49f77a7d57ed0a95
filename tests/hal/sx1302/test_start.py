"""The start sequence: every wait times out with an error naming its step, and the chip's
identity is read once started."""

from __future__ import annotations

import pytest

from hal.sx1302 import registers as reg
from hal.sx1302.clock import ManualClock
from hal.sx1302.driver import Concentrator
from hal.sx1302.emulator import EmulatedI2CBus, EmulatedSpiDev, EmulatedSx1302
from hal.sx1302.emulator.selftest import synthetic_firmware
from hal.sx1302.errors import StartError
from hal.sx1302.spi import SpiTransport
from tests.hal.sx1302.helpers import eu868_config, started


def _driver(chip: EmulatedSx1302, clock: ManualClock) -> Concentrator:
    agc, arb = synthetic_firmware()
    return Concentrator(
        SpiTransport(EmulatedSpiDev(chip)),
        eu868_config(),
        agc_firmware=agc,
        arb_firmware=arb,
        clock=clock,
    )


def test_start_reads_identity_and_signals_done() -> None:
    bench = started()
    identity = bench.driver.identity
    assert identity is not None
    assert (identity.model, identity.version, str(identity.eui)) == (
        "SX1302",
        0x10,
        "0016c001ff10a235",
    )
    assert bench.chip.memory[reg.GPIO_OUT.address] == 0x01
    assert bench.chip.agc_status == 0x0F and bench.chip.arb_status == 0x00
    assert bench.chip.radios[0].frequency_hz == 867_500_000
    assert bench.chip.radios[1].frequency_hz == 868_500_000
    assert bench.driver.sensor is not None and bench.driver.sensor.address == 0x39
    assert bench.clock.now < 5  # resets and calibrations only slept on the fake clock


def test_sx1303_is_recognised() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock, model_id=0x03)
    identity = _driver(chip, clock).start()
    assert identity.model == "SX1303" and identity.fine_timestamp_capable


def test_no_chip_on_the_bus() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock)
    chip.memory[reg.VERSION.address] = 0x00
    with pytest.raises(StartError, match=r"'connect'.*version register reads 0x00"):
        _driver(chip, clock).start()


def test_wrong_agc_version_names_the_step() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock, agc_version=6)
    with pytest.raises(StartError) as error:
        _driver(chip, clock).start()
    assert error.value.step == "AGC start"
    assert "version 6, expected 10" in str(error.value)


def test_an_agc_that_never_answers_times_out() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock)
    chip.agc_version = 10
    original = chip._agc_command
    chip._agc_command = lambda command: None if command == 0x05 else original(command)  # type: ignore[method-assign]
    with pytest.raises(StartError) as error:
        _driver(chip, clock).start()
    assert error.value.step == "AGC parameters step 5"
    assert "AGC status is 0x05, expected 0x06 (waited 1 s)" in str(error.value)


def test_an_arb_that_never_resumes_times_out() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock, arb_version=2)
    original = chip._write

    def no_resume(address: int, value: int) -> None:
        if address != reg.ARB_DEBUG_CFG[1].address:
            original(address, value)

    chip._write = no_resume  # type: ignore[method-assign]
    with pytest.raises(StartError, match="'ARB resume'"):
        _driver(chip, clock).start()


def test_program_memory_that_does_not_read_back_is_refused() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock)
    original = chip._read
    chip._read = lambda address: 0xEE if address == 0x0123 else original(address)  # type: ignore[method-assign]
    with pytest.raises(
        StartError, match=r"'AGC firmware load'.*differs from the image at byte 291"
    ):
        _driver(chip, clock).start()


def test_image_calibration_error_is_reported() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock)
    chip.radios[1].device_errors = 0x10
    with pytest.raises(StartError, match="'radio B image calibration'"):
        _driver(chip, clock).start()


def test_missing_temperature_sensor_is_optional() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock)
    agc, arb = synthetic_firmware()
    driver = Concentrator(
        SpiTransport(EmulatedSpiDev(chip)),
        eu868_config(),
        agc_firmware=agc,
        arb_firmware=arb,
        clock=clock,
        i2c=EmulatedI2CBus(chip, {}),
    )
    driver.start()
    assert driver.sensor is None
    assert driver.temperature_c() is None
    assert [line for line in chip.trace if line.startswith("I2C")] == []
