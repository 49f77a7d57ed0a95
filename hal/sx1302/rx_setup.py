"""Start steps 6-7: timestamps, GPIOs, front-end, channelizer, correlators, modems, sync words.

The values are the reference HAL's tuning of the SX1302 (docs/sx1302.md names the source);
the channel plan enters through the IF frequencies, the radio selections and the enable masks.
"""

from __future__ import annotations

from typing import Final

from hal.sx1302 import registers as reg
from hal.sx1302.chip import Chip
from hal.sx1302.config import LORA_BANDWIDTHS, ConcentratorConfig, FskChannel, ServiceChannel

GPIO_CFG_REGISTER: Final = 0x00
GPIO_CFG_AGC: Final = 0x01
GPIO_CFG_STATUS: Final = 0x09
# GPIO 0 = CONFIG_DONE, 2 = TX on, 4 = RX on, 7 = input for LBT; the others unused.
GPIO_SELECTION: Final = (0, 0, GPIO_CFG_STATUS, 0, GPIO_CFG_STATUS, 0, 0, GPIO_CFG_AGC)
GPIO_OUTPUTS: Final = 0x7F
FREQ_TRACK_AUTO: Final = 3
FREQ_TRACK_OFF: Final = 0
FINE_TIMING_MODE_LINEAR: Final = 2
DFT_PEAK_MODE_AUTO: Final = 3
SYNC_PUBLIC: Final = (6, 8)  # sync word 0x34
SYNC_PRIVATE: Final = (2, 4)  # sync word 0x12


def if_register(if_hz: int) -> int:
    """IF frequency in the channelizer's unit (15625/32 Hz), truncated toward zero."""
    magnitude = abs(if_hz) * 32 // 15625
    return -magnitude if if_hz < 0 else magnitude


def write_if(chip: Chip, msb: reg.Field, lsb: reg.Field, if_hz: int) -> None:
    value = if_register(if_hz)
    chip.set(msb, (value >> 8) & 0x1F)
    chip.set(lsb, value & 0xFF)


def freq_to_time_drift(radio_hz: int, bandwidth_hz: int) -> tuple[int, int]:
    """(mantissa, exponent) of the modem's frequency-to-time drift compensation."""
    mantissa = bandwidth_hz * (1 << 20) // radio_hz
    exponent = 0
    while mantissa < 2048:
        exponent += 1
        mantissa <<= 1
    return mantissa, exponent


def low_datarate_optimize(bandwidth_hz: int, spreading_factor: int) -> bool:
    return (bandwidth_hz == 125_000 and spreading_factor >= 11) or (
        bandwidth_hz == 250_000 and spreading_factor == 12
    )


def configure_timestamp_and_gpio(chip: Chip) -> None:
    chip.set(reg.LEGACY_TIMESTAMP, 1)  # end-of-packet timestamps, as an SX1301 gives
    for field, selection in zip(reg.GPIO_SELECT, GPIO_SELECTION, strict=True):
        chip.set(field, selection)
    chip.set(reg.GPIO_DIRECTION, GPIO_OUTPUTS)


def configure_front_end(chip: Chip) -> None:
    for chain in (0, 1):
        chip.set(reg.PA_LUT[chain], 0x04)  # PA control high when PA_EN
        chip.set(reg.LNA_LUT[chain], 0x02)  # LNA control high when LNA_EN and not PA_EN
    for chain in (0, 1):
        chip.set(reg.RSSI_BB_FILTER_ALPHA[chain], 0x03)
        chip.set(reg.RSSI_DEC_FILTER_ALPHA[chain], 0x07)
    for chain in (0, 1):
        chip.set(reg.RSSI_DB_DEFAULT[chain], 23)
        chip.set(reg.RSSI_DEC_DEFAULT[chain], 66)
    for chain in (0, 1):
        chip.set(reg.DC_NOTCH_EN[chain], 1)
        chip.set(reg.HOST_FILTER_GAIN[chain], 0x0B)


def configure_channelizer(chip: Chip, config: ConcentratorConfig) -> None:
    mask = sum(channel.rf_chain << n for n, channel in enumerate(config.multi_sf))
    chip.set(reg.MULTI_SF_RADIO_SELECT, mask)
    chip.set(reg.SERVICE_RADIO_SELECT, config.service.rf_chain)
    chip.set(reg.FSK_RADIO_SELECT, config.fsk.rf_chain)
    for n, channel in enumerate(config.multi_sf):
        write_if(
            chip, reg.IF_FREQ_MSB[n], reg.IF_FREQ_LSB[n], channel.if_hz if channel.enable else 0
        )
    service_if = config.service.if_hz if config.service.enable else 0
    write_if(chip, reg.SERVICE_IF_FREQ_MSB, reg.SERVICE_IF_FREQ_LSB, service_if)
    fsk_if = config.fsk.if_hz if config.fsk.enable else 0
    write_if(chip, reg.FSK_IF_FREQ_MSB, reg.FSK_IF_FREQ_LSB, fsk_if)
    chip.set(reg.RSSI_FILTER_ALPHA, 0x05)
    chip.set(reg.CHAN_RSSI_DEFAULT, 85)
    # Gains under AGC control; the channelizer's own DAGC off.
    chip.set(reg.CHAN_DAGC_MODE, 0x01)
    chip.set(reg.CHAN_DAGC_THRESHOLD_HIGH, 255)
    chip.set(reg.CHAN_DAGC_THRESHOLD_LOW, 0)
    chip.set(reg.CHAN_DAGC_MAX_ATTEN, 15)
    chip.set(reg.CHAN_DAGC_MIN_ATTEN, 0)


def configure_correlators(chip: Chip, config: ConcentratorConfig) -> None:
    for sf in range(5, 13):
        acc_pnr, msp_pnr, peak_nb, peak2_nb = reg.correlator_fields(sf)
        chip.set(acc_pnr, 52)
        chip.set(msp_pnr, 24)
        chip.set(peak_nb, 7)
        chip.set(peak2_nb, 5)
    chip.set(reg.CORR_ONLY_FIRST_DET_EDGE, 0xFF)
    chip.set(reg.CORR_ACC_CLEAR, 0xFF)
    chip.set(reg.CORR_SF_ENABLE, config.multi_sf_mask)
    enabled = sum(1 << n for n, channel in enumerate(config.multi_sf) if channel.enable)
    chip.set(reg.CORR_CLOCK_ENABLE, enabled)
    chip.set(reg.CORR_ENABLE, enabled)


def configure_multi_sf_modems(chip: Chip, radio_hz: int) -> None:
    chip.set(reg.DC_NOTCH_ENABLE, 0)
    chip.set(reg.FORCE_DEFAULT_FIR, 1)
    chip.set(reg.DAGC_GAIN_DROP_COMP, 1)
    chip.set(reg.DAGC_TARGET_LVL, 1)
    chip.set(reg.OTP_MODEM_EN[0], 0xFF)  # 8 full-SF modems
    chip.set(reg.OTP_MODEM_EN[1], 0xFF)  # 8 limited-SF modems
    chip.set(reg.MODEM_SYNC_DELTA_MSB, 0)
    chip.set(reg.MODEM_SYNC_DELTA_LSB, 126)
    for n, offset in enumerate((1, 5, 9, 13, 1, 5, 9, 13)):
        chip.set(reg.CHANNEL_SYNC_OFFSET[n], offset)
    for sf in range(5, 13):
        chip.set(reg.ppm_offset_field(sf), 1 if sf >= 11 else 0)
    chip.set(reg.FINE_TIMING_A_GAIN_P_AUTO, 3)
    chip.set(reg.FINE_TIMING_A_GAIN_P_PAYLOAD, 3)
    chip.set(reg.FINE_TIMING_A_GAIN_I_EN[11], 1)
    chip.set(reg.FINE_TIMING_A_GAIN_I_EN[12], 1)
    chip.set(reg.FREQ_SYNCH_THR, 15)
    for sf in range(5, 13):
        chip.set(reg.freq_track_field("A", sf), FREQ_TRACK_AUTO)
    for sf in range(5, 13):
        chip.set(reg.freq_track_field("B", sf), FREQ_TRACK_OFF)
    chip.set(reg.FINE_TIMING_B_GAIN_I_EN[11], 0)
    chip.set(reg.FINE_TIMING_B_GAIN_I_EN[12], 0)
    chip.set(reg.FINE_TIMING_B_ROUNDING, 1)
    chip.set(reg.FINE_TIMING_B_MODE, FINE_TIMING_MODE_LINEAR)
    chip.set(reg.FINE_TIMING_B_GAIN_P_AUTO, 0)
    chip.set(reg.FINE_TIMING_B_GAIN_P_PREAMB, 6)
    chip.set(reg.FINE_TIMING_B_GAIN_P_PAYLOAD, 2)
    chip.set(reg.FINE_TIMING_B_GAIN_I_AUTO, 0)
    chip.set(reg.FINE_TIMING_B_GAIN_I_PREAMB, 1)
    chip.set(reg.FINE_TIMING_B_GAIN_I_PAYLOAD, 0)
    # A preamble of 10 symbols covers SF5/SF6 (12) and SF7..SF12 (8).
    chip.set(reg.PREAMBLE_SYMB_NB_MSB, 0)
    chip.set(reg.PREAMBLE_SYMB_NB_LSB, 10)
    mantissa, exponent = freq_to_time_drift(radio_hz, 125_000)
    chip.set(reg.FREQ_TO_TIME_MANT_MSB, (mantissa >> 8) & 0xFF)
    chip.set(reg.FREQ_TO_TIME_MANT_LSB, mantissa & 0xFF)
    chip.set(reg.FREQ_TO_TIME_EXP, exponent)
    chip.set(reg.FREQ_TO_TIME_INVERT_TIME_SYMB, 1)
    chip.set(reg.DFT_PEAK_EN, DFT_PEAK_MODE_AUTO)


def configure_service_modem(chip: Chip, channel: ServiceChannel, radio_hz: int) -> None:
    sf, bandwidth = channel.spreading_factor, channel.bandwidth_hz
    chip.set(reg.SERVICE_MSP_PEAK_NB, 7)
    chip.set(reg.SERVICE_MSP2_PEAK_NB, 5)
    chip.set(reg.SERVICE_USE_GAIN_SYMB, 1)
    chip.set(reg.SERVICE_FINE_SYNCH_EN, 1 if sf <= 6 else 0)
    chip.set(reg.SERVICE_ACC_PNR, 52)
    chip.set(reg.SERVICE_DC_NOTCH_ENABLE, 0)
    chip.set(reg.SERVICE_FORCE_DEFAULT_FIR, 1)
    chip.set(reg.SERVICE_DAGC_GAIN_DROP_COMP, 1)
    chip.set(reg.SERVICE_DAGC_TARGET_LVL, 1)
    chip.set(reg.SERVICE_GAIN_P_AUTO, 3)
    chip.set(reg.SERVICE_GAIN_I_PAYLOAD, 3)
    if sf <= 6:
        chip.set(reg.SERVICE_GAIN_P_PREAMB, 4)
        chip.set(reg.SERVICE_GAIN_I_EN, 0)
    elif sf <= 10:
        chip.set(reg.SERVICE_GAIN_P_PREAMB, 6)
        chip.set(reg.SERVICE_GAIN_I_EN, 0)
    else:
        chip.set(reg.SERVICE_GAIN_P_PREAMB, 7)
        chip.set(reg.SERVICE_GAIN_I_EN, {125_000: 1, 250_000: 2, 500_000: 3}[bandwidth])
    chip.set(reg.SERVICE_IMPLICIT_HEADER, 1 if channel.implicit_header else 0)
    chip.set(reg.SERVICE_CRC_EN, 1 if channel.implicit_crc else 0)
    chip.set(reg.SERVICE_CODING_RATE, channel.implicit_coderate)
    chip.set(reg.SERVICE_PAYLOAD_LENGTH, channel.implicit_payload_length)
    chip.set(reg.SERVICE_MODEM_SF, sf)
    chip.set(reg.SERVICE_MODEM_BW, LORA_BANDWIDTHS[bandwidth])
    chip.set(reg.SERVICE_PPM_OFFSET, 1 if low_datarate_optimize(bandwidth, sf) else 0)
    preamble = 12 if sf <= 6 else 8
    chip.set(reg.SERVICE_PREAMBLE_MSB, (preamble >> 8) & 0xFF)
    chip.set(reg.SERVICE_PREAMBLE_LSB, preamble & 0xFF)
    mantissa, exponent = freq_to_time_drift(radio_hz, bandwidth)
    chip.set(reg.SERVICE_FREQ_TO_TIME_MANT_MSB, (mantissa >> 8) & 0xFF)
    chip.set(reg.SERVICE_FREQ_TO_TIME_MANT_LSB, mantissa & 0xFF)
    chip.set(reg.SERVICE_FREQ_TO_TIME_EXP, exponent)
    chip.set(reg.SERVICE_FREQ_TO_TIME_INVERT, 1)
    chip.set(reg.SERVICE_DAGC_IN_COMP, 1)
    chip.set(reg.SERVICE_MODEM_EN, 1)
    chip.set(reg.SERVICE_CADRXTX, 1)
    chip.set(reg.SERVICE_MODEM_START, 1)
    chip.set(reg.SERVICE_DFT_PEAK_EN, DFT_PEAK_MODE_AUTO)


def configure_fsk_modem(chip: Chip, channel: FskChannel) -> None:
    chip.set(reg.FSK_PSIZE, channel.sync_word_size - 1)
    pattern = channel.sync_word << (8 * (8 - channel.sync_word_size))
    for n, field in enumerate(reg.FSK_REF_PATTERN):
        chip.set(field, (pattern >> (8 * n)) & 0xFF)
    bit_rate = 32_000_000 // channel.datarate
    chip.set(reg.FSK_BIT_RATE_MSB, (bit_rate >> 8) & 0xFF)
    chip.set(reg.FSK_BIT_RATE_LSB, bit_rate & 0xFF)
    chip.set(reg.FSK_CH_BW_EXPO, 0x03)  # 125 kHz
    chip.set(reg.FSK_RX_INVERT, 0)
    chip.set(reg.FSK_MODEM_INVERT_IQ, 0)
    chip.set(reg.FSK_RSSI_LENGTH, 4)
    chip.set(reg.FSK_PKT_MODE, 1)  # variable length
    chip.set(reg.FSK_CRC_EN, 1)
    chip.set(reg.FSK_DCFREE_ENC, 2)  # whitening
    chip.set(reg.FSK_CRC_IBM, 0)
    chip.set(reg.FSK_ERROR_OSR_TOL, 10)
    chip.set(reg.FSK_PKT_LENGTH, 255)
    chip.set(reg.FSK_NODE_ADDRESS, 0)
    chip.set(reg.FSK_BROADCAST, 0)
    chip.set(reg.FSK_AUTO_AFC, 1)
    chip.set(reg.FSK_TIMEOUT_MSB, 0)
    chip.set(reg.FSK_TIMEOUT_LSB, 128)


def configure_sync_words(chip: Chip, config: ConcentratorConfig) -> None:
    for sf in (5, 6):  # SF5/SF6 always use the private sync word
        chip.set(reg.FRAME_SYNCH_PEAK1[sf], SYNC_PRIVATE[0])
        chip.set(reg.FRAME_SYNCH_PEAK2[sf], SYNC_PRIVATE[1])
    peaks = SYNC_PUBLIC if config.lorawan_public else SYNC_PRIVATE
    chip.set(reg.FRAME_SYNCH_PEAK1[7], peaks[0])
    chip.set(reg.FRAME_SYNCH_PEAK2[7], peaks[1])
    service_public = config.lorawan_public and config.service.spreading_factor > 6
    service_peaks = SYNC_PUBLIC if service_public else SYNC_PRIVATE
    chip.set(reg.SERVICE_SYNCH_PEAK1, service_peaks[0])
    chip.set(reg.SERVICE_SYNCH_PEAK2, service_peaks[1])


def enable_modems(chip: Chip) -> None:
    chip.set(reg.MULTI_SF_MODEM_ENABLE, 1)
    chip.set(reg.SERVICE_MODEM_ENABLE, 1)
    chip.set(reg.FSK_MODEM_ENABLE, 1)
    chip.set(reg.GLOBAL_EN, 1)


def configure_reception(chip: Chip, config: ConcentratorConfig) -> None:
    """Steps 6 and 7 of the start sequence, in the reference order."""
    configure_timestamp_and_gpio(chip)
    configure_front_end(chip)
    configure_channelizer(chip, config)
    configure_correlators(chip, config)
    radio_a_hz = config.radios[0].frequency_hz
    configure_multi_sf_modems(chip, radio_a_hz)
    if config.service.enable:
        configure_service_modem(chip, config.service, radio_a_hz)
    if config.fsk.enable:
        configure_fsk_modem(chip, config.fsk)
    configure_sync_words(chip, config)
    enable_modems(chip)
