"""The MAC header: message type and major version (LoRaWAN 1.0.4/1.1 section 4.2)."""

from __future__ import annotations

from enum import IntEnum


class MType(IntEnum):
    JOIN_REQUEST = 0
    JOIN_ACCEPT = 1
    UNCONFIRMED_DATA_UP = 2
    UNCONFIRMED_DATA_DOWN = 3
    CONFIRMED_DATA_UP = 4
    CONFIRMED_DATA_DOWN = 5
    REJOIN_REQUEST = 6
    PROPRIETARY = 7

    @property
    def label(self) -> str:
        """The name as the specification and ChirpStack write it, e.g. ``UnconfirmedDataUp``."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def is_data(self) -> bool:
        return MType.UNCONFIRMED_DATA_UP <= self <= MType.CONFIRMED_DATA_DOWN

    @property
    def is_uplink(self) -> bool:
        return self in _UPLINK_TYPES


_UPLINK_TYPES = frozenset(
    {MType.JOIN_REQUEST, MType.UNCONFIRMED_DATA_UP, MType.CONFIRMED_DATA_UP, MType.REJOIN_REQUEST}
)


class Major(IntEnum):
    LORAWAN_R1 = 0


def mhdr_byte(mtype: MType, major: int = Major.LORAWAN_R1) -> int:
    return (int(mtype) << 5) | major
