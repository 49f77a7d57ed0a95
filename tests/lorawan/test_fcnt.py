from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.fcnt import f_cnt_from_msb, reconstruct_f_cnt

CASES = [
    # (16 bits on the air, next expected 32-bit, result)
    (0, 0, 0),
    (5, 0, 5),
    (10, 11, 10),  # the previous frame again: a retransmission, not a roll-over
    (0xFFFF, 0x10000, 0xFFFF),  # retransmission across the 16-bit boundary
    (0, 0x10000, 0x10000),
    (0, 0xFFFF, 0x10000),  # roll-over
    (3, 0xFFFE, 0x10003),  # roll-over with frames lost
    (0x10, 0x20, 0x10010),  # far behind: only a roll-over explains it
    (0x1234, 0x5_0000, 0x5_1234),
]


@pytest.mark.parametrize(("wire", "expected_next", "result"), CASES)
def test_reconstruct(wire: int, expected_next: int, result: int) -> None:
    assert reconstruct_f_cnt(wire, expected_next) == result


@given(st.integers(0, 0xFFFF_FFFF), st.integers(0, 0xFFFF))
def test_reconstruction_keeps_low_bits_and_is_never_two_behind(nxt: int, wire: int) -> None:
    full = reconstruct_f_cnt(wire, nxt)
    assert full & 0xFFFF == wire
    assert nxt - 1 <= full < max(nxt - 1, 0) + 0x10000


def test_msb_join_and_range() -> None:
    assert f_cnt_from_msb(0x0001, 0x0002) == 0x20001
    with pytest.raises(ValueError, match="16 bits"):
        f_cnt_from_msb(1, 0x10000)
    with pytest.raises(ValueError, match="16 bits"):
        reconstruct_f_cnt(0x10000, 0)
