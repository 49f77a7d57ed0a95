"""Identifiers and keys as value types: they refuse bad input and print as people write them.

Every value is kept MSB-first, as it is written in consoles and the specification's tables. The
air interface sends EUIs, DevAddr and NetID little-endian: ``from_wire``/``to_wire`` do the swap,
so no other module needs to think about byte order.

DevAddr/NetID layouts (type prefixes and NwkID widths) are from the LoRaWAN Backend Interfaces
specification, section 13 (NetID and DevAddr prefix).
"""

from __future__ import annotations

import re
from typing import Final, Self

from appliance.lorawan.errors import InvalidValueError

_HEX_SEPARATORS = re.compile(r"[\s:\-_.]")

# Per NetID type: (DevAddr prefix length in bits, NwkID length in bits). NwkAddr takes the rest.
_NETID_TYPE_LAYOUT: Final = ((1, 6), (2, 6), (3, 9), (4, 11), (5, 12), (6, 13), (7, 15), (8, 17))


def _parse_hex(text: str, size: int, what: str) -> bytes:
    cleaned = _HEX_SEPARATORS.sub("", text.strip())
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    if len(cleaned) != size * 2:
        raise InvalidValueError(
            f"{what} must be {size} bytes ({size * 2} hex digits), got {text!r}"
        )
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise InvalidValueError(f"{what} is not hexadecimal: {text!r}") from None


def _coerce(value: object, size: int, what: str) -> bytes:
    """Accept hex text, bytes (MSB-first) or an int and return ``size`` bytes MSB-first."""
    if isinstance(value, str):
        return _parse_hex(value, size, what)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) != size:
            raise InvalidValueError(f"{what} must be {size} bytes, got {len(raw)}")
        return raw
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 1 << (8 * size):
            raise InvalidValueError(f"{what} must fit in {size} bytes, got {value:#x}")
        return value.to_bytes(size, "big")
    raise InvalidValueError(f"{what} must be hex text, bytes or int, not {type(value).__name__}")


class _FixedBytes:
    """Base of the fixed-size identifiers: immutable, hashable, ordered by value."""

    __slots__ = ("_raw",)
    SIZE: int = 0
    LABEL: str = ""
    _raw: bytes

    def __init__(self, value: str | bytes | bytearray | memoryview | int | Self) -> None:
        if type(value) is bytes and len(value) == self.SIZE:
            raw = value  # the common case (stored sessions, decoded frames) needs no copy
        elif type(value) is type(self):
            raw = value._raw
        else:
            raw = _coerce(value, self.SIZE, self.LABEL)
        object.__setattr__(self, "_raw", raw)

    @classmethod
    def _trusted(cls, raw: bytes) -> Self:
        # Decoders slice exactly SIZE bytes from a frame; skipping validation keeps them fast.
        obj = object.__new__(cls)
        object.__setattr__(obj, "_raw", raw)
        return obj

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        """Build from the little-endian bytes of the air interface."""
        if len(data) != cls.SIZE:
            raise InvalidValueError(f"{cls.LABEL} needs {cls.SIZE} bytes, got {len(data)}")
        return cls._trusted(bytes(data[::-1]))

    def to_wire(self) -> bytes:
        return self._raw[::-1]

    def __bytes__(self) -> bytes:
        return self._raw

    def __int__(self) -> int:
        return int.from_bytes(self._raw, "big")

    def __str__(self) -> str:
        return self._raw.hex()

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self._raw.hex()}')"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self._raw == other._raw
        return NotImplemented

    def __lt__(self, other: Self) -> bool:
        return self._raw < other._raw

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._raw))

    def __reduce__(self) -> tuple[type[Self], tuple[bytes]]:
        return (type(self), (self._raw,))


class EUI64(_FixedBytes):
    """An IEEE EUI-64 (DevEUI, JoinEUI/AppEUI, gateway ID), printed as 16 lower-case hex digits."""

    __slots__ = ()
    SIZE = 8
    LABEL = "EUI64"

    def dashed(self) -> str:
        """The dash-separated upper-case form Basics Station uses (``01-02-...``)."""
        return "-".join(f"{b:02X}" for b in self._raw)


DevEUI = EUI64
JoinEUI = EUI64
GatewayID = EUI64


class NetID(_FixedBytes):
    """A 24-bit LoRaWAN network identifier: 3-bit type and a type-specific ID."""

    __slots__ = ()
    SIZE = 3
    LABEL = "NetID"

    @property
    def type(self) -> int:
        return self._raw[0] >> 5

    @property
    def id(self) -> int:
        """The 21 bits after the type."""
        return int(self) & 0x1FFFFF

    @property
    def nwk_addr_bits(self) -> int:
        """How many bits of a DevAddr of this network are the device's own NwkAddr."""
        prefix_bits, nwk_id_bits = _NETID_TYPE_LAYOUT[self.type]
        return 32 - prefix_bits - nwk_id_bits

    @property
    def nwk_id(self) -> int:
        """The NwkID that this network's DevAddrs carry: the NetID's least significant bits."""
        return int(self) & ((1 << _NETID_TYPE_LAYOUT[self.type][1]) - 1)


class AESKey(_FixedBytes):
    """An AES-128 key. ``str`` gives the full hex (what people paste); ``repr`` hides most of it."""

    __slots__ = ()
    SIZE = 16
    LABEL = "AES-128 key"

    def __repr__(self) -> str:
        return f"AESKey('{self._raw[:2].hex()}…')"

    def __hash__(self) -> int:
        return hash(self._raw)


class DevAddr(_FixedBytes):
    """A 32-bit device address: a NetID-type prefix, the NwkID and the NwkAddr."""

    __slots__ = ()
    SIZE = 4
    LABEL = "DevAddr"

    @classmethod
    def from_net_id(cls, net_id: NetID, nwk_addr: int) -> DevAddr:
        """The DevAddr with ``net_id``'s prefix and NwkID and the given NwkAddr."""
        prefix_bits, nwk_id_bits = _NETID_TYPE_LAYOUT[net_id.type]
        nwk_addr_bits = 32 - prefix_bits - nwk_id_bits
        if not 0 <= nwk_addr < 1 << nwk_addr_bits:
            raise InvalidValueError(
                f"NwkAddr for NetID type {net_id.type} must fit in {nwk_addr_bits} bits, "
                f"got {nwk_addr:#x}"
            )
        prefix = ((1 << (prefix_bits - 1)) - 1) << 1  # type N is N ones then a zero
        value = (prefix << (32 - prefix_bits)) | (net_id.nwk_id << nwk_addr_bits) | nwk_addr
        return cls(value)

    @property
    def net_id_type(self) -> int:
        """The NetID type (0-7) encoded by the number of leading one bits."""
        value = int(self)
        for net_type in range(8):
            if not value & (0x80000000 >> net_type):
                return net_type
        # Eight leading ones is not a valid prefix; report it as type 7 whose prefix is closest.
        return 7

    @property
    def nwk_id(self) -> int:
        prefix_bits, nwk_id_bits = _NETID_TYPE_LAYOUT[self.net_id_type]
        return (int(self) >> (32 - prefix_bits - nwk_id_bits)) & ((1 << nwk_id_bits) - 1)

    @property
    def nwk_addr(self) -> int:
        prefix_bits, nwk_id_bits = _NETID_TYPE_LAYOUT[self.net_id_type]
        return int(self) & ((1 << (32 - prefix_bits - nwk_id_bits)) - 1)

    def is_net_id(self, net_id: NetID) -> bool:
        """Whether this address belongs to ``net_id`` (same type prefix and NwkID)."""
        return self.net_id_type == net_id.type and self.nwk_id == net_id.nwk_id
