"""Programming one transmission into a TX chain, reading its status, and aborting it.

The register sequence follows the chip's TX path: modulation source, gain from the board's
table, RF frequency, modem settings, start delay, payload, trigger. While it is built the
transport queues the writes (one USB round trip for the whole transmission).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from hal.model import FSKModulation, LoRaModulation
from hal.sx1302 import registers as reg
from hal.sx1302.chip import Chip
from hal.sx1302.clock import Clock
from hal.sx1302.config import LORA_BANDWIDTHS, TxGain
from hal.sx1302.errors import Sx1302Error
from hal.sx1302.registers import for_chain
from hal.sx1302.rx_setup import SYNC_PRIVATE, SYNC_PUBLIC, low_datarate_optimize

TX_START_DELAY_US: Final = 1500  # calibrated for 500 kHz; narrower bandwidths subtract
STD_LORA_PREAMBLE: Final = 8
MIN_LORA_PREAMBLE: Final = 6
STD_FSK_PREAMBLE: Final = 5
MIN_FSK_PREAMBLE: Final = 3
ABORT_TIMEOUT_S: Final = 1.0
SX1250_RADIO_BW_DELAY: Final = {125_000: 19, 250_000: 24, 500_000: 21}  # 32 MHz ticks


class TxMode(Enum):
    IMMEDIATE = "immediate"
    TIMESTAMPED = "timestamped"
    ON_GPS = "on_gps"


class TxState(Enum):
    FREE = "free"
    SCHEDULED = "scheduled"
    EMITTING = "emitting"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TxRequest:
    rf_chain: int
    frequency_hz: int
    gain: TxGain
    modulation: LoRaModulation | FSKModulation
    payload: bytes
    mode: TxMode = TxMode.IMMEDIATE
    count_us: int = 0  # 32-bit counter value the packet must start at (TIMESTAMPED)
    no_crc: bool = True  # LoRaWAN downlinks carry no payload CRC
    lorawan_public: bool = True
    fsk_sync_word: int = 0xC194C1
    fsk_sync_word_size: int = 3

    def __post_init__(self) -> None:
        if len(self.payload) > 255:
            raise Sx1302Error(f"payload of {len(self.payload)} bytes exceeds 255")
        if isinstance(self.modulation, LoRaModulation):
            if self.modulation.bandwidth not in LORA_BANDWIDTHS:
                raise Sx1302Error(f"no LoRa TX at {self.modulation.bandwidth} Hz bandwidth")
            if not 1 <= int(self.modulation.code_rate) <= 4:
                raise Sx1302Error(f"coding rate {self.modulation.code_rate.name} cannot be sent")
        elif not 500 <= self.modulation.datarate <= 250_000:
            raise Sx1302Error(f"FSK bit rate {self.modulation.datarate} is out of range")


def select_gain(gains: tuple[TxGain, ...], power_dbm: float) -> TxGain | None:
    """The strongest row not above ``power_dbm``; None when every row is above it."""
    chosen = None
    for gain in gains:
        if gain.rf_power <= power_dbm:
            chosen = gain
    return chosen


def rf_frequency_register(frequency_hz: int) -> int:
    return frequency_hz * (1 << 18) // 32_000_000


def lora_start_delay(bandwidth_hz: int, chirp_lowpass: int) -> int:
    """The TX start delay in 32 MHz ticks: 1.5 ms less radio, filter and modem delays."""
    filter_delay = int(((1 << chirp_lowpass) - 1) * 1e6 / bandwidth_hz)
    modem_delay = int(8 * (32e6 / (32 * bandwidth_hz)))
    return TX_START_DELAY_US * 32 - (
        SX1250_RADIO_BW_DELAY[bandwidth_hz] + filter_delay + modem_delay
    )


def _lora(chip: Chip, request: TxRequest, modulation: LoRaModulation) -> int:
    chain = request.rf_chain
    sf, bandwidth = modulation.spreading_factor, modulation.bandwidth
    deviation = rf_frequency_register(bandwidth // 2)
    chip.set(for_chain(reg.TX_FREQ_DEV_H, chain), (deviation >> 8) & 0xFF)
    chip.set(for_chain(reg.TX_FREQ_DEV_L, chain), deviation & 0xFF)
    chip.set(for_chain(reg.TX_MODEM_BW, chain), LORA_BANDWIDTHS[bandwidth])
    preamble = modulation.preamble or STD_LORA_PREAMBLE
    preamble = max(preamble, MIN_LORA_PREAMBLE)
    chip.set(for_chain(reg.TX_PREAMBLE_MSB, chain), (preamble >> 8) & 0xFF)
    chip.set(for_chain(reg.TX_PREAMBLE_LSB, chain), preamble & 0xFF)
    chip.set(for_chain(reg.TX_MODEM_SF, chain), sf)
    chirp_lowpass = 6 if sf < 10 else 7
    chip.set(for_chain(reg.TX_CHIRP_LOWPASS, chain), chirp_lowpass)
    chip.set(for_chain(reg.TX_CODING_RATE, chain), int(modulation.code_rate))
    chip.set(for_chain(reg.TX_MODEM_EN, chain), 1)
    chip.set(for_chain(reg.TX_CADRXTX, chain), 2)
    chip.set(for_chain(reg.TX_MODEM_START, chain), 1)
    chip.set(for_chain(reg.TX_CONTINUOUS, chain), 0)
    chip.set(for_chain(reg.TX_CHIRP_INVERT, chain), 1 if modulation.polarization_inversion else 0)
    chip.set(for_chain(reg.TX_IMPLICIT_HEADER, chain), 0)
    chip.set(for_chain(reg.TX_CRC_EN, chain), 0 if request.no_crc else 1)
    public = request.lorawan_public and sf > 6
    peaks = SYNC_PUBLIC if public else SYNC_PRIVATE
    chip.set(for_chain(reg.TX_SYNCH_PEAK1, chain), peaks[0])
    chip.set(for_chain(reg.TX_SYNCH_PEAK2, chain), peaks[1])
    chip.set(for_chain(reg.TX_FINE_SYNCH_EN, chain), 1 if sf <= 6 else 0)
    chip.set(for_chain(reg.TX_PAYLOAD_LENGTH, chain), len(request.payload))
    chip.set(for_chain(reg.TX_PPM_OFFSET_HDR_CTRL, chain), 0)
    chip.set(for_chain(reg.TX_PPM_OFFSET, chain), 1 if low_datarate_optimize(bandwidth, sf) else 0)
    return lora_start_delay(bandwidth, chirp_lowpass)


def _fsk(chip: Chip, request: TxRequest, modulation: FSKModulation) -> int:
    chain = request.rf_chain
    deviation_hz = modulation.frequency_deviation or modulation.datarate // 2
    deviation = rf_frequency_register(deviation_hz)
    chip.set(for_chain(reg.TX_FREQ_DEV_H, chain), (deviation >> 8) & 0xFF)
    chip.set(for_chain(reg.TX_FREQ_DEV_L, chain), deviation & 0xFF)
    # The AGC configures the SX1250's own deviation from mailboxes 2..0.
    radio_deviation = deviation_hz * (1 << 25) // 32_000_000
    for mailbox in (2, 1, 0):
        chip.set(reg.agc_mailbox_write(mailbox), (radio_deviation >> (8 * mailbox)) & 0xFF)
    chip.set(for_chain(reg.TX_FSK_PKT_MODE, chain), 1)  # variable length
    chip.set(for_chain(reg.TX_FSK_CRC_EN, chain), 0 if request.no_crc else 1)
    chip.set(for_chain(reg.TX_FSK_CRC_IBM, chain), 0)  # CCITT CRC
    chip.set(for_chain(reg.TX_FSK_DCFREE_ENC, chain), 2)  # whitening
    chip.set(for_chain(reg.TX_FSK_GAUSSIAN_EN, chain), 1)
    chip.set(for_chain(reg.TX_FSK_GAUSSIAN_SELECT_BT, chain), 2)
    chip.set(for_chain(reg.TX_FSK_REF_PATTERN_EN, chain), 1)
    chip.set(for_chain(reg.TX_FSK_REF_PATTERN_SIZE, chain), request.fsk_sync_word_size - 1)
    pattern = request.fsk_sync_word << (8 * (8 - request.fsk_sync_word_size))
    for n, field in enumerate(reg.TX_FSK_REF_PATTERN):
        chip.set(for_chain(field, chain), (pattern >> (8 * n)) & 0xFF)
    chip.set(for_chain(reg.TX_FSK_PREAMBLE_SEQ, chain), 0)
    bit_rate = 32_000_000 // modulation.datarate
    chip.write_bytes(reg.TX_FSK_BIT_RATE + reg.TX_CHAIN_STRIDE * chain, bit_rate.to_bytes(2, "big"))
    chip.write_bytes(
        reg.TX_FSK_PREAMBLE_SIZE + reg.TX_CHAIN_STRIDE * chain, STD_FSK_PREAMBLE.to_bytes(2, "big")
    )
    chip.set(for_chain(reg.TX_FSK_PKT_LENGTH, chain), len(request.payload))
    return 0


def program_transmission(chip: Chip, request: TxRequest) -> None:
    """Write the whole transmission and trigger it (now, at ``count_us`` or on PPS)."""
    chain = request.rf_chain
    lora = isinstance(request.modulation, LoRaModulation)
    transport = chip.transport
    transport.begin_bulk()
    try:
        chip.set(for_chain(reg.TX_MODULATION_TYPE, chain), 0 if lora else 1)
        chip.set(for_chain(reg.TX_IF_SRC, chain), 1 if lora else 2)
        gain = request.gain
        chip.set(for_chain(reg.TX_I_OFFSET, chain), gain.offset_i & 0xFF)
        chip.set(for_chain(reg.TX_Q_OFFSET, chain), gain.offset_q & 0xFF)
        chip.set(
            for_chain(reg.TX_AGC_PWR, chain), ((1 if gain.pa_gain > 0 else 0) << 6) | gain.pwr_idx
        )
        chip.set(for_chain(reg.TX_IQ_GAIN, chain), gain.dig_gain)
        frequency = rf_frequency_register(request.frequency_hz)
        for index, field in enumerate(reg.TX_FREQ_RF):
            chip.set(for_chain(field, chain), (frequency >> (16 - 8 * index)) & 0xFF)
        if isinstance(request.modulation, LoRaModulation):
            chip.set(for_chain(reg.TX_AGC_BW, chain), LORA_BANDWIDTHS[request.modulation.bandwidth])
            start_delay = _lora(chip, request, request.modulation)
        else:
            chip.set(for_chain(reg.TX_AGC_BW, chain), 0x80)
            start_delay = _fsk(chip, request, request.modulation)
        if lora:
            chip.write_bytes(
                reg.TX_START_DELAY + reg.TX_CHAIN_STRIDE * chain, start_delay.to_bytes(2, "big")
            )
        chip.set(for_chain(reg.TX_WRITE_BUFFER, chain), 1)
        body = request.payload if lora else bytes((len(request.payload),)) + request.payload
        chip.write_memory(reg.TX_BUFFER[chain], body)
        chip.set(for_chain(reg.TX_WRITE_BUFFER, chain), 0)
        _trigger(chip, request, start_delay)
    finally:
        transport.flush()


def _trigger(chip: Chip, request: TxRequest, start_delay: int) -> None:
    chain = request.rf_chain
    if request.mode is TxMode.IMMEDIATE:
        trigger = for_chain(reg.TX_TRIG_IMMEDIATE, chain)
    elif request.mode is TxMode.TIMESTAMPED:
        ticks = (request.count_us * 32 - start_delay) & 0xFFFFFFFF
        for n, field in enumerate(reg.TX_TIMER_TRIG):
            chip.set(for_chain(field, chain), (ticks >> (8 * n)) & 0xFF)
        trigger = for_chain(reg.TX_TRIG_DELAYED, chain)
    else:
        trigger = for_chain(reg.TX_TRIG_GPS, chain)
    chip.set(trigger, 0)  # a rising edge starts the state machine
    chip.set(trigger, 1)


def tx_state(chip: Chip, chain: int) -> TxState:
    value = chip.get(for_chain(reg.TX_STATUS, chain))
    if value == reg.TX_STATUS_FREE:
        return TxState.FREE
    if value in reg.TX_STATUS_EMITTING:
        return TxState.EMITTING
    if value in reg.TX_STATUS_SCHEDULED:
        return TxState.SCHEDULED
    return TxState.UNKNOWN


def abort(chip: Chip, chain: int, clock: Clock) -> None:
    """Clear the three triggers and wait (1 s at most) for the chain to be free."""
    for trigger in (reg.TX_TRIG_IMMEDIATE, reg.TX_TRIG_DELAYED, reg.TX_TRIG_GPS):
        chip.set(for_chain(trigger, chain), 0)
    deadline = clock.monotonic() + ABORT_TIMEOUT_S
    while (state := tx_state(chip, chain)) is not TxState.FREE:
        if clock.monotonic() >= deadline:
            raise Sx1302Error(f"TX chain {'AB'[chain]} still {state.value} 1 s after abort")
        clock.sleep(0.001)
