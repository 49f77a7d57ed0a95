"""Fitting MAC commands into a downlink: 15 bytes of FOpts, or the FRMPayload of FPort 0.

Answers go first (they belong to this uplink and are worthless later), then requests in
priority order. A LinkADRReq block is indivisible (the device applies the block as a whole);
every other command stands alone. A unit that does not fit is skipped, not a stop: a smaller
one behind it may still fit, and the skipped one is derived or queued again next time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from appliance.lorawan.frames import MAX_F_OPTS_LEN
from appliance.lorawan.maccommands import LinkADRReq, MACCommand, encode_mac_commands

F_OPTS_BUDGET: Final = MAX_F_OPTS_LEN
_FHDR_WITHOUT_OPTS_AND_FPORT: Final = 8  # DevAddr 4, FCtrl 1, FCnt 2, FPort 1


def frm_payload_budget(max_mac_payload: int) -> int:
    """Bytes of MAC commands an FPort 0 frame carries at a data rate's maximum MACPayload."""
    return max(0, max_mac_payload - _FHDR_WITHOUT_OPTS_AND_FPORT)


def size_of(commands: Iterable[MACCommand]) -> int:
    return sum(1 + command.PAYLOAD_SIZE for command in commands)


@dataclass(frozen=True, slots=True)
class MACSelection:
    chosen: tuple[MACCommand, ...]
    leftover: tuple[MACCommand, ...]

    @property
    def size(self) -> int:
        return size_of(self.chosen)

    def encode(self) -> bytes:
        return encode_mac_commands(self.chosen, uplink=False)


def _units(commands: Sequence[MACCommand]) -> list[list[MACCommand]]:
    units: list[list[MACCommand]] = []
    for command in commands:
        joins_block = (
            isinstance(command, LinkADRReq) and units and isinstance(units[-1][-1], LinkADRReq)
        )
        if joins_block:
            units[-1].append(command)
        else:
            units.append([command])
    return units


def select_mac_commands(
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    budget: int = F_OPTS_BUDGET,
) -> MACSelection:
    """The commands that fit ``budget`` bytes, and those left for a later downlink."""
    chosen: list[MACCommand] = []
    leftover: list[MACCommand] = []
    room = budget
    for unit in _units(answers) + _units(requests):
        size = size_of(unit)
        if size <= room:
            chosen += unit
            room -= size
        else:
            leftover += unit
    return MACSelection(tuple(chosen), tuple(leftover))
