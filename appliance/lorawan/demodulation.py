"""What a LoRa demodulator can hear: the SNR each spreading factor needs.

The figures are the SX126x/SX127x/SX130x datasheet demodulation floors, 2.5 dB per SF step.
The network server uses them for ADR and LinkCheckAns margins; the virtual radio uses them to
decide which packets it receives.
"""

from __future__ import annotations

from typing import Final

REQUIRED_SNR_DB: Final[dict[int, float]] = {
    5: -2.5,
    6: -5.0,
    7: -7.5,
    8: -10.0,
    9: -12.5,
    10: -15.0,
    11: -17.5,
    12: -20.0,
}
