"""The SX1301 radio/IF layout (router_config ``sx1301_conf``) computed from the upchannels.

One SX1301 has two radios (RF chains) and ten demodulators, each on a frequency offset (IF)
from its radio's centre: eight multi-SF LoRa 125 kHz, one single-SF "LoRa standard" channel
(250 or 500 kHz) and one FSK channel. A demodulator's offset is limited by the radio's
bandwidth: Station's allocator (src/ral.c ``SX130X_RFE_MAXCOFF_*``) allows 400 kHz for 125 kHz
channels and FSK, 375 kHz for 250 kHz and 300 kHz for 500 kHz. Each channel turns into the
demodulators its data-rate range needs, as Station's ``handle_router_config`` does.

Radio centres are chosen by trying every split of the channels over the two radios (at most
2^9 for ten demodulators) and keeping the one with the widest margin, so channels sit well
inside the radio passband; Station recomputes the same kind of layout from ``upchannels``, and
uses this one as given when ``upchannels`` are absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, Final

from appliance.lorawan.errors import InvalidValueError
from hal.basic_station.channels import UpChannel
from hal.basic_station.datarates import StationDataRates
from hal.model import FSKModulation, LoRaModulation

MULTI_SF_CHANNELS: Final = 8
RADIOS: Final = 2
_MAX_OFFSET_HZ: Final = {125_000: 400_000, 250_000: 375_000, 500_000: 300_000}
_FSK_MAX_OFFSET_HZ: Final = 400_000
_FSK_BANDWIDTH_HZ: Final = 125_000


@dataclass(frozen=True, slots=True)
class Demodulator:
    kind: str  # "multiSF", "Lora_std" or "FSK"
    frequency_hz: int
    max_offset_hz: int
    bandwidth_hz: int = 125_000
    spreading_factor: int = 0
    bitrate_bps: int = 0


def demodulators(channels: Sequence[UpChannel], rates: StationDataRates) -> tuple[Demodulator, ...]:
    """The demodulators the channels need; InvalidValueError when one SX1301 has too few."""
    found: list[Demodulator] = []
    uplink = rates.uplink_rates()
    for channel in channels:
        in_range = [uplink[dr] for dr in range(channel.min_dr, channel.max_dr + 1) if dr in uplink]
        if any(isinstance(m, LoRaModulation) and m.bandwidth == 125_000 for m in in_range):
            found.append(Demodulator("multiSF", channel.frequency_hz, _MAX_OFFSET_HZ[125_000]))
        fast = [m for m in in_range if isinstance(m, LoRaModulation) and m.bandwidth != 125_000]
        if fast:
            bandwidth = fast[0].bandwidth
            found.append(
                Demodulator(
                    "Lora_std",
                    channel.frequency_hz,
                    _MAX_OFFSET_HZ[bandwidth],
                    bandwidth,
                    fast[0].spreading_factor,
                )
            )
        fsk = [m for m in in_range if isinstance(m, FSKModulation)]
        if fsk:
            found.append(
                Demodulator(
                    "FSK",
                    channel.frequency_hz,
                    _FSK_MAX_OFFSET_HZ,
                    _FSK_BANDWIDTH_HZ,
                    bitrate_bps=fsk[0].datarate,
                )
            )
    counts = {kind: sum(d.kind == kind for d in found) for kind in ("multiSF", "Lora_std", "FSK")}
    if counts["multiSF"] > MULTI_SF_CHANNELS or counts["Lora_std"] > 1 or counts["FSK"] > 1:
        raise InvalidValueError(
            "one SX1301 has 8 multi-SF, 1 LoRa standard and 1 FSK demodulator; the channels "
            f"need {counts['multiSF']}, {counts['Lora_std']} and {counts['FSK']}"
        )
    return tuple(found)


def _centre(group: Sequence[Demodulator]) -> int | None:
    """The centre of one radio serving ``group`` (mid-way in the range that reaches all)."""
    low = max(d.frequency_hz - d.max_offset_hz for d in group)
    high = min(d.frequency_hz + d.max_offset_hz for d in group)
    return None if low > high else (low + high) // 2


def radio_layout(found: Sequence[Demodulator]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(radio of each demodulator, centre of each radio), keeping channels off the edges.

    Layouts are compared by their demodulators' margins (how much further each could be from
    its radio's centre), smallest first: the best raises the worst margin, then the next.
    """
    if not found:
        raise InvalidValueError("no uplink channels to lay out")
    best: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None
    # The first demodulator is always on radio 0: the mirrored splits are the same layouts.
    for rest in product(range(RADIOS), repeat=len(found) - 1):
        assignment = (0, *rest)
        centres: list[int] = []
        for radio in range(RADIOS):
            group = [d for d, r in zip(found, assignment, strict=True) if r == radio]
            centre = _centre(group) if group else None
            if group and centre is None:
                break
            if centre is not None:
                centres.append(centre)
        else:
            margins = tuple(
                sorted(
                    d.max_offset_hz - abs(d.frequency_hz - centres[r])
                    for d, r in zip(found, assignment, strict=True)
                )
            )
            # One radio when it suffices; then the widest margins; ties keep the first.
            if best is None or (len(centres), _negated(margins)) < (
                len(best[2]),
                _negated(best[0]),
            ):
                best = (margins, assignment, tuple(centres))
    if best is None:
        raise InvalidValueError("the channels span more than the two radios of an SX1301 reach")
    return best[1], best[2]


def _negated(values: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(-value for value in values)


def sx1301_conf(channels: Sequence[UpChannel], rates: StationDataRates) -> dict[str, Any]:
    """One board's ``sx1301_conf`` object (router_config carries a list of them)."""
    found = demodulators(channels, rates)
    assignment, centres = radio_layout(found)
    conf: dict[str, Any] = {}
    for radio in range(RADIOS):
        # An unused radio is only disabled: its other settings stay as station.conf has them.
        used = radio < len(centres)
        conf[f"radio_{radio}"] = (
            {"enable": True, "freq": centres[radio]} if used else {"enable": False}
        )
    multi = 0
    for demodulator, radio in zip(found, assignment, strict=True):
        entry: dict[str, Any] = {
            "enable": True,
            "radio": radio,
            "if": demodulator.frequency_hz - centres[radio],
        }
        if demodulator.kind == "multiSF":
            conf[f"chan_multiSF_{multi}"] = entry
            multi += 1
        elif demodulator.kind == "Lora_std":
            entry |= {
                "bandwidth": demodulator.bandwidth_hz,
                "spread_factor": demodulator.spreading_factor,
            }
            conf["chan_Lora_std"] = entry
        else:
            entry |= {"bandwidth": demodulator.bandwidth_hz, "datarate": demodulator.bitrate_bps}
            conf["chan_FSK"] = entry
    for index in range(multi, MULTI_SF_CHANNELS):
        conf[f"chan_multiSF_{index}"] = {"enable": False}
    conf.setdefault("chan_Lora_std", {"enable": False})
    conf.setdefault("chan_FSK", {"enable": False})
    return conf
