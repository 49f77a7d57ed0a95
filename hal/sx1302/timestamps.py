"""The concentrator's microsecond counter: widening to 32 bits and packet time corrections.

The chip counts at 32 MHz in 32 bits, so the microsecond value it gives has 27 bits and wraps
every 134 s. The driver widens it with a 5-bit wrap count that it keeps fresh by reading the
free-running counter often (every poll); a packet time is widened with the wrap count of its
reception. In legacy mode the chip latches a packet's time once it is decoded; the modem's
processing delay is then subtracted, so the time is the end of the packet on air, as an
SX1301 reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

COUNTER_27BIT: Final = 1 << 27
WRAPS: Final = 32


@dataclass(slots=True)
class CounterTracker:
    """Widens 27-bit microsecond values to the 32-bit counter forwarders use (``tmst``)."""

    reference_us: int = 0
    wraps: int = 0
    pps_reference_us: int = 0
    pps_wraps: int = 0

    def update(self, instant_raw: int, pps_raw: int = 0) -> int:
        """Feed a read of the two 32 MHz counters; returns the 32-bit microsecond time now."""
        instant = (instant_raw & 0xFFFFFFFF) // 32
        pps = (pps_raw & 0xFFFFFFFF) // 32
        if instant < self.reference_us:
            self.wraps = (self.wraps + 1) % WRAPS
        if pps < self.pps_reference_us:
            self.pps_wraps = (self.pps_wraps + 1) % WRAPS
        self.reference_us = instant
        self.pps_reference_us = pps
        return (self.wraps << 27) | instant

    def expand(self, packet_us: int) -> int:
        """Widen a packet's 27-bit time, read after the last ``update``."""
        wraps = self.wraps - (0 if self.reference_us >= packet_us else 1)
        return ((wraps % WRAPS) << 27) | packet_us


def legacy_correction_us(
    *,
    bandwidth_hz: int,
    spreading_factor: int,
    coding_rate: int,
    crc_enabled: bool,
    payload_length: int,
) -> int:
    """Microseconds to add to a LoRa packet's latched time (negative: the decoding delay)."""
    bw_pow = {125_000: 1, 250_000: 2, 500_000: 4}[bandwidth_hz]
    sf = spreading_factor
    ppm = 1 if (bw_pow == 1 and sf >= 11) or (bw_pow == 2 and sf == 12) else 0
    crc = 1 if crc_enabled else 0
    dft_peak = 1
    cr = coding_rate
    clk = 250_000 // bw_pow
    nibbles = (payload_length + 2 * crc) * 2 + 5
    header_nibbles = sf if sf in (5, 6) else sf - 2
    per_block = sf - 2 * ppm
    last_block = nibbles - header_nibbles - per_block * ((nibbles - header_nibbles) // per_block)
    if last_block == 0:
        last_block = per_block
    iterations = (sf + 1) // 2
    fits_in_header = 2 * (payload_length + 2 * crc) - (sf - 7) <= 0 or (
        payload_length == 0 and not crc_enabled
    )
    if fits_in_header:
        dft_peak = 0
        cr = 4  # the header is always sent at 4/8
        last_block = sf - 2 if sf > 6 else sf
    filtering = 16_000_000 // bw_pow + 2_031_250
    if fits_in_header:
        demap = clk + (1 << sf) * clk * 3 // 4 + 3 * clk + (sf - 2) * clk
    else:
        demap = clk + (1 << sf) * clk + 3 * clk + (sf - 2 * ppm) * clk
    fft_state3 = clk * (((1 << sf) - 6) + 2 * ((1 << sf) * (iterations - 1) + 6)) + 4 * clk
    if dft_peak:
        fft = (5 - 2 * ppm) * ((1 << sf) * clk + 7 * clk) + 2 * clk
    else:
        fft = (1 << sf) * 2 * clk + 3 * clk
    decode = 5 * clk + (9 * clk + clk * cr) * last_block + 3 * clk
    total = (filtering + fft_state3 + fft + demap + decode + 500_000) // 1_000_000
    return -total


def fsk_correction_us(datarate: int) -> int:
    return 680_000 // datarate - 20
