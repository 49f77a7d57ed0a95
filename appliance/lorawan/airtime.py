"""Time on air of LoRa and FSK frames, in seconds.

LoRa: the formula of the Semtech SX1276/77/78/79 datasheet (section 4.1.1.7, "Time on air")
and application note AN1200.13, which the SX1261/2 datasheet (section 6.1.4) repeats for SF7..SF12:

    T_sym      = 2^SF / BW
    T_preamble = (n_preamble + 4.25) * T_sym
    n_payload  = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH) / (4 (SF - 2 DE))) (CR + 4), 0)

with IH = 1 for an implicit header and DE = 1 when low-data-rate optimisation is on. Left to
itself (``low_data_rate_optimize=None``) LDRO is switched on when a symbol lasts 16 ms or more,
as the radios require (SF11 and SF12 at 125 kHz, SF12 at 250 kHz).

SF5 and SF6 follow the SX126x rules of the same datasheet section: 6.25 symbols are added to
the preamble instead of 4.25, the header-dependent term is 20 symbols only with an explicit
header (no constant 8 bits), and LDRO never applies (denominator 4 SF). SX127x radios do not
support SF5, and support SF6 with an implicit header only; that is not enforced here.

FSK: every octet on the air takes 8 / bitrate seconds: preamble, sync word, the length octet
of variable-length packets, the payload and the 2-octet CRC. LoRaWAN (RP002-1.0.4, the
"preamble format" subsection of each region) uses a 5-octet preamble and a 3-octet sync word.
"""

from __future__ import annotations

import math
from typing import Final

from appliance.lorawan.errors import InvalidValueError

LDRO_SYMBOL_TIME_S: Final = 0.016
_MAX_PAYLOAD: Final = 255
_LORA_SPREADING_FACTORS: Final = range(5, 13)


def _int(what: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"{what} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise InvalidValueError(f"{what} must be {low}..{high}, got {value}")
    return value


def _bool(what: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidValueError(f"{what} must be True or False, got {value!r}")
    return value


def lora_symbol_time(spreading_factor: int, bandwidth_hz: int) -> float:
    """Duration of one LoRa symbol in seconds."""
    _int("spreading factor", spreading_factor, 5, 12)
    _int("bandwidth", bandwidth_hz, 1, 10_000_000)
    return float(2**spreading_factor) / bandwidth_hz


def lora_time_on_air(
    payload_size: int,
    spreading_factor: int,
    bandwidth_hz: int,
    coding_rate: int = 1,
    *,
    preamble_symbols: int = 8,
    explicit_header: bool = True,
    crc: bool = True,
    low_data_rate_optimize: bool | None = None,
) -> float:
    """Seconds a LoRa frame of ``payload_size`` octets (the PHYPayload) spends on the air.

    ``coding_rate`` is 1..4 for 4/5..4/8. LoRaWAN uplinks carry a CRC and downlinks do not.
    The radio settings after it are keyword-only so that calls say which flag they turn off.
    """
    _int("payload size", payload_size, 0, _MAX_PAYLOAD)
    symbol = lora_symbol_time(spreading_factor, bandwidth_hz)
    _int("coding rate", coding_rate, 1, 4)
    _int("preamble length", preamble_symbols, 6, 0xFFFF)
    explicit = _bool("explicit_header", explicit_header)
    crc_bits = 16 if _bool("crc", crc) else 0
    if low_data_rate_optimize is None:
        # A hair of tolerance so 2^11 / 125 kHz, exactly 16.384 ms, is never lost to rounding.
        ldro = spreading_factor >= 7 and symbol >= LDRO_SYMBOL_TIME_S - 1e-12
    else:
        ldro = _bool("low_data_rate_optimize", low_data_rate_optimize)

    if spreading_factor < 7:
        bits = 8 * payload_size + crc_bits - 4 * spreading_factor + (20 if explicit else 0)
        per_block = 4 * spreading_factor
        preamble = preamble_symbols + 6.25
    else:
        bits = 8 * payload_size + crc_bits - 4 * spreading_factor + 8 + (20 if explicit else 0)
        per_block = 4 * (spreading_factor - (2 if ldro else 0))
        preamble = preamble_symbols + 4.25
    blocks = max(math.ceil(bits / per_block), 0)
    payload_symbols = 8 + blocks * (coding_rate + 4)
    return (preamble + payload_symbols) * symbol


def fsk_time_on_air(
    payload_size: int,
    bitrate_bps: int,
    *,
    preamble_bytes: int = 5,
    sync_word_bytes: int = 3,
    length_byte: bool = True,
    crc: bool = True,
) -> float:
    """Seconds an FSK frame of ``payload_size`` octets spends on the air (LoRaWAN defaults)."""
    _int("payload size", payload_size, 0, _MAX_PAYLOAD)
    _int("bitrate", bitrate_bps, 1, 10_000_000)
    _int("preamble length", preamble_bytes, 0, 0xFFFF)
    _int("sync word length", sync_word_bytes, 0, 8)
    octets = preamble_bytes + sync_word_bytes + payload_size
    octets += 1 if _bool("length_byte", length_byte) else 0
    octets += 2 if _bool("crc", crc) else 0
    return octets * 8 / bitrate_bps
