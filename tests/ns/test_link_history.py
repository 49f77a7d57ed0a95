"""The packed ADR history: the list it stands for, packed when every entry fits, else a list."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.ns.link_history import ENTRY_SIZE, UplinkHistory, UplinkHistoryEntry
from appliance.ns.session import MAX_UPLINK_HISTORY

entries = st.builds(
    UplinkHistoryEntry,
    st.integers(0, 0xFFFFFFFF),
    st.floats(-30, 30) | st.integers(-600, 600).map(lambda steps: steps / 20),
    st.integers(-200, 20) | st.integers(-(2**40), 2**40),
    st.integers(0, 15) | st.integers(0, 1000),
    st.integers(1, 5) | st.integers(0, 1000),
)


def _entry(f_cnt: int, snr: float = 7.25, rssi: int = -80) -> UplinkHistoryEntry:
    return UplinkHistoryEntry(f_cnt, snr, rssi, 1, 2)


@given(st.lists(entries, max_size=30))
def test_it_holds_what_a_list_would(items: list[UplinkHistoryEntry]) -> None:
    history = UplinkHistory(items)
    assert history == items
    assert list(history) == items
    assert len(history) == len(items)
    if items:
        assert history[-1] == items[-1]
        assert history[1:3] == items[1:3]


@given(st.lists(entries, max_size=40))
def test_add_keeps_the_newest_and_skips_repeats_as_the_list_version_did(
    items: list[UplinkHistoryEntry],
) -> None:
    history = UplinkHistory()
    expected: list[UplinkHistoryEntry] = []
    for entry in items:
        history.add(entry, MAX_UPLINK_HISTORY)
        if not expected or expected[-1].f_cnt != entry.f_cnt:
            expected.append(entry)
            del expected[:-MAX_UPLINK_HISTORY]
    assert history == expected


@pytest.mark.parametrize("snr", [7.25, -12.5, 9.8, -0.1, 0.0, 20.05, -19.95])
def test_radio_snr_steps_stay_packed_and_exact(snr: float) -> None:
    history = UplinkHistory([_entry(1, snr), _entry(2, -snr)])
    assert history.packed is not None
    assert len(history.packed) == 2 * ENTRY_SIZE
    assert history[0].max_snr == snr and history[1].max_snr == -snr


@pytest.mark.parametrize(
    "odd",
    [
        _entry(3, snr=7.83),  # not a step of 1/20 dB
        _entry(3, snr=math.inf),
        _entry(3, rssi=-40_000),  # beyond 16 bits
        UplinkHistoryEntry(3, 1.0, -80, 1, 256),  # more gateways than a byte counts
        UplinkHistoryEntry(3, 1.0, -80.5, 1, 1),  # type: ignore[arg-type]  # not an int
    ],
)
def test_an_entry_the_packed_form_cannot_hold_turns_it_into_a_list(
    odd: UplinkHistoryEntry,
) -> None:
    history = UplinkHistory([_entry(1), _entry(2)])
    history.add(odd, MAX_UPLINK_HISTORY)
    assert history.packed is None
    assert history == [_entry(1), _entry(2), odd]
    history.clear()
    history.append(_entry(4))
    assert history.packed is not None and history == [_entry(4)]


def test_from_packed_round_trips_and_refuses_a_torn_entry() -> None:
    history = UplinkHistory([_entry(n) for n in range(5)])
    assert history.packed is not None
    assert UplinkHistory.from_packed(history.packed) == history
    with pytest.raises(ValueError, match="packed uplink history"):
        UplinkHistory.from_packed(history.packed[:-1])


def test_deleting_and_comparing() -> None:
    history = UplinkHistory([_entry(n) for n in range(5)])
    del history[:-2]
    assert history == [_entry(3), _entry(4)]
    assert history == (_entry(3), _entry(4))
    assert history != [_entry(3)]
    assert history != "not a history"
    assert UplinkHistory.of(history) is history
    assert UplinkHistory.of([_entry(1)]) == [_entry(1)]
    assert "UplinkHistory([UplinkHistoryEntry(f_cnt=3" in repr(history)
