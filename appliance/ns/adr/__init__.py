"""Adaptive data rate: the algorithm interface, the built-in algorithms and their registry.

    decision = ALGORITHMS.decide(profile.adr_algorithm, request)

See ``docs/adr.md`` for the default algorithm and how to plug in another.
"""

from __future__ import annotations

from appliance.lorawan.demodulation import REQUIRED_SNR_DB
from appliance.ns.adr.algorithm import (
    ADRAlgorithm,
    ADRRequest,
    ADRResult,
    max_lora_125khz_dr,
    required_snr_db,
)
from appliance.ns.adr.default import DefaultADR, KeepCurrentADR
from appliance.ns.adr.registry import (
    ALGORITHMS,
    ADRDecision,
    ADRRegistry,
    UnknownADRAlgorithmError,
    builtin_registry,
    register_algorithm,
)

__all__ = [
    "ALGORITHMS",
    "REQUIRED_SNR_DB",
    "ADRAlgorithm",
    "ADRDecision",
    "ADRRegistry",
    "ADRRequest",
    "ADRResult",
    "DefaultADR",
    "KeepCurrentADR",
    "UnknownADRAlgorithmError",
    "builtin_registry",
    "max_lora_125khz_dr",
    "register_algorithm",
    "required_snr_db",
]
