"""RX FIFO packets as the SX1302 writes them, built from what was received."""

from __future__ import annotations

from dataclasses import dataclass

from hal.sx1302.rx_fifo import SYNC, payload_crc


@dataclass(frozen=True, slots=True)
class FifoPacket:
    payload: bytes
    if_chain: int = 0
    spreading_factor: int = 7
    coding_rate: int = 1
    crc: bool = True
    modem_id: int = 0
    frequency_offset: int = 0  # signed 20-bit
    snr_quarter_db: int = 28  # 7 dB
    rssi_channel: int = 100  # raw; the board's offset (about -215) makes it about -115 dBm
    rssi_signal: int = 98
    timestamp_32mhz: int = 0
    crc_error: bool = False
    ts_metrics: bytes = b""

    def encode(self) -> bytes:
        """The packet's FIFO bytes, checksum included."""
        offset = self.frequency_offset & 0xFFFFF
        head = SYNC + bytes(
            (
                len(self.payload),
                self.if_chain,
                (self.spreading_factor << 4) | (self.coding_rate << 1) | int(self.crc),
                self.modem_id,
                offset & 0xFF,
                (offset >> 8) & 0xFF,
                (offset >> 16) & 0x0F,
            )
        )
        crc = payload_crc(self.payload)
        tail = (
            bytes(
                (
                    0x01 if self.crc_error else 0x00,
                    self.snr_quarter_db & 0xFF,
                    self.rssi_channel,
                    self.rssi_signal,
                    0,
                    0,
                )
            )
            + (self.timestamp_32mhz & 0xFFFFFFFF).to_bytes(4, "little")
            + crc.to_bytes(2, "little")
            + bytes((len(self.ts_metrics) // 2,))
            + self.ts_metrics
        )
        body = head + self.payload + tail
        return body + bytes((sum(body) & 0xFF,))
