"""From a parsed FIFO packet to the common ``UplinkFrame``: frequency, modulation, signal
quality with the board's RSSI offset and temperature compensation, and the packet time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from appliance.lorawan.identifiers import EUI64
from hal.jit_queue import counter_delta
from hal.model import (
    CodeRate,
    CRCStatus,
    FSKModulation,
    LoRaModulation,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.sx1302.config import MULTI_SF_CHANNELS, ConcentratorConfig
from hal.sx1302.rx_fifo import RxPacket
from hal.sx1302.rx_setup import if_register
from hal.sx1302.timestamps import CounterTracker, fsk_correction_us, legacy_correction_us

# The FSK demodulator's RSSI is not linear: a cubic brings it to dB.
_FSK_RSSI_POLY: Final = (90.636423, 0.420835, 0.007129, -0.000026)


@dataclass(frozen=True, slots=True)
class ReceptionContext:
    """What converting a packet needs besides the packet."""

    config: ConcentratorConfig
    gateway_id: EUI64
    temperature_c: float
    counter_now_us: int  # the 32-bit counter when the FIFO was read
    unix_now_ns: int | None  # the host's clock at that moment, None if not trusted


def frequency_offset_hz(packet: RxPacket, bandwidth_hz: int, if_hz: int) -> int:
    """The modem's frequency error, plus the channelizer's rounding of the IF frequency."""
    offset = int(packet.frequency_offset * bandwidth_hz / (1 << 20))
    register = if_register(if_hz)
    programmed = abs(register) * 15625 // 32
    return offset + if_hz - (-programmed if register < 0 else programmed)


def to_uplink(
    packet: RxPacket, context: ReceptionContext, counter: CounterTracker, uplink_id: int
) -> UplinkFrame:
    config = context.config
    chain = packet.if_chain
    rf_chain = config.rf_chain_of(chain)
    radio = config.radios[rf_chain]
    frequency = config.channel_frequency(chain)
    if chain < MULTI_SF_CHANNELS:
        if_hz = config.multi_sf[chain].if_hz
    else:
        if_hz = config.service.if_hz if chain == 8 else config.fsk.if_hz
    rssi_channel: float = packet.rssi_channel
    rssi_signal: float = packet.rssi_signal
    metadata: dict[str, str] = {"modem_id": str(packet.modem_id)}
    modulation: LoRaModulation | FSKModulation
    if packet.is_fsk:
        a, b, c, d = _FSK_RSSI_POLY
        raw = rssi_channel
        rssi_channel = a + b * raw + c * raw**2 + d * raw**3
        modulation = FSKModulation(config.fsk.datarate)
        snr = 0.0
        correction = fsk_correction_us(config.fsk.datarate)
    else:
        bandwidth = 125_000 if chain < MULTI_SF_CHANNELS else config.service.bandwidth_hz
        code_rate = packet.coding_rate
        if chain == 8 and config.service.implicit_header:
            code_rate = config.service.implicit_coderate
        modulation = LoRaModulation(
            bandwidth,
            packet.spreading_factor,
            CodeRate(code_rate) if 1 <= code_rate <= 4 else CodeRate.UNDEFINED,
        )
        snr = packet.snr_quarter_db / 4
        correction = legacy_correction_us(
            bandwidth_hz=bandwidth,
            spreading_factor=packet.spreading_factor,
            coding_rate=code_rate,
            crc_enabled=packet.crc_enabled,
            payload_length=len(packet.payload),
        )
        metadata["freq_offset_hz"] = str(frequency_offset_hz(packet, bandwidth, if_hz))
    compensation = radio.rssi_offset + radio.rssi_tcomp.offset_db(context.temperature_c)
    rssi_channel += compensation
    rssi_signal += compensation
    if not packet.is_fsk:
        metadata["rssi_signal"] = f"{rssi_signal:.1f}"
    count_us = (counter.expand(packet.timestamp_32mhz // 32) + correction) & 0xFFFFFFFF
    if packet.crc_enabled:
        crc_status = CRCStatus.BAD_CRC if packet.crc_error else CRCStatus.CRC_OK
    else:
        crc_status = CRCStatus.NO_CRC
    gw_time_ns = None
    if context.unix_now_ns is not None:
        gw_time_ns = context.unix_now_ns + counter_delta(count_us, context.counter_now_us) * 1000
    rx_info = UplinkRxInfo(
        gateway_id=context.gateway_id,
        uplink_id=uplink_id,
        rssi=round(rssi_channel),
        snr=snr,
        channel=chain,
        rf_chain=rf_chain,
        context=count_us.to_bytes(4, "big"),
        crc_status=crc_status,
        gw_time_ns=gw_time_ns,
        metadata=metadata,
    )
    return UplinkFrame(packet.payload, UplinkTxInfo(frequency, modulation), rx_info)
