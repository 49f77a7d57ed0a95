"""From a downlink item to a TX request: which chain, which gain row, what the radio refuses."""

from __future__ import annotations

from hal.model import DownlinkItem, FSKModulation, LoRaModulation, TxAckStatus
from hal.sx1302.config import LORA_BANDWIDTHS, ConcentratorConfig
from hal.sx1302.options import Sx1302Options
from hal.sx1302.tx import TxMode, TxRequest, select_gain
from hal.virtual_radio.air import time_on_air_ns


class TxPlanner:
    def __init__(self, config: ConcentratorConfig, options: Sx1302Options) -> None:
        self.config = config
        chains = [n for n, radio in enumerate(config.radios) if radio.tx_enable]
        self.chain = chains[0] if chains else None
        self.options = options

    def refusal(self, item: DownlinkItem) -> TxAckStatus | None:
        """Why the radio cannot send ``item`` (frequency, power, modulation), or None."""
        if self.chain is None:
            return TxAckStatus.TX_FREQ
        radio = self.config.radios[self.chain]
        info = item.tx_info
        if not radio.tx_min_hz <= info.frequency <= radio.tx_max_hz:
            return TxAckStatus.TX_FREQ
        modulation = info.modulation
        if isinstance(modulation, LoRaModulation):
            if (
                modulation.bandwidth not in LORA_BANDWIDTHS
                or not 1 <= int(modulation.code_rate) <= 4
            ):
                return TxAckStatus.INTERNAL_ERROR
        elif not isinstance(modulation, FSKModulation) or not 500 <= modulation.datarate <= 250_000:
            return TxAckStatus.INTERNAL_ERROR
        if len(item.phy_payload) > 255:
            return TxAckStatus.INTERNAL_ERROR
        if select_gain(radio.tx_gains, info.power - self.config.antenna_gain_db) is None:
            return TxAckStatus.TX_POWER
        return None

    def duration_us(self, item: DownlinkItem) -> int:
        modulation = item.tx_info.modulation
        assert isinstance(modulation, LoRaModulation | FSKModulation)
        return time_on_air_ns(len(item.phy_payload), modulation, uplink=False) // 1000

    def request(self, item: DownlinkItem, start_us: int) -> TxRequest:
        assert self.chain is not None
        radio = self.config.radios[self.chain]
        info = item.tx_info
        gain = select_gain(radio.tx_gains, info.power - self.config.antenna_gain_db)
        assert gain is not None
        modulation = info.modulation
        assert isinstance(modulation, LoRaModulation | FSKModulation)
        return TxRequest(
            rf_chain=self.chain,
            frequency_hz=info.frequency,
            gain=gain,
            modulation=modulation,
            payload=item.phy_payload,
            mode=TxMode.TIMESTAMPED,
            count_us=start_us,
            no_crc=isinstance(modulation, LoRaModulation),  # LoRaWAN: no CRC on LoRa downlinks
            lorawan_public=self.config.lorawan_public,
            fsk_sync_word=self.config.fsk.sync_word,
            fsk_sync_word_size=self.config.fsk.sync_word_size,
        )
