"""The concentrator configuration the driver starts from: radios, IF chains, board settings.

Built from a board profile plus a region (``profiles.py``) or from a Semtech
``global_conf.json`` (``global_conf.py``); both produce this same value, checked on
construction so the start sequence can trust it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from hal.sx1302.errors import ProfileError

RF_CHAINS: Final = 2
MULTI_SF_CHANNELS: Final = 8
RADIO_RX_BANDWIDTH_HZ: Final = 1_600_000  # usable IF span of an SX1250 behind the SX1302
LORA_BANDWIDTHS: Final = {125_000: 0x04, 250_000: 0x05, 500_000: 0x06}  # register codes
FSK_DATARATE_RANGE: Final = (500, 250_000)
DEFAULT_FSK_SYNC_WORD: Final = 0xC194C1


@dataclass(frozen=True, slots=True)
class TxGain:
    """One row of a TX gain table: requested power -> SX1250 PA setting."""

    rf_power: int  # dBm at the connector
    pa_gain: int  # external PA on (>0) or off
    pwr_idx: int  # SX1250 power index (0..22)
    dig_gain: int = 0
    offset_i: int = 0
    offset_q: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.pwr_idx <= 22:
            raise ProfileError(f"TX gain pwr_idx must be 0..22, got {self.pwr_idx}")
        if not 0 <= self.pa_gain <= 3:
            raise ProfileError(f"TX gain pa_gain must be 0..3, got {self.pa_gain}")
        if not 0 <= self.dig_gain <= 3:
            raise ProfileError(f"TX gain dig_gain must be 0..3, got {self.dig_gain}")


@dataclass(frozen=True, slots=True)
class RssiTemperatureCompensation:
    """RSSI correction (a*T^4 + b*T^3 + c*T^2 + d*T + e) / 2^16 dB, T in degrees Celsius."""

    a: float = 0.0
    b: float = 0.0
    c: float = 0.0
    d: float = 0.0
    e: float = 0.0

    def offset_db(self, temperature_c: float) -> float:
        t = temperature_c
        return (self.a * t**4 + self.b * t**3 + self.c * t**2 + self.d * t + self.e) / 65536


@dataclass(frozen=True, slots=True)
class RadioConfig:
    enable: bool = False
    frequency_hz: int = 0
    radio_type: str = "sx1250"
    rssi_offset: float = 0.0
    rssi_tcomp: RssiTemperatureCompensation = field(default_factory=RssiTemperatureCompensation)
    single_input_mode: bool = False
    tx_enable: bool = False
    tx_min_hz: int = 0
    tx_max_hz: int = 0
    tx_gains: tuple[TxGain, ...] = ()

    def __post_init__(self) -> None:
        if self.radio_type != "sx1250":
            raise ProfileError(
                f"radio type {self.radio_type!r} is not supported (this driver drives SX1250 "
                "radios, the radios of every SX1302/SX1303 board)"
            )
        if self.tx_enable:
            if not self.tx_gains:
                raise ProfileError("a radio with TX enabled needs a TX gain table")
            if self.tx_min_hz >= self.tx_max_hz:
                raise ProfileError("a radio with TX enabled needs tx_min_hz < tx_max_hz")
        powers = [g.rf_power for g in self.tx_gains]
        if powers != sorted(powers) or len(set(powers)) != len(powers):
            raise ProfileError("TX gain table rows must be in increasing rf_power order")
        if len(self.tx_gains) > 16:
            raise ProfileError(f"a TX gain table has at most 16 rows, got {len(self.tx_gains)}")


@dataclass(frozen=True, slots=True)
class MultiSfChannel:
    enable: bool = False
    rf_chain: int = 0
    if_hz: int = 0


@dataclass(frozen=True, slots=True)
class ServiceChannel:
    """IF8: one LoRa channel of one spreading factor, 125/250/500 kHz wide."""

    enable: bool = False
    rf_chain: int = 0
    if_hz: int = 0
    bandwidth_hz: int = 250_000
    spreading_factor: int = 7
    implicit_header: bool = False
    implicit_payload_length: int = 0
    implicit_crc: bool = False
    implicit_coderate: int = 0


@dataclass(frozen=True, slots=True)
class FskChannel:
    """IF9: the FSK channel."""

    enable: bool = False
    rf_chain: int = 0
    if_hz: int = 0
    bandwidth_hz: int = 125_000
    datarate: int = 50_000
    sync_word: int = DEFAULT_FSK_SYNC_WORD
    sync_word_size: int = 3


def _check_if(name: str, if_hz: int, bandwidth_hz: int) -> None:
    limit = RADIO_RX_BANDWIDTH_HZ // 2
    if abs(if_hz) + bandwidth_hz // 2 > limit:
        raise ProfileError(
            f"{name}: IF {if_hz} Hz with {bandwidth_hz} Hz bandwidth is outside the radio's "
            f"+/-{limit} Hz"
        )


@dataclass(frozen=True, slots=True)
class ConcentratorConfig:
    radios: tuple[RadioConfig, RadioConfig]
    multi_sf: tuple[MultiSfChannel, ...] = tuple(MultiSfChannel() for _ in range(8))
    service: ServiceChannel = field(default_factory=ServiceChannel)
    fsk: FskChannel = field(default_factory=FskChannel)
    clock_source: int = 0
    lorawan_public: bool = True
    full_duplex: bool = False
    multi_sf_spreading_factors: tuple[int, ...] = (5, 6, 7, 8, 9, 10, 11, 12)
    antenna_gain_db: float = 0.0

    def __post_init__(self) -> None:
        if len(self.radios) != RF_CHAINS:
            raise ProfileError("a concentrator configuration has exactly two radios")
        if len(self.multi_sf) != MULTI_SF_CHANNELS:
            raise ProfileError("a concentrator configuration has exactly eight multi-SF channels")
        if self.clock_source not in (0, 1) or not self.radios[self.clock_source].enable:
            raise ProfileError(f"clock source radio {self.clock_source} must be an enabled radio")
        if self.full_duplex:
            raise ProfileError("full-duplex boards (SX1255 CN490 reference) are not supported")
        for index, channel in enumerate(self.multi_sf):
            if channel.enable:
                self._check_chain(f"multi-SF channel {index}", channel.rf_chain)
                _check_if(f"multi-SF channel {index}", channel.if_hz, 125_000)
        if self.service.enable:
            self._check_chain("LoRa service channel", self.service.rf_chain)
            if self.service.bandwidth_hz not in LORA_BANDWIDTHS:
                raise ProfileError(
                    f"LoRa service channel bandwidth {self.service.bandwidth_hz} Hz is not "
                    "125000, 250000 or 500000"
                )
            if not 5 <= self.service.spreading_factor <= 12:
                raise ProfileError("LoRa service channel spreading factor must be 5..12")
            _check_if("LoRa service channel", self.service.if_hz, self.service.bandwidth_hz)
        if self.fsk.enable:
            self._check_chain("FSK channel", self.fsk.rf_chain)
            low, high = FSK_DATARATE_RANGE
            if not low <= self.fsk.datarate <= high:
                raise ProfileError(f"FSK datarate must be {low}..{high} bit/s")
            if not 1 <= self.fsk.sync_word_size <= 8:
                raise ProfileError("FSK sync word size must be 1..8 bytes")
            _check_if("FSK channel", self.fsk.if_hz, self.fsk.bandwidth_hz)
        if not set(self.multi_sf_spreading_factors) <= set(range(5, 13)):
            raise ProfileError("multi-SF spreading factors must be within 5..12")

    def _check_chain(self, name: str, rf_chain: int) -> None:
        if rf_chain not in (0, 1) or not self.radios[rf_chain].enable:
            raise ProfileError(f"{name} uses radio {rf_chain}, which is not enabled")

    @property
    def multi_sf_mask(self) -> int:
        return sum(1 << (sf - 5) for sf in set(self.multi_sf_spreading_factors))

    def channel_frequency(self, if_chain: int) -> int:
        """The RF frequency of IF chain 0..9 (radio centre + IF offset)."""
        if if_chain < MULTI_SF_CHANNELS:
            channel = self.multi_sf[if_chain]
            return self.radios[channel.rf_chain].frequency_hz + channel.if_hz
        if if_chain == 8:
            return self.radios[self.service.rf_chain].frequency_hz + self.service.if_hz
        return self.radios[self.fsk.rf_chain].frequency_hz + self.fsk.if_hz

    def rf_chain_of(self, if_chain: int) -> int:
        if if_chain < MULTI_SF_CHANNELS:
            return self.multi_sf[if_chain].rf_chain
        return self.service.rf_chain if if_chain == 8 else self.fsk.rf_chain
