"""Time fields of the Semtech UDP protocol, as integer nanoseconds.

- ``rxpk.time`` is ISO 8601 "compact" UTC (``2013-03-31T16:21:17.528002Z``); forwarders also send
  nanoseconds, no fraction, no zone, or the basic form without separators.
- ``stat.time`` is the "expanded" form (``2014-01-12 08:59:28 GMT``).
- ``tmst`` is a free-running 32-bit microsecond counter of the concentrator; it wraps every
  71.6 minutes, so ``TmstWidener`` turns it into a 64-bit count per gateway.

Parsing is done by hand rather than with ``datetime`` so nanoseconds survive.
"""

from __future__ import annotations

import re
from typing import Final

_TIME = re.compile(
    r"(\d{4})-?(\d\d)-?(\d\d)[T ](\d\d):?(\d\d):?(\d\d)(?:[.,](\d{1,9})\d*)?"
    r" ?(Z|GMT|UTC|[+-]\d\d(?::?\d\d)?)?",
    re.ASCII | re.IGNORECASE,
)
_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_NS_PER_S: Final = 1_000_000_000
_NS_PER_DAY: Final = 86_400 * _NS_PER_S

# Dates change once a day, so the days-since-epoch of recent dates are kept (bounded).
_epoch_days: dict[tuple[int, int, int], int] = {}
# Unix ns of recent whole seconds, by their compact text "2013-03-31T16:21:17": every rxpk of
# the same second, from any gateway, then costs a slice, a lookup and one int() (bounded).
_second_starts: dict[str, int] = {}
_SECOND_STARTS_MAX: Final = 64
_FRACTION_SCALE: Final[tuple[int, ...]] = tuple(10 ** (9 - digits) for digits in range(10))


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _epoch_day(year: int, month: int, day: int) -> int | None:
    key = (year, month, day)
    cached = _epoch_days.get(key)
    if cached is not None:
        return cached
    if not 1 <= month <= 12:
        return None
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + leap:
        return None
    days = _days_from_civil(year, month, day)
    if len(_epoch_days) >= 64:
        _epoch_days.clear()
    _epoch_days[key] = days
    return days


def parse_utc_ns(text: str) -> int | None:
    """Unix time in ns of an ISO 8601 time in either form, or None when it is not one.

    A time without a zone is taken as UTC: the protocol says every time is UTC.
    """
    # The form sx130x forwarders write, "2013-03-31T16:21:17.528002Z", by its second's start.
    if len(text) > 21 and text[19] == "." and text[-1] == "Z":
        second = text[:19]
        start = _second_starts.get(second)
        if start is None:
            start = _second_start(second)
        fraction = text[20:-1]
        if start is not None and len(fraction) <= 9 and fraction.isdigit() and fraction.isascii():
            return start + int(fraction) * _FRACTION_SCALE[len(fraction)]
    return _parse(text)


def _second_start(second: str) -> int | None:
    """Unix ns of ``YYYY-MM-DDTHH:MM:SS`` (these separators only), remembered; else None."""
    if (second[4], second[7], second[10], second[13], second[16]) != ("-", "-", "T", ":", ":"):
        return None  # another form of the regular expression's: its own path reads it
    start = _parse(second)
    if start is not None:
        if len(_second_starts) >= _SECOND_STARTS_MAX:
            _second_starts.clear()
        _second_starts[second] = start
    return start


def _parse(text: str) -> int | None:
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    days = _epoch_day(int(year), int(month), int(day))
    hours, minutes, seconds = int(hour), int(minute), int(second)
    # Second 60 would be a leap second; forwarders get UTC from the system clock, which smears.
    if days is None or hours > 23 or minutes > 59 or seconds > 59:
        return None
    nanos = days * _NS_PER_DAY + ((hours * 60 + minutes) * 60 + seconds) * _NS_PER_S
    if fraction:
        nanos += int(fraction.ljust(9, "0"))
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset_minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
        if offset_minutes >= 24 * 60:
            return None
        sign = 1 if zone[0] == "+" else -1
        nanos -= sign * offset_minutes * 60 * _NS_PER_S
    return nanos


def format_expanded(unix_ns: int) -> str:
    """The ``stat.time`` form, e.g. ``2014-01-12 08:59:28 GMT`` (for emulators and tests)."""
    days, rest = divmod(unix_ns // _NS_PER_S, 86_400)
    year, month, day = _civil_from_days(days)
    hours, rest = divmod(rest, 3600)
    return f"{year:04d}-{month:02d}-{day:02d} {hours:02d}:{rest // 60:02d}:{rest % 60:02d} GMT"


def format_compact(unix_ns: int) -> str:
    """The ``rxpk.time`` form with microseconds, e.g. ``2013-03-31T16:21:17.528002Z``."""
    seconds, nanos = divmod(unix_ns, _NS_PER_S)
    days, rest = divmod(seconds, 86_400)
    year, month, day = _civil_from_days(days)
    hours, rest = divmod(rest, 3600)
    return (
        f"{year:04d}-{month:02d}-{day:02d}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        f".{nanos // 1000:06d}Z"
    )


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    return year_of_era + era * 400 + (month <= 2), month, day


TMST_MODULUS: Final = 1 << 32
# Within one PUSH_DATA, rxpk entries are not always in counter order; a step back shorter than
# this is a reordering, anything else is the counter moving on (a wrap, or a forwarder restart).
_REORDER_WINDOW_US: Final = 10_000_000


class TmstWidener:
    """Extends one gateway's 32-bit ``tmst`` to a 64-bit count that does not wrap.

    The result is monotonic except for small reorderings, so uplinks of one gateway can be
    ordered and intervals measured without modular arithmetic.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: int | None = None

    def widen(self, tmst: int) -> int:
        last = self._last
        if last is None:
            self._last = tmst
            return tmst
        delta = (tmst - last) % TMST_MODULUS
        if delta > TMST_MODULUS - _REORDER_WINDOW_US:
            return last - (TMST_MODULUS - delta)  # a little earlier: keep the high-water mark
        widened = last + delta
        self._last = widened
        return widened
