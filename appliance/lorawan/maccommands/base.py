"""What every MAC command shares: identity, field validation, JSON, frequency coding.

A MAC command is a one-byte CID followed by a payload whose length is fixed by the CID *and*
the direction (LoRaWAN 1.0.4 section 5, LoRaWAN 1.1 section 5): CID 0x02 sent by an end-device
is LinkCheckReq with no payload, sent by the network it is LinkCheckAns with two bytes. So every
command class here carries its CID, its direction and its payload size as class constants, and
the codec indexes classes by ``(direction, CID)``.

Integer fields are validated against the width the wire gives them, not against the subset the
specification currently assigns a meaning to: a decoder must be able to represent every byte
string it is handed (RFU values included) without raising, and the network server is the place
that decides what to do with an RFU data rate or rejoin type.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import Field, fields
from typing import Any, ClassVar, Final, NamedTuple, Self

from appliance.lorawan.errors import InvalidValueError, MACCommandError

# Frequencies travel as a 24-bit little-endian count of 100 Hz steps (RXParamSetupReq,
# NewChannelReq and DlChannelReq in section 5; PingSlotChannelReq and BeaconFreqReq in the
# Class B section), which caps them at 1 677 721 500 Hz.
FREQUENCY_STEP_HZ: Final = 100
MAX_FREQUENCY_HZ: Final = 0xFFFFFF * FREQUENCY_STEP_HZ


def direction_name(uplink: bool) -> str:
    return "uplink" if uplink else "downlink"


class IntRange(NamedTuple):
    """The values an integer field accepts: ``low <= value <= high`` and a multiple of ``step``."""

    low: int
    high: int
    step: int = 1

    def accepts(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and value % self.step == 0
        )

    def describe(self) -> str:
        span = f"{self.low}..{self.high}"
        return span if self.step == 1 else f"a multiple of {self.step} in {span}"


def bits(width: int) -> IntRange:
    """The range of an unsigned field ``width`` bits wide."""
    return IntRange(0, (1 << width) - 1)


FREQUENCY: Final = IntRange(0, MAX_FREQUENCY_HZ, FREQUENCY_STEP_HZ)

IntFields = Mapping[str, IntRange]
BoolFields = tuple[str, ...]


class MACCommand(ABC):
    """Base of every MAC command class.

    Subclasses are frozen, slotted dataclasses. Class constants:

    ``CID``           the command identifier byte
    ``UPLINK``        True when the end-device sends it, False when the network does
    ``PAYLOAD_SIZE``  the payload length in bytes, CID excluded
    ``INT_FIELDS``    the valid range of each integer field
    ``BOOL_FIELDS``   the names of the flag fields
    ``name``          the command's name as the specification spells it, e.g. ``LinkADRReq``
    """

    __slots__ = ()

    CID: ClassVar[int]
    UPLINK: ClassVar[bool]
    PAYLOAD_SIZE: ClassVar[int] = 0
    INT_FIELDS: ClassVar[IntFields] = {}
    BOOL_FIELDS: ClassVar[BoolFields] = ()
    name: ClassVar[str]
    # Declared so that ``dataclasses.fields(self)`` type-checks; the dataclass decorator on each
    # subclass provides the value.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__

    def __post_init__(self) -> None:
        for field_name, valid in self.INT_FIELDS.items():
            value = getattr(self, field_name)
            if not valid.accepts(value):
                raise InvalidValueError(
                    f"{self.name}.{field_name} must be {valid.describe()}, got {value!r}"
                )
        for field_name in self.BOOL_FIELDS:
            value = getattr(self, field_name)
            if not isinstance(value, bool):
                raise InvalidValueError(f"{self.name}.{field_name} must be a bool, got {value!r}")

    @property
    def direction(self) -> str:
        return direction_name(self.UPLINK)

    def payload(self) -> bytes:
        """The payload bytes, without the CID."""
        return b""

    def to_bytes(self) -> bytes:
        """The CID followed by the payload, as it appears in FOpts or an FPort 0 payload."""
        return bytes((self.CID,)) + self.payload()

    @classmethod
    def from_payload(cls, data: bytes) -> Self:
        """Decode the payload (CID excluded); raise ``MACCommandError`` if its length is wrong."""
        if len(data) != cls.PAYLOAD_SIZE:
            raise MACCommandError(
                f"{cls.__name__} payload must be {cls.PAYLOAD_SIZE} bytes, got {len(data)}"
            )
        return cls._from_wire(data)

    @classmethod
    @abstractmethod
    def _from_wire(cls, data: bytes) -> Self:
        """Decode a payload already known to be ``PAYLOAD_SIZE`` bytes long; never raises."""

    def to_json(self) -> dict[str, Any]:
        """Snake-case JSON object: ``cid``, ``name``, the fields, then derived readable values."""
        out: dict[str, Any] = {"cid": self.CID, "name": self.name}
        for field in fields(self):
            out[field.name] = getattr(self, field.name)
        out.update(self._json_extra())
        return out

    def _json_extra(self) -> dict[str, Any]:
        """Values derived from the fields that save the reader a table lookup."""
        return {}


class EmptyCommand(MACCommand):
    """A command with no payload: the CID alone says everything."""

    __slots__ = ()

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls()


def frequency_to_wire(frequency_hz: int) -> bytes:
    return (frequency_hz // FREQUENCY_STEP_HZ).to_bytes(3, "little")


def frequency_from_wire(data: bytes) -> int:
    return int.from_bytes(data[:3], "little") * FREQUENCY_STEP_HZ


def flags_byte(*flags: bool) -> int:
    """Pack flags into a byte, the first argument in bit 0."""
    value = 0
    for position, flag in enumerate(flags):
        if flag:
            value |= 1 << position
    return value
