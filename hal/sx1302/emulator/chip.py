"""A register-level SX1302 that answers SPI frames as the chip does, for tests and self-tests.

What it models (docs/sx1302.md lists it): the 32 KiB register/memory space with the reset
values the driver reads; the AGC and ARB MCUs (program memory writable in host-prog mode,
start on release from reset, version report, the mailbox and debug-register handshakes);
two SX1250s behind the SPI mux; the OTP (EUI, model); the 32 MHz counters; the RX FIFO as a
data port fed by ``inject``; and the TX chains (immediate/delayed triggers, status through
scheduled -> emitting -> free, abort), each transmission recorded. Every frame is logged in
the reference trace format (``trace``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

from hal.model import CodeRate, FSKModulation, LoRaModulation
from hal.sx1302 import registers as reg
from hal.sx1302.clock import Clock
from hal.sx1302.emulator.radio import EmulatedSx1250
from hal.sx1302.emulator.trace import format_radio, format_read, format_write
from hal.sx1302.transport import TARGET_RADIO, TARGET_SX1302, WRITE_FLAG
from hal.virtual_radio.air import time_on_air_ns

MEMORY_SIZE: Final = 0x8000
RESET_VALUES: Final = {
    reg.VERSION.address: 0x10,
    reg.AGC_MCU_CLEAR.address: 0x04,  # MCUs held in reset
    reg.ARB_MCU_CLEAR.address: 0x04,
    reg.TX_STATUS.address: reg.TX_STATUS_FREE,
    reg.TX_STATUS.address + reg.TX_CHAIN_STRIDE: reg.TX_STATUS_FREE,
}
# AGC handshake: command written to mailbox 3 -> status the firmware moves to.
AGC_NEXT_STATUS: Final = {0x80: 0x02, 0x20: 0x03, 0x0B: 0x0F} | {
    n: n + 1 for n in range(0x03, 0x0B)
}
STATUS_EMITTING: Final = 0x70
STATUS_SCHEDULED: Final = 0x91
BANDWIDTH_CODES: Final = {0x04: 125_000, 0x05: 250_000, 0x06: 500_000}


@dataclass(frozen=True, slots=True)
class TxRecord:
    """One transmission as the emulated chip would have put it on air."""

    chain: int
    frequency_hz: int
    modulation: LoRaModulation | FSKModulation
    power_register: int
    payload: bytes
    trigger: str  # immediate, delayed or gps
    start_counter_us: int
    crc: bool


@dataclass(slots=True)
class _TxChain:
    start_tick: int | None = None  # 32 MHz tick the emission starts (None: free)
    end_tick: int = 0


class EmulatedSx1302:
    def __init__(
        self,
        clock: Clock,
        *,
        eui: bytes = bytes.fromhex("0016c001ff10a235"),
        model_id: int = 0x00,
        agc_version: int = 10,
        arb_version: int = 2,
        tracing: bool = True,
    ) -> None:
        self.clock = clock
        self.otp = bytearray(256)
        self.otp[0:8] = eui
        self.otp[reg.OTP_MODEL_ID_ADDRESS] = model_id
        self.agc_version = agc_version
        self.arb_version = arb_version
        self.radios = (EmulatedSx1250(), EmulatedSx1250())
        self.trace: list[str] = []
        self.tracing = tracing  # off for long runs: the trace grows with every frame
        self.frames = 0
        self.transmissions: list[TxRecord] = []
        self.fifo_overflows = 0
        self._lock = threading.RLock()
        self._epoch = clock.monotonic()
        self.reset()

    # --- state ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Power-on/reset values; the counters keep running."""
        with self._lock:
            self.memory = bytearray(MEMORY_SIZE)
            for address, value in RESET_VALUES.items():
                self.memory[address] = value
            self.agc_memory = bytearray(reg.MCU_FIRMWARE_SIZE)
            self.arb_memory = bytearray(reg.MCU_FIRMWARE_SIZE)
            self.agc_running = False
            self.arb_running = False
            self.agc_status = 0
            self.agc_read = [0, 0, 0, 0]
            self.arb_status = 0
            self.fifo = bytearray()
            self.tx = [_TxChain(), _TxChain()]
            for radio in self.radios:
                radio.reset()

    def note(self, text: str) -> None:
        if self.tracing:
            self.trace.append(f"# {text}")

    def counter_ticks(self) -> int:
        """The free-running 32 MHz counter."""
        return int((self.clock.monotonic() - self._epoch) * 32_000_000) & 0xFFFFFFFF

    def counter_us(self) -> int:
        return self.counter_ticks() // 32

    def inject(self, packet: bytes) -> bool:
        """Put one packet's FIFO bytes in the RX buffer; False (and counted) if it is full."""
        with self._lock:
            if len(self.fifo) + len(packet) > 4096:
                self.fifo_overflows += 1
                return False
            self.fifo += packet
            return True

    # --- SPI -----------------------------------------------------------------------------

    def transfer(self, frame: bytes) -> bytes:
        """One chip-select frame in, the MISO bytes out."""
        with self._lock:
            if not frame:
                return b""
            self.frames += 1
            target = frame[0]
            if target == TARGET_SX1302 and len(frame) >= 3:
                return self._register_frame(frame)
            if target in TARGET_RADIO and len(frame) >= 2:
                chain = TARGET_RADIO.index(target)
                answer = self.radios[chain].command(frame[1], frame[2:])
                if self.tracing:
                    self.trace.append(format_radio("AB"[chain], frame[1:], answer))
                return b"\x00" + answer
            return bytes(len(frame))

    def _register_frame(self, frame: bytes) -> bytes:
        address = ((frame[1] & 0x7F) << 8) | frame[2]
        if frame[1] & WRITE_FLAG:
            data = frame[3:]
            if self.tracing:
                self.trace.append(format_write(address, data))
            for offset, value in enumerate(data):
                self._write(address + offset, value)
            return bytes(len(frame))
        size = len(frame) - 4
        if address == reg.RX_FIFO:
            data = bytes(self.fifo[:size]).ljust(size, b"\x00")
            del self.fifo[:size]
        else:
            data = bytes(self._read(address + offset) for offset in range(size))
        if self.tracing:
            self.trace.append(format_read(address, data))
        return bytes(4) + data

    # --- reads ---------------------------------------------------------------------------

    def _read(self, address: int) -> int:
        address &= 0x7FFF
        if address < reg.ARB_MEMORY:
            return self.agc_memory[address] if self._host_prog(reg.AGC_HOST_PROG) else 0
        if address < reg.RX_FIFO:
            offset = address - reg.ARB_MEMORY
            return self.arb_memory[offset] if self._host_prog(reg.ARB_HOST_PROG) else 0
        if address == reg.RX_BUFFER_NB_BYTES:
            return (len(self.fifo) >> 8) & 0x1F
        if address == reg.RX_BUFFER_NB_BYTES + 1:
            return len(self.fifo) & 0xFF
        if reg.COUNTERS <= address < reg.COUNTERS + 8:
            value = 0 if address < reg.COUNTERS + 4 else self.counter_ticks()  # no PPS
            return (value >> (8 * (3 - (address - reg.COUNTERS) % 4))) & 0xFF
        if address == reg.OTP_DATA.address:
            return self.otp[self.memory[reg.OTP_ADDRESS.address]]
        if address == reg.AGC_STATUS.address:
            return self.agc_status
        if reg.agc_mailbox_read(3).address <= address <= reg.agc_mailbox_read(0).address:
            return self.agc_read[reg.agc_mailbox_read(0).address - address]
        if address == reg.ARB_STATUS.address:
            return self.arb_status
        if address == reg.ARB_DEBUG_STS_0.address:
            return self.arb_version if self.arb_running else 0
        for chain in (0, 1):
            if address == reg.TX_STATUS.address + reg.TX_CHAIN_STRIDE * chain:
                return self._tx_status(chain)
        return self.memory[address]

    def _host_prog(self, field: reg.Field) -> bool:
        return bool(self.memory[field.address] & field.mask)

    # --- writes --------------------------------------------------------------------------

    def _write(self, address: int, value: int) -> None:
        address &= 0x7FFF
        if address < reg.ARB_MEMORY:
            if self._host_prog(reg.AGC_HOST_PROG):
                self.agc_memory[address] = value
            return
        if address < reg.RX_FIFO:
            if self._host_prog(reg.ARB_HOST_PROG):
                self.arb_memory[address - reg.ARB_MEMORY] = value
            return
        previous = self.memory[address]
        self.memory[address] = value
        if address == reg.AGC_MCU_CLEAR.address:
            value &= ~reg.AGC_PARITY_ERROR.mask  # read-only, never set: no parity errors
            self.memory[address] = value
            if self._released(previous, value, reg.AGC_MCU_CLEAR, reg.AGC_HOST_PROG):
                self.note(f"fake: AGC started, version {self.agc_version}")
                self.agc_running, self.agc_status = True, 0x01
                self.agc_read = [self.agc_version, 0, 0, 0]
        elif address == reg.ARB_MCU_CLEAR.address:
            value &= ~reg.ARB_PARITY_ERROR.mask
            self.memory[address] = value
            if self._released(previous, value, reg.ARB_MCU_CLEAR, reg.ARB_HOST_PROG):
                self.note("fake: ARB started")
                self.arb_running, self.arb_status = True, 0x01
        elif address == reg.agc_mailbox_write(3).address and self.agc_running:
            self._agc_command(value)
        elif address == reg.ARB_DEBUG_CFG[1].address and self.arb_running and value == 1:
            self.arb_status = 0x00
        elif address in (reg.RADIO_RESET[0].address, reg.RADIO_RESET[1].address):
            chain = 0 if address == reg.RADIO_RESET[0].address else 1
            if value & reg.RADIO_RESET[chain].mask and not previous & reg.RADIO_RESET[chain].mask:
                self.radios[chain].reset()
        else:
            for chain in (0, 1):
                if address == reg.TX_TRIG_IMMEDIATE.address + reg.TX_CHAIN_STRIDE * chain:
                    self._tx_trigger(chain, previous, value)

    @staticmethod
    def _released(previous: int, value: int, clear: reg.Field, prog: reg.Field) -> bool:
        return bool(previous & clear.mask) and not value & clear.mask and not value & prog.mask

    def _agc_command(self, command: int) -> None:
        following = AGC_NEXT_STATUS.get(command)
        if following is None:
            return  # 0x0F: configuration done, the firmware runs on
        mailboxes = reg.agc_mailbox_write(0).address
        self.agc_read = [self.memory[mailboxes - n] for n in range(4)]
        self.agc_status = following

    # --- TX ------------------------------------------------------------------------------

    def _tx_status(self, chain: int) -> int:
        state = self.tx[chain]
        if state.start_tick is None:
            return reg.TX_STATUS_FREE
        now = self.counter_ticks()
        if _tick_delta(now, state.end_tick) >= 0:
            state.start_tick = None
            return reg.TX_STATUS_FREE
        return STATUS_EMITTING if _tick_delta(now, state.start_tick) >= 0 else STATUS_SCHEDULED

    def _tx_trigger(self, chain: int, previous: int, value: int) -> None:
        rising = value & ~previous
        if not value & 0x07:
            self.tx[chain].start_tick = None  # every trigger cleared: abort
            return
        if rising & reg.TX_TRIG_IMMEDIATE.mask:
            self._emit(chain, "immediate", self.counter_ticks())
        elif rising & reg.TX_TRIG_DELAYED.mask:
            base = reg.TX_TIMER_TRIG[0].address + reg.TX_CHAIN_STRIDE * chain
            ticks = int.from_bytes(self.memory[base - 3 : base + 1], "big")
            start_delay = int.from_bytes(self._tx_bytes(chain, reg.TX_START_DELAY, 2), "big")
            self._emit(chain, "delayed", (ticks + start_delay) & 0xFFFFFFFF)
        elif rising & reg.TX_TRIG_GPS.mask:
            self._emit(chain, "gps", self.counter_ticks())

    def _tx_bytes(self, chain: int, address: int, size: int) -> bytes:
        start = address + reg.TX_CHAIN_STRIDE * chain
        return bytes(self.memory[start : start + size])

    def _tx_field(self, chain: int, field: reg.Field) -> int:
        return (
            self.memory[field.address + reg.TX_CHAIN_STRIDE * chain] & field.mask
        ) >> field.offset

    def _emit(self, chain: int, trigger: str, start_tick: int) -> None:
        frequency_register = int.from_bytes(
            self._tx_bytes(chain, reg.TX_FREQ_RF[0].address, 3), "big"
        )
        frequency = frequency_register * 32_000_000 >> 18
        buffer = reg.TX_BUFFER[chain]
        modulation: LoRaModulation | FSKModulation
        if self._tx_field(chain, reg.TX_MODULATION_TYPE) == 0:
            length = self._tx_field(chain, reg.TX_PAYLOAD_LENGTH)
            payload = bytes(self.memory[buffer : buffer + length])
            preamble = (self._tx_field(chain, reg.TX_PREAMBLE_MSB) << 8) | self._tx_field(
                chain, reg.TX_PREAMBLE_LSB
            )
            code_rate = self._tx_field(chain, reg.TX_CODING_RATE)
            modulation = LoRaModulation(
                BANDWIDTH_CODES.get(self._tx_field(chain, reg.TX_MODEM_BW), 125_000),
                self._tx_field(chain, reg.TX_MODEM_SF),
                CodeRate(code_rate) if 1 <= code_rate <= 4 else CodeRate.CR_4_5,
                polarization_inversion=bool(self._tx_field(chain, reg.TX_CHIRP_INVERT)),
                preamble=preamble,
                no_crc=not self._tx_field(chain, reg.TX_CRC_EN),
            )
            crc = not modulation.no_crc
        else:
            length = self.memory[buffer]
            payload = bytes(self.memory[buffer + 1 : buffer + 1 + length])
            bit_rate = int.from_bytes(self._tx_bytes(chain, reg.TX_FSK_BIT_RATE, 2), "big") or 1
            modulation = FSKModulation(max(500, min(300_000, 32_000_000 // bit_rate)))
            crc = bool(self._tx_field(chain, reg.TX_FSK_CRC_EN))
        airtime_ticks = time_on_air_ns(len(payload), modulation, uplink=False) * 32 // 1000
        self.tx[chain] = _TxChain(start_tick, (start_tick + airtime_ticks) & 0xFFFFFFFF)
        power = self.memory[reg.TX_AGC_PWR.address + reg.TX_CHAIN_STRIDE * chain]
        self.transmissions.append(
            TxRecord(chain, frequency, modulation, power, payload, trigger, start_tick // 32, crc)
        )


def _tick_delta(later: int, earlier: int) -> int:
    delta = (later - earlier) & 0xFFFFFFFF
    return delta - (1 << 32) if delta >= 1 << 31 else delta
