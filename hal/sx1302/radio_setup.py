"""Start steps 2-5: radio resets, SX1250 calibration and setup, the SX1302's clock source.

The radios are reset through the SX1302 (RF_EN registers), calibrated for their band, set to
continuous reception (which clocks the SX1302), and handed over to the AGC firmware.
"""

from __future__ import annotations

from typing import Final

from hal.sx1302 import registers as reg
from hal.sx1302.chip import Chip
from hal.sx1302.clock import Clock
from hal.sx1302.config import ConcentratorConfig
from hal.sx1302.sx1250 import Sx1250

RESET_PULSE_S: Final = 0.5
RESET_SETTLE_S: Final = 0.01


def reset_radio(chip: Chip, chain: int, clock: Clock) -> None:
    """Radio reset with the SPI clock selected; the SX1250 gets a second pulse to calibrate."""
    chip.set(reg.CLK32_RIF_CTRL, 0)
    chip.set(reg.RADIO_ENABLE[chain], 1)
    chip.set(reg.RADIO_RESET[chain], 1)
    clock.sleep(RESET_PULSE_S)
    chip.set(reg.RADIO_RESET[chain], 0)
    clock.sleep(RESET_SETTLE_S)
    chip.set(reg.RADIO_RESET[chain], 1)
    clock.sleep(RESET_SETTLE_S)


def select_sx1250_mode(chip: Chip, chain: int) -> None:
    chip.set(reg.SX1261_MODE_RADIO[chain], 1)


def select_clock(chip: Chip, source: int) -> None:
    """Run the SX1302 from the 32 MHz clock of radio ``source``."""
    chip.set(reg.CLK_RADIO_SELECT[0], 1 if source == 0 else 0)
    chip.set(reg.CLK_RADIO_SELECT[1], 1 if source == 1 else 0)
    chip.set(reg.CLKDIV_EN, 1)
    chip.set(reg.CLK32_RIF_CTRL, 1)


def calibrate_radios(chip: Chip, config: ConcentratorConfig, clock: Clock) -> None:
    enabled = [chain for chain, radio in enumerate(config.radios) if radio.enable]
    for chain in enabled:
        reset_radio(chip, chain, clock)
        select_sx1250_mode(chip, chain)
    select_clock(chip, config.clock_source)
    # Keep PA and LNA off while the radios calibrate.
    chip.set(reg.AGC_FORCE_HOST_FE_CTRL, 1)
    chip.set(reg.RADIO_A_PA_EN, 0)
    chip.set(reg.RADIO_A_LNA_EN, 0)
    for chain in enabled:
        Sx1250(chip.transport, chain, clock.sleep).calibrate_image(
            config.radios[chain].frequency_hz
        )
    chip.set(reg.AGC_FORCE_HOST_FE_CTRL, 0)


def setup_radios(chip: Chip, config: ConcentratorConfig, clock: Clock) -> None:
    for chain, radio in enumerate(config.radios):
        if not radio.enable:
            continue
        reset_radio(chip, chain, clock)
        Sx1250(chip.transport, chain, clock.sleep).setup(
            radio.frequency_hz, single_input=radio.single_input_mode
        )
        select_sx1250_mode(chip, chain)
    select_clock(chip, config.clock_source)
    chip.set(reg.HOST_RADIO_CTRL, 0)  # the AGC firmware drives the radios from here on
