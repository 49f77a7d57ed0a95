"""Transmit-time budgets: the region's duty-cycle sub-bands, DutyCycleReq and join back-off.

Each budget is kept as "free again at": after a frame of air time T under a duty cycle d the
band (or the device, for the aggregated limits) stays silent until start + T / d, the per-frame
rule LoRaMac-node also applies. Join back-off (LoRaWAN 1.0.4 section 7, 1.1 section 7): join-
requests stay under 1 % in the first hour after power-up, 0.1 % in the next ten hours and
0.01 % after that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from appliance.devicesim.radio import SECOND_NS
from appliance.lorawan.regions import DutyCycleBand, Region

HOUR_NS: Final = 3600 * SECOND_NS
_JOIN_BACKOFF: Final = ((HOUR_NS, 0.01), (11 * HOUR_NS, 0.001))
_JOIN_BACKOFF_AFTER: Final = 0.0001


def band_of(region: Region, frequency: int) -> DutyCycleBand | None:
    for band in region.duty_cycle_bands:
        if band.min_frequency_hz <= frequency <= band.max_frequency_hz:
            return band
    return None


def join_duty_cycle(since_power_up_ns: int) -> float:
    for limit, fraction in _JOIN_BACKOFF:
        if since_power_up_ns < limit:
            return fraction
    return _JOIN_BACKOFF_AFTER


def _free_at(start_ns: int, air_ns: int, fraction: float) -> int:
    return start_ns + round(air_ns / fraction)


@dataclass(frozen=True, slots=True)
class DutyCycle:
    band_free_at: tuple[tuple[str, int], ...] = ()
    device_free_at: int = 0

    def channel_free_at(self, region: Region, frequency: int) -> int:
        band = band_of(region, frequency)
        if band is None:
            return self.device_free_at
        return max(self.device_free_at, dict(self.band_free_at).get(band.name, 0))

    def after_transmission(
        self,
        region: Region,
        frequency: int,
        start_ns: int,
        air_ns: int,
        *,
        max_duty_cycle: int,
        regional: bool,
        join_fraction: float | None = None,
    ) -> DutyCycle:
        """The budgets once a frame has been sent; ``join_fraction`` for join-requests."""
        device = _free_at(start_ns, air_ns, 1 / (1 << max_duty_cycle))
        if join_fraction is not None:
            device = max(device, _free_at(start_ns, air_ns, join_fraction))
        bands = dict(self.band_free_at)
        band = band_of(region, frequency)
        if regional and band is not None:
            bands[band.name] = _free_at(start_ns, air_ns, band.max_duty_cycle)
        return replace(
            self,
            band_free_at=tuple(sorted(bands.items())),
            device_free_at=max(self.device_free_at, device),
        )
