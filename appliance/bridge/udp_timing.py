"""Class A timing across the Semtech UDP link: the ``tmst`` we send up, the context it stands for.

A central server answers an uplink with ``tmst = uplink tmst + RX delay``. Local uplinks whose
context is the 4-byte concentrator counter (Semtech UDP and Concentratord gateways, the virtual
radio) send that counter as ``tmst``, and a downlink ``tmst`` becomes ``Delay(0)`` on the same
counter: exact. Other contexts (Basics Station's xtime) have no 32-bit counter, so each uplink
gets a made-up ``tmst`` (the appliance's microsecond clock) remembered with its context; a
downlink ``tmst`` is then matched to the uplink it is a whole number of seconds after (RX delays
are whole seconds: RX1/RX2 1-16 s, joins 5/6 s).
"""

from __future__ import annotations

from collections import deque
from typing import Final

from hal.model import Delay

TMST_MODULUS: Final = 1 << 32
_US_PER_S: Final = 1_000_000
_MAX_DELAY_US: Final = 16 * _US_PER_S
_REMEMBERED: Final = 1_024  # uplinks per gateway whose made-up tmst can still be answered


class TimingMap:
    """One gateway's ``tmst`` <-> uplink context translation."""

    __slots__ = ("_last", "_made_up")

    def __init__(self) -> None:
        self._made_up: deque[tuple[int, bytes]] = deque(maxlen=_REMEMBERED)
        self._last = -1

    def tmst_for(self, context: bytes, now_ns: int) -> int:
        """The ``tmst`` to send for an uplink with ``context`` received at ``now_ns``."""
        if len(context) == 4:
            return int.from_bytes(context, "big")
        tmst = (now_ns // 1_000) % TMST_MODULUS
        if tmst == self._last:  # two uplinks in one microsecond still need distinct values
            tmst = (tmst + 1) % TMST_MODULUS
        self._last = tmst
        self._made_up.append((tmst, context))
        return tmst

    def timing_for(self, tmst: int) -> tuple[Delay, bytes]:
        """The downlink timing and context for a ``txpk.tmst``."""
        for uplink_tmst, context in reversed(self._made_up):
            delay_us = (tmst - uplink_tmst) % TMST_MODULUS
            if 0 < delay_us <= _MAX_DELAY_US and delay_us % _US_PER_S == 0:
                return Delay(delay_us * 1_000), context
        return Delay(0), (tmst % TMST_MODULUS).to_bytes(4, "big")
