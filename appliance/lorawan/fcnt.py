"""32-bit frame counters from the 16 bits a frame carries (LoRaWAN 1.0.4 4.3.1.5, 1.1 4.3.1.5).

Devices send only the low 16 bits of FCntUp. The network keeps the counter it expects next and
takes the nearest value at or after it with the received low bits, so a jump over a 16-bit
boundary (roll-over, or frames lost in a row) still lands on the right 32-bit value.
"""

from __future__ import annotations

from typing import Final

MAX_F_CNT: Final = 0xFFFFFFFF


def reconstruct_f_cnt(f_cnt_16: int, next_expected: int) -> int:
    """The 32-bit counter that a frame with ``f_cnt_16`` on the air most likely carries.

    ``next_expected`` is the 32-bit counter the network expects next (last accepted + 1, or 0
    for a fresh session). The frame just before it (``next_expected - 1``) is returned as itself
    so the caller can recognise a retransmission; older low bits are taken as a roll-over.
    A result above ``MAX_F_CNT`` means the 32-bit counter is exhausted and the session must end.
    """
    if not 0 <= f_cnt_16 <= 0xFFFF:
        raise ValueError(f"the frame counter on the air is 16 bits, got {f_cnt_16}")
    if next_expected < 0:
        raise ValueError(f"expected counter cannot be negative, got {next_expected}")
    # The smallest value >= next_expected - 1 whose low 16 bits are f_cnt_16.
    floor = max(next_expected - 1, 0)
    return floor + ((f_cnt_16 - floor) & 0xFFFF)


def f_cnt_from_msb(f_cnt_16: int, msb: int) -> int:
    """Join the upper 16 bits an operator knows with the 16 bits on the air."""
    if not 0 <= msb <= 0xFFFF:
        raise ValueError(f"the upper half of a frame counter is 16 bits, got {msb}")
    return (msb << 16) | (f_cnt_16 & 0xFFFF)


def f_cnt_gap(f_cnt: int, next_expected: int) -> int:
    """How many frames were missed before ``f_cnt`` (0 when it is the expected one)."""
    return f_cnt - next_expected
