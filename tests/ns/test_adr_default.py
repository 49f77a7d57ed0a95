"""The default ADR algorithm, as tables (cases after ChirpStack's adr/default.rs tests)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from appliance.lorawan.regions import get_region
from appliance.ns.adr import (
    ADRRequest,
    ADRResult,
    DefaultADR,
    KeepCurrentADR,
    max_lora_125khz_dr,
    required_snr_db,
)
from appliance.ns.adr.default import apply_steps, nb_trans_for, packet_loss_percent, snr_steps
from appliance.ns.session import UplinkHistoryEntry

EU868 = get_region("EU868")


def _history(
    snrs: list[float], *, tx_power_index: int = 0, f_cnts: list[int] | None = None
) -> tuple[UplinkHistoryEntry, ...]:
    counters = f_cnts if f_cnts is not None else list(range(len(snrs)))
    return tuple(
        UplinkHistoryEntry(f_cnt, snr, -100, tx_power_index, 1)
        for f_cnt, snr in zip(counters, snrs, strict=True)
    )


BASE = ADRRequest(
    region=EU868,
    adr_enabled=True,
    dr=0,
    tx_power_index=0,
    nb_trans=1,
    min_dr=0,
    max_dr=5,
    max_tx_power_index=5,
    installation_margin_db=0.0,
    required_snr_db=0.0,
)


@pytest.mark.parametrize(
    ("steps", "dr", "tx_power", "expected"),
    [
        (0, 3, 1, (3, 1)),  # nothing to do
        (1, 4, 1, (5, 1)),  # one step: DR up
        (1, 5, 1, (5, 2)),  # one step at max DR: power down
        (2, 3, 1, (5, 1)),  # two steps: DR up twice
        (2, 4, 1, (5, 2)),  # DR up, then power down
        (2, 5, 1, (5, 3)),  # power down twice
        (2, 5, 5, (5, 5)),  # already at the weakest power
        (-1, 5, 1, (5, 0)),  # negative: power up
        (-1, 4, 0, (4, 0)),  # negative at full power: DR is never lowered
        (-10, 4, 0, (4, 0)),
    ],
)
def test_steps(steps: int, dr: int, tx_power: int, expected: tuple[int, int]) -> None:
    assert apply_steps(steps, dr, tx_power, max_dr=5, max_tx_power_index=5) == expected


@pytest.mark.parametrize(
    ("margin", "steps"),
    [(0.0, 0), (2.9, 0), (3.0, 1), (8.9, 2), (-2.9, 0), (-3.0, -1), (-7.0, -2)],
)
def test_margin_to_steps_truncates_toward_zero(margin: float, steps: int) -> None:
    assert snr_steps(margin) == steps


@pytest.mark.parametrize(
    ("loss", "current", "expected"),
    [
        (0.0, 1, 1),
        (4.99, 3, 2),  # < 5 %: one fewer
        (4.99, 2, 1),
        (5.0, 2, 2),  # 5..10 %: keep
        (9.99, 3, 3),
        (10.0, 1, 2),  # 10..30 %: one more
        (29.9, 2, 3),
        (30.0, 1, 3),  # >= 30 %: the maximum
        (50.0, 3, 3),
        (0.0, 0, 1),  # out-of-range current values are clamped to 1..3
        (50.0, 7, 3),
    ],
)
def test_nb_trans_table(loss: float, current: int, expected: int) -> None:
    assert nb_trans_for(current, loss) == expected


def test_packet_loss_counts_counter_gaps_over_a_full_history() -> None:
    # ChirpStack's case: 5 in a row, a gap of one, 5 more, a gap of one, the rest: 2 lost / 20.
    counters = [*range(5), *range(6, 11), *range(12, 22)]
    assert packet_loss_percent(_history([0.0] * 20, f_cnts=counters)) == 10.0


def test_packet_loss_is_zero_until_the_history_is_full_or_after_a_counter_reset() -> None:
    assert packet_loss_percent(_history([0.0] * 19, f_cnts=list(range(0, 38, 2)))) == 0.0
    reset = [*range(100, 110), *range(10)]
    assert packet_loss_percent(_history([0.0] * 20, f_cnts=reset)) == 0.0


FULL_STRONG = _history([5.0] * 20)


@pytest.mark.parametrize(
    ("name", "request_", "expected"),
    [
        (
            "ADR off: nothing changes, even above the max DR",
            replace(BASE, adr_enabled=False, dr=5, max_dr=4),
            ADRResult(5, 0, 1),
        ),
        (
            "above the max DR: lowered to it",
            replace(BASE, dr=5, max_dr=4, uplink_history=_history([0.0])),
            ADRResult(4, 0, 1),
        ),
        (
            "one 3 dB step of margin: DR up",
            replace(BASE, required_snr_db=-20.0, uplink_history=_history([-15.0])),
            ADRResult(1, 0, 1),
        ),
        (
            "installation margin eats the steps",
            replace(
                BASE,
                required_snr_db=-20.0,
                installation_margin_db=10.0,
                uplink_history=_history([-15.0]),
            ),
            ADRResult(0, 0, 1),
        ),
        (
            "max SNR of the history counts, not the last one",
            replace(BASE, required_snr_db=-20.0, uplink_history=_history([-19.0, -11.0, -19.0])),
            ADRResult(3, 0, 1),
        ),
        (
            "max DR capped at the highest LoRa 125 kHz rate (EU868 DR5)",
            replace(BASE, dr=4, max_dr=7, required_snr_db=-10.0, uplink_history=FULL_STRONG),
            ADRResult(5, 4, 1),
        ),
        (
            "power goes down once the DR is at its maximum",
            replace(BASE, dr=5, required_snr_db=-7.5, uplink_history=FULL_STRONG),
            ADRResult(5, 4, 1),
        ),
        (
            "negative margin with a partial history: wait",
            replace(
                BASE,
                dr=5,
                tx_power_index=3,
                required_snr_db=-7.5,
                uplink_history=(_history([-12.0] * 19, tx_power_index=3)),
            ),
            ADRResult(5, 3, 1),
        ),
        (
            "negative margin over a full history at this power: power up",
            replace(
                BASE,
                dr=5,
                tx_power_index=3,
                required_snr_db=-7.5,
                uplink_history=_history([-14.0] * 20, tx_power_index=3),
            ),
            ADRResult(5, 1, 1),
        ),
        (
            "a full history at another power does not count",
            replace(
                BASE,
                dr=5,
                tx_power_index=3,
                required_snr_db=-7.5,
                uplink_history=_history([-12.0] * 20, tx_power_index=2),
            ),
            ADRResult(5, 3, 1),
        ),
        (
            "packet loss raises NbTrans",
            replace(
                BASE,
                uplink_history=_history([0.0] * 20, f_cnts=[i * 2 for i in range(20)]),
            ),
            ADRResult(0, 0, 3),
        ),
        (
            "non-LoRa uplink: only the DR cap and NbTrans apply",
            replace(BASE, dr=7, max_dr=7, required_snr_db=None, uplink_history=FULL_STRONG),
            ADRResult(5, 0, 1),
        ),
        (
            "no history yet: nothing to step on",
            replace(BASE, required_snr_db=-20.0),
            ADRResult(0, 0, 1),
        ),
    ],
)
def test_default_algorithm(name: str, request_: ADRRequest, expected: ADRResult) -> None:
    assert DefaultADR().decide(request_) == expected, name


def test_keep_current_never_changes_anything() -> None:
    request = replace(BASE, dr=5, max_dr=2, uplink_history=FULL_STRONG)
    assert KeepCurrentADR().decide(request) == ADRResult(5, 0, 1)


@pytest.mark.parametrize(
    ("region", "dr", "snr"),
    [("EU868", 0, -20.0), ("EU868", 5, -7.5), ("EU868", 6, -7.5), ("US915", 0, -15.0)],
)
def test_required_snr_of_lora_rates(region: str, dr: int, snr: float) -> None:
    assert required_snr_db(get_region(region), dr) == snr


def test_required_snr_of_other_modulations_is_none() -> None:
    assert required_snr_db(EU868, 7) is None  # FSK
    assert required_snr_db(EU868, 8) is None  # LR-FHSS


@pytest.mark.parametrize(
    ("region", "expected"), [("EU868", 5), ("US915", 3), ("AU915", 5), ("AS923", 5)]
)
def test_highest_lora_125khz_rate(region: str, expected: int) -> None:
    assert max_lora_125khz_dr(get_region(region)) == expected
