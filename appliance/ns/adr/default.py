"""The default ADR algorithm: ChirpStack's "default" (LoRa only), after Semtech's recommendation.

1. Cap the data rate at the network's maximum, itself capped at the highest LoRa 125 kHz rate
   (SNR steps only make sense between LoRa rates of one bandwidth).
2. NbTrans follows the packet loss over the history (LoRaWAN ADR recommendation table).
3. margin = max SNR of the history - required SNR of the current DR - installation margin;
   nStep = margin / 3 dB, truncated toward zero as ChirpStack does, so a margin between -3 and
   +3 dB changes nothing (hysteresis against flapping).
4. Positive steps raise the DR first, then lower the TX power (raise its index); negative steps
   raise the TX power only. The DR is never lowered: a device that loses the network falls
   back by itself (ADR_ACK_LIMIT/ADR_ACK_DELAY), and raising the power is the cheaper remedy.
   Power goes up only once a full history was taken at the current power, so one bad uplink
   right after a change cannot undo it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Final

from appliance.ns.adr.algorithm import ADRRequest, ADRResult, max_lora_125khz_dr
from appliance.ns.session import MAX_UPLINK_HISTORY, UplinkHistoryEntry

SNR_STEP_DB: Final = 3.0
MAX_NB_TRANS: Final = 3

# Rows: packet loss < 5 %, < 10 %, < 30 %, >= 30 %; columns: current NbTrans 1, 2, 3.
# Low loss lowers NbTrans, moderate keeps it, high loss raises it, very high uses the maximum.
_NB_TRANS_TABLE: Final = ((1, 1, 2), (1, 2, 3), (2, 3, 3), (3, 3, 3))
_LOSS_THRESHOLDS_PERCENT: Final = (5.0, 10.0, 30.0)


def packet_loss_percent(history: Sequence[UplinkHistoryEntry]) -> float:
    """Frames missing between the counters of the history, per frame held (ChirpStack's
    formula). Zero until the history is full: a short history says too little."""
    if len(history) < MAX_UPLINK_HISTORY:
        return 0.0
    # A counter going backwards (a relaxed-counter device that reset) is no loss.
    lost = sum(max(0, later.f_cnt - earlier.f_cnt - 1) for earlier, later in pairwise(history))
    return lost / len(history) * 100.0


def nb_trans_for(current: int, loss_percent: float) -> int:
    column = min(max(current, 1), MAX_NB_TRANS) - 1
    row = sum(loss_percent >= threshold for threshold in _LOSS_THRESHOLDS_PERCENT)
    return _NB_TRANS_TABLE[row][column]


def snr_steps(margin_db: float) -> int:
    return int(margin_db / SNR_STEP_DB)  # int() truncates toward zero


def apply_steps(
    steps: int, dr: int, tx_power_index: int, max_dr: int, max_tx_power_index: int
) -> tuple[int, int]:
    """The (DR, TX power index) after ``steps`` steps of 3 dB."""
    while steps > 0:
        if dr < max_dr:
            dr += 1
        elif tx_power_index < max_tx_power_index:
            tx_power_index += 1
        steps -= 1
    while steps < 0:
        tx_power_index = max(0, tx_power_index - 1)
        steps += 1
    return dr, tx_power_index


class DefaultADR:
    """Registered as "default"."""

    @property
    def id(self) -> str:
        return "default"

    @property
    def name(self) -> str:
        return "Default ADR algorithm (LoRa only)"

    def decide(self, request: ADRRequest) -> ADRResult:
        if not request.adr_enabled:
            return ADRResult.unchanged(request)
        max_dr = min(request.max_dr, max_lora_125khz_dr(request.region))
        dr = min(request.dr, max_dr)
        history = request.uplink_history
        nb_trans = nb_trans_for(request.nb_trans, packet_loss_percent(history))
        if request.required_snr_db is None or not history:
            # No LoRa SNR to reason about (FSK or LR-FHSS uplink), or nothing measured yet.
            return ADRResult(dr, request.tx_power_index, nb_trans)
        max_snr = max(entry.max_snr for entry in history)
        steps = snr_steps(max_snr - request.required_snr_db - request.installation_margin_db)
        at_current_power = sum(e.tx_power_index == request.tx_power_index for e in history)
        if steps < 0 and at_current_power < MAX_UPLINK_HISTORY:
            return ADRResult(dr, request.tx_power_index, nb_trans)
        dr, tx_power_index = apply_steps(
            steps, dr, request.tx_power_index, max_dr, request.max_tx_power_index
        )
        return ADRResult(dr, tx_power_index, nb_trans)


class KeepCurrentADR:
    """Registered as "none": the network never changes the device's settings by ADR."""

    @property
    def id(self) -> str:
        return "none"

    @property
    def name(self) -> str:
        return "No ADR (keep the device's settings)"

    def decide(self, request: ADRRequest) -> ADRResult:
        return ADRResult.unchanged(request)
