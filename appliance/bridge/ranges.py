"""Address sets of the hybrid rules: DevAddr prefixes (``26011000/20``) and JoinEUI ranges.

JoinEUI ranges are written ``LOW-HIGH`` (two 16-digit EUIs), ``EUI/BITS`` (a prefix) or a single
EUI. Host bits set below a prefix length are refused: ``26011234/20`` is more likely a typo than
a wish, and silently masking it would route devices nobody meant to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, DevAddr

_HEX16 = re.compile(r"[0-9a-fA-F]{16}")


@dataclass(frozen=True, slots=True)
class DevAddrPrefix:
    value: int  # the 32-bit prefix, host bits zero
    length: int  # leading bits that must match

    def matches(self, dev_addr: int) -> bool:
        return (dev_addr ^ self.value) >> (32 - self.length) == 0 if self.length else True

    def __str__(self) -> str:
        return f"{self.value:08x}/{self.length}"


@dataclass(frozen=True, slots=True)
class EUIRange:
    low: int
    high: int

    def contains(self, eui: int) -> bool:
        return self.low <= eui <= self.high

    def __str__(self) -> str:
        return f"{self.low:016x}-{self.high:016x}"


def _prefix(text: str, bits: int, what: str) -> tuple[str, int]:
    address, slash, length_text = text.strip().partition("/")
    if not slash:
        return address, bits
    if not length_text.isdigit() or not 0 <= int(length_text) <= bits:
        raise InvalidValueError(f"{what} prefix length must be 0..{bits}, got {length_text!r}")
    return address, int(length_text)


def parse_dev_addr_prefix(text: str) -> DevAddrPrefix:
    """``26011000/20``; a bare DevAddr is a /32."""
    address, length = _prefix(text, 32, "DevAddr")
    value = int(DevAddr(address))
    host_bits = value & ((1 << (32 - length)) - 1)
    if host_bits:
        raise InvalidValueError(f"{text!r} has bits set after the first {length}")
    return DevAddrPrefix(value, length)


def parse_eui_range(text: str) -> EUIRange:
    """``LOW-HIGH``, ``EUI/BITS`` or a single EUI."""
    low_text, dash, high_text = text.strip().partition("-")
    if dash and _HEX16.fullmatch(low_text) and _HEX16.fullmatch(high_text):
        low, high = int(low_text, 16), int(high_text, 16)
        if low > high:
            raise InvalidValueError(f"range {text!r} ends before it starts")
        return EUIRange(low, high)
    address, length = _prefix(text, 64, "JoinEUI")
    value = int(EUI64(address))
    host_mask = (1 << (64 - length)) - 1
    if value & host_mask:
        raise InvalidValueError(f"{text!r} has bits set after the first {length}")
    return EUIRange(value, value | host_mask)
