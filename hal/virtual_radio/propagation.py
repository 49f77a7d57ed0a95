"""Radio propagation for the virtual radio: path loss, noise and what a demodulator can hear.

- Log-distance path loss: free-space loss at the 1 m reference distance, then 10·n·log10(d)
  with exponent n (2.0 free space, 2.7-3.5 suburban/urban). Optional log-normal shadowing
  comes from a caller-supplied random draw so results stay reproducible.
- Thermal noise floor: -174 dBm/Hz + 10·log10(bandwidth) + receiver noise figure.
- LoRa demodulation floor: the SNR each spreading factor needs
  (``appliance.lorawan.demodulation``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from appliance.lorawan.demodulation import REQUIRED_SNR_DB

_SPEED_OF_LIGHT: Final = 299_792_458.0
THERMAL_NOISE_DBM_PER_HZ: Final = -174.0
FSK_REQUIRED_SNR_DB: Final = 10.0  # a GFSK receiver needs a positive SNR, unlike LoRa


@dataclass(frozen=True, slots=True)
class Position:
    """A point on the site plan, in metres from the gateway's antenna."""

    x_m: float = 0.0
    y_m: float = 0.0
    z_m: float = 0.0

    def distance_to(self, other: Position) -> float:
        return math.dist((self.x_m, self.y_m, self.z_m), (other.x_m, other.y_m, other.z_m))


@dataclass(frozen=True, slots=True)
class PathLossModel:
    exponent: float = 2.7
    noise_figure_db: float = 6.0
    shadowing_sigma_db: float = 0.0  # scale of the standard-normal draw the caller supplies

    def path_loss_db(
        self, distance_m: float, frequency_hz: int, shadowing_draw: float = 0.0
    ) -> float:
        distance = max(distance_m, 1.0)  # inside the reference distance the model means nothing
        reference = 20 * math.log10(4 * math.pi * frequency_hz / _SPEED_OF_LIGHT)
        return (
            reference
            + 10 * self.exponent * math.log10(distance)
            + shadowing_draw * self.shadowing_sigma_db
        )

    def noise_floor_dbm(self, bandwidth_hz: int) -> float:
        return THERMAL_NOISE_DBM_PER_HZ + 10 * math.log10(bandwidth_hz) + self.noise_figure_db

    def link(
        self,
        tx_power_dbm: float,
        distance_m: float,
        frequency_hz: int,
        bandwidth_hz: int,
        shadowing_draw: float = 0.0,
    ) -> tuple[float, float]:
        """(RSSI dBm, SNR dB) of a transmission heard ``distance_m`` away."""
        rssi = tx_power_dbm - self.path_loss_db(distance_m, frequency_hz, shadowing_draw)
        return rssi, rssi - self.noise_floor_dbm(bandwidth_hz)


def demodulable(snr_db: float, spreading_factor: int | None) -> bool:
    """Whether a packet at ``snr_db`` can be demodulated (``None`` = FSK)."""
    if spreading_factor is None:
        return snr_db >= FSK_REQUIRED_SNR_DB
    return snr_db >= REQUIRED_SNR_DB[spreading_factor]
