"""Fitting MAC commands into FOpts (15 bytes) or an FPort 0 FRMPayload."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pytest

from appliance.lorawan.maccommands import (
    DeviceTimeAns,
    DevStatusReq,
    LinkADRReq,
    LinkCheckAns,
    MACCommand,
    NewChannelReq,
    decode_mac_commands_strict,
)
from appliance.ns.mac import F_OPTS_BUDGET, frm_payload_budget, select_mac_commands

LINK_CHECK = LinkCheckAns(10, 2)  # 3 bytes
DEVICE_TIME = DeviceTimeAns(1_400_000_000, 0)  # 6 bytes
ADR_BLOCK = [LinkADRReq(3, 2, 0x0002, 7, 1), LinkADRReq(3, 2, 0xFF00, 0, 1)]  # 10 bytes
NEW = [NewChannelReq(3 + i, 867_100_000 + i * 200_000, 0, 5) for i in range(3)]  # 6 bytes each


class Case(NamedTuple):
    name: str
    answers: Sequence[MACCommand]
    requests: Sequence[MACCommand]
    budget: int
    chosen: Sequence[MACCommand]
    leftover: Sequence[MACCommand]

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("everything fits", [LINK_CHECK], [DevStatusReq()], 15, [LINK_CHECK, DevStatusReq()], []),
    Case(
        "answers first, a block never split, a smaller request still fits",
        [LINK_CHECK, DEVICE_TIME],
        [*ADR_BLOCK, DevStatusReq()],
        F_OPTS_BUDGET,
        [LINK_CHECK, DEVICE_TIME, DevStatusReq()],
        ADR_BLOCK,
    ),
    Case(
        "the block fits with an answer",
        [LINK_CHECK],
        [*ADR_BLOCK, NEW[0]],
        F_OPTS_BUDGET,
        [LINK_CHECK, *ADR_BLOCK],
        [NEW[0]],
    ),
    Case("other requests are split one by one", [], NEW, F_OPTS_BUDGET, NEW[:2], NEW[2:]),
    Case(
        "a larger FRMPayload budget takes all",
        [LINK_CHECK, DEVICE_TIME],
        [*ADR_BLOCK, *NEW],
        frm_payload_budget(59),
        [LINK_CHECK, DEVICE_TIME, *ADR_BLOCK, *NEW],
        [],
    ),
    Case("nothing fits a zero budget", [LINK_CHECK], [], 0, [], [LINK_CHECK]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_selection(case: Case) -> None:
    selection = select_mac_commands(case.answers, case.requests, case.budget)
    assert list(selection.chosen) == list(case.chosen)
    assert list(selection.leftover) == list(case.leftover)
    assert selection.size <= case.budget
    assert decode_mac_commands_strict(selection.encode(), uplink=False) == selection.chosen


def test_frm_payload_budget() -> None:
    assert frm_payload_budget(59) == 51  # EU868 DR0: M 59 minus FHDR (7) and FPort (1)
    assert frm_payload_budget(5) == 0
