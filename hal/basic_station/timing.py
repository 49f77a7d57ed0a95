"""Station's clocks: xtime, GPS time, fine timestamps; conversions with no clock reads.

xtime (src/ral.h): bit 63 is always 0; bits 62-56 name the radio unit the time stamp came
from, bits 55-48 a session id (never 0, so a valid xtime is never 0) that changes whenever the
concentrator restarts, bits 47-0 the concentrator's microsecond counter. rctx carries the
radio unit in its low 7 bits. GPS times are microseconds since the GPS epoch in the protocol
and nanoseconds in the frame model.
"""

from __future__ import annotations

from typing import Final

RADIO_UNIT_SHIFT: Final = 56
SESSION_SHIFT: Final = 48
RADIO_UNIT_MASK: Final = 0x7F
SESSION_MASK: Final = 0xFF
MICROS_MASK: Final = (1 << 48) - 1

GPS_EPOCH_UNIX_S: Final = 315_964_800  # 1980-01-06T00:00:00Z
# GPS time runs ahead of UTC by the leap seconds since 1980: 18 since 2017-01-01. No leap second
# has been announced since; callers with a better source pass theirs.
LEAP_SECONDS: Final = 18
NS_PER_S: Final = 1_000_000_000
NS_PER_US: Final = 1_000


def make_xtime(radio_unit: int, session: int, micros: int) -> int:
    if not 0 <= radio_unit <= RADIO_UNIT_MASK:
        raise ValueError(f"radio unit is 0..127, got {radio_unit}")
    if not 1 <= session <= SESSION_MASK:
        raise ValueError(f"xtime session is 1..255, got {session}")
    if not 0 <= micros <= MICROS_MASK:
        raise ValueError(f"xtime microseconds are 48 bits, got {micros}")
    return (radio_unit << RADIO_UNIT_SHIFT) | (session << SESSION_SHIFT) | micros


def xtime_radio_unit(xtime: int) -> int:
    return (xtime >> RADIO_UNIT_SHIFT) & RADIO_UNIT_MASK


def xtime_session(xtime: int) -> int:
    return (xtime >> SESSION_SHIFT) & SESSION_MASK


def xtime_micros(xtime: int) -> int:
    return xtime & MICROS_MASK


def rctx_radio_unit(rctx: int) -> int:
    return rctx & RADIO_UNIT_MASK


def unix_ns_to_gps_ns(unix_ns: int, leap_seconds: int = LEAP_SECONDS) -> int:
    return unix_ns - (GPS_EPOCH_UNIX_S - leap_seconds) * NS_PER_S


def gps_ns_to_unix_ns(gps_ns: int, leap_seconds: int = LEAP_SECONDS) -> int:
    return gps_ns + (GPS_EPOCH_UNIX_S - leap_seconds) * NS_PER_S


def fine_timestamp_ns(gpstime_us: int, fts_ns: int) -> int:
    """Nanoseconds since the GPS epoch from a reception's GPS time and its fine timestamp.

    ``fts`` is the nanosecond within the PPS second of the reception; ``gpstime`` gives the
    second. When the two disagree by more than half a second the reception straddled a second
    boundary (gpstime is rounded by timesync drift), so the neighbouring second is meant.
    """
    second, sub_us = divmod(gpstime_us, 1_000_000)
    difference_ns = fts_ns - sub_us * NS_PER_US
    if difference_ns > NS_PER_S // 2:
        second -= 1
    elif difference_ns < -(NS_PER_S // 2):
        second += 1
    return second * NS_PER_S + fts_ns
