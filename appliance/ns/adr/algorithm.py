"""What an ADR algorithm is given and what it answers (modelled on ChirpStack's ``adr`` module).

An algorithm is a pure function of an ``ADRRequest``: the device's recent link quality and the
limits it must respect. It answers the data rate, TX power index and NbTrans the network wants
the device to use; the MAC engine turns a difference into a LinkADRReq.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from appliance.lorawan.demodulation import REQUIRED_SNR_DB
from appliance.lorawan.regions import Modulation, Region
from appliance.ns.session import UplinkHistoryEntry


def required_snr_db(region: Region, data_rate: int) -> float | None:
    """The SNR a LoRa uplink at ``data_rate`` needs to be demodulated; None for FSK/LR-FHSS."""
    rate = region.data_rate(data_rate)
    if rate.modulation is not Modulation.LORA or rate.spreading_factor is None:
        return None
    return REQUIRED_SNR_DB[rate.spreading_factor]


def max_lora_125khz_dr(region: Region) -> int:
    """The highest uplink DR that is LoRa at 125 kHz: the ceiling of SNR-based ADR steps."""
    # Asked for on every uplink: remembered per region (regions are constants).
    cached = _MAX_LORA_125KHZ_DR.get(region.name)
    if cached is None:
        cached = max(
            (
                rate.index
                for rate in region.data_rates
                if rate.uplink
                and rate.modulation is Modulation.LORA
                and rate.bandwidth_hz == 125_000
            ),
            default=0,
        )
        _MAX_LORA_125KHZ_DR[region.name] = cached
    return cached


_MAX_LORA_125KHZ_DR: dict[str, int] = {}


@dataclass(frozen=True, slots=True)
class ADRRequest:
    """Everything an algorithm may base its decision on.

    ``dr`` is the data rate of the uplink being answered (what the device really uses);
    ``required_snr_db`` is None when that data rate is not LoRa. ``max_tx_power_index`` is the
    highest (weakest) TX power index the device supports.
    """

    region: Region
    adr_enabled: bool
    dr: int
    tx_power_index: int
    nb_trans: int
    min_dr: int
    max_dr: int
    max_tx_power_index: int
    installation_margin_db: float
    required_snr_db: float | None
    uplink_history: Sequence[UplinkHistoryEntry] = ()
    variables: dict[str, str] = field(default_factory=dict)  # device variables, for plug-ins


@dataclass(frozen=True, slots=True)
class ADRResult:
    dr: int
    tx_power_index: int
    nb_trans: int

    @classmethod
    def unchanged(cls, request: ADRRequest) -> ADRResult:
        return cls(request.dr, request.tx_power_index, request.nb_trans)


class ADRAlgorithm(Protocol):
    """The interface a plug-in implements: an id (the device profile's ``adr_algorithm``), a
    human name, and a pure ``decide``. Raising from ``decide`` is allowed: the caller keeps
    the device's current settings and reports the error."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    def decide(self, request: ADRRequest) -> ADRResult: ...
