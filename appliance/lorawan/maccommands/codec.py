"""Sequences of MAC commands: the registry by (direction, CID), decoding and encoding.

A MAC-command sequence (FOpts, or the FRMPayload of an FPort 0 frame) is a plain
concatenation of ``CID | payload`` with no length prefixes (LoRaWAN 1.0.4 section 5, LoRaWAN
1.1 section 5): the only way to find where a command ends is to know its payload size from
its CID and direction. Hence parsing must stop at the first CID it does not know: that
includes the proprietary range 0x80-0xFF, whose sizes only the vendor knows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.errors import EncodeError, MACCommandError
from appliance.lorawan.maccommands.base import MACCommand, direction_name
from appliance.lorawan.maccommands.classb import (
    BeaconFreqAns,
    BeaconFreqReq,
    BeaconTimingAns,
    BeaconTimingReq,
    PingSlotChannelAns,
    PingSlotChannelReq,
    PingSlotInfoAns,
    PingSlotInfoReq,
)
from appliance.lorawan.maccommands.link import (
    DevStatusAns,
    DevStatusReq,
    DutyCycleAns,
    DutyCycleReq,
    LinkADRAns,
    LinkADRReq,
    LinkCheckAns,
    LinkCheckReq,
)
from appliance.lorawan.maccommands.radio import (
    DlChannelAns,
    DlChannelReq,
    NewChannelAns,
    NewChannelReq,
    RXParamSetupAns,
    RXParamSetupReq,
    RXTimingSetupAns,
    RXTimingSetupReq,
    TxParamSetupAns,
    TxParamSetupReq,
)
from appliance.lorawan.maccommands.session import (
    ADRParamSetupAns,
    ADRParamSetupReq,
    DeviceModeConf,
    DeviceModeInd,
    DeviceTimeAns,
    DeviceTimeReq,
    ForceRejoinReq,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
    RekeyConf,
    RekeyInd,
    ResetConf,
    ResetInd,
)

PROPRIETARY_CID_MIN: Final = 0x80

# Every command of LoRaWAN 1.0.4 and 1.1, uplink and downlink, in CID order.
ALL_COMMAND_CLASSES: Final[tuple[type[MACCommand], ...]] = (
    ResetInd,
    ResetConf,
    LinkCheckReq,
    LinkCheckAns,
    LinkADRAns,
    LinkADRReq,
    DutyCycleAns,
    DutyCycleReq,
    RXParamSetupAns,
    RXParamSetupReq,
    DevStatusAns,
    DevStatusReq,
    NewChannelAns,
    NewChannelReq,
    RXTimingSetupAns,
    RXTimingSetupReq,
    TxParamSetupAns,
    TxParamSetupReq,
    DlChannelAns,
    DlChannelReq,
    RekeyInd,
    RekeyConf,
    ADRParamSetupAns,
    ADRParamSetupReq,
    DeviceTimeReq,
    DeviceTimeAns,
    ForceRejoinReq,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
    PingSlotInfoReq,
    PingSlotInfoAns,
    PingSlotChannelAns,
    PingSlotChannelReq,
    BeaconTimingReq,
    BeaconTimingAns,
    BeaconFreqAns,
    BeaconFreqReq,
    DeviceModeInd,
    DeviceModeConf,
)

# One 256-slot table per direction (index 0: downlink, 1: uplink) so that the decoder's inner
# loop is two indexings, no hashing and no branching on the CID. Each slot holds
# (payload size, decoder, name) or None.
_Entry = tuple[int, Callable[[bytes], MACCommand], str]


def _build_table(uplink: bool) -> tuple[_Entry | None, ...]:
    slots: list[_Entry | None] = [None] * 256
    for cls in ALL_COMMAND_CLASSES:
        if cls.UPLINK is uplink:
            if slots[cls.CID] is not None:
                raise RuntimeError(f"{cls.__name__} reuses CID 0x{cls.CID:02X}")
            slots[cls.CID] = (cls.PAYLOAD_SIZE, cls._from_wire, cls.__name__)
    return tuple(slots)


_TABLES: Final = (_build_table(uplink=False), _build_table(uplink=True))
_CLASSES: Final[dict[tuple[bool, int], type[MACCommand]]] = {
    (cls.UPLINK, cls.CID): cls for cls in ALL_COMMAND_CLASSES
}


def command_class(cid: int, uplink: bool) -> type[MACCommand] | None:
    """The class of the command ``cid`` sent in that direction, or None when none exists."""
    return _CLASSES.get((uplink, cid))


def decode_command(cid: int, payload: bytes, *, uplink: bool) -> MACCommand:
    """Decode one command from its CID and payload; ``MACCommandError`` if either is wrong."""
    cls = command_class(cid, uplink)
    if cls is None:
        raise MACCommandError(f"no {direction_name(uplink)} MAC command has CID 0x{cid:02X}")
    return cls.from_payload(payload)


@dataclass(frozen=True, slots=True)
class MACCommandParse:
    """What ``decode_mac_commands`` made of a byte string.

    ``commands`` holds every command decoded before parsing stopped. When it stopped early,
    ``error`` says why, ``remaining`` holds the bytes from the offending CID on, and
    ``unknown_cid`` is that CID if it was not known (None when a known command was truncated).
    """

    commands: tuple[MACCommand, ...]
    unknown_cid: int | None = None
    remaining: bytes = b""
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "commands": [command.to_json() for command in self.commands],
            "unknown_cid": self.unknown_cid,
            "remaining": self.remaining.hex(),
            "error": self.error,
        }


def _unknown_cid_error(cid: int, offset: int, uplink: bool) -> str:
    message = f"unknown CID 0x{cid:02X} at offset {offset}"
    if cid >= PROPRIETARY_CID_MIN:
        return f"{message} (proprietary range: payload length unknown)"
    other = command_class(cid, not uplink)
    if other is not None:
        return f"{message} (defined {direction_name(not uplink)} only, as {other.name})"
    return message


def decode_mac_commands(data: bytes | bytearray | memoryview, *, uplink: bool) -> MACCommandParse:
    """Decode a MAC-command sequence sent by the end-device (``uplink``) or the network.

    Never raises on any byte string: parsing stops at an unknown CID or a truncated command
    and the result says where and why.
    """
    raw = bytes(data)
    table = _TABLES[uplink]
    commands: list[MACCommand] = []
    offset = 0
    end = len(raw)
    while offset < end:
        cid = raw[offset]
        entry = table[cid]
        if entry is None:
            return MACCommandParse(
                tuple(commands), cid, raw[offset:], _unknown_cid_error(cid, offset, uplink)
            )
        size, decode, name = entry
        start = offset + 1
        stop = start + size
        if stop > end:
            return MACCommandParse(
                tuple(commands),
                None,
                raw[offset:],
                f"{name} truncated: needs {size} bytes, {end - start} left (at offset {offset})",
            )
        commands.append(decode(raw[start:stop]))
        offset = stop
    return MACCommandParse(tuple(commands))


def decode_mac_commands_strict(
    data: bytes | bytearray | memoryview, *, uplink: bool
) -> tuple[MACCommand, ...]:
    """Like ``decode_mac_commands`` but raise ``MACCommandError`` unless every byte decoded."""
    parsed = decode_mac_commands(data, uplink=uplink)
    if parsed.error is not None:
        raise MACCommandError(parsed.error)
    return parsed.commands


def encode_mac_commands(commands: Iterable[MACCommand], *, uplink: bool | None = None) -> bytes:
    """Concatenate ``CID | payload`` of each command.

    With ``uplink`` given, a command of the other direction raises ``EncodeError``: an uplink
    FOpts carrying a LinkADRReq would be decoded by the receiver as a LinkADRAns plus garbage.
    """
    out = bytearray()
    for command in commands:
        if not isinstance(command, MACCommand):
            raise TypeError(f"not a MAC command: {command!r}")
        if uplink is not None and command.UPLINK is not uplink:
            raise EncodeError(
                f"{command.name} is sent {command.direction}, not {direction_name(uplink)}"
            )
        out.append(command.CID)
        out += command.payload()
    return bytes(out)
