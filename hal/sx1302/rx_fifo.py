"""The SX1302 RX FIFO: packets as the chip stores them, parsed without trusting them.

Each packet: sync ``A5 C0``, 7 bytes of head metadata, the payload, 14 bytes of tail
metadata, 2 bytes per fine-timestamp metric, and an 8-bit checksum of everything before it.
A bad checksum or a packet running past the end makes the rest of the buffer unusable (its
framing can no longer be trusted): it is dropped and counted, never raised.
"""

from __future__ import annotations

import binascii
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

SYNC: Final = b"\xa5\xc0"
HEAD: Final = 9  # sync + 7 metadata bytes, the payload starts here
TAIL: Final = 14  # status .. metric count, the checksum included
MAX_FIFO: Final = 4096
LORA_SERVICE_MODEM: Final = 16
FSK_MODEM: Final = 17


@dataclass(frozen=True, slots=True)
class RxPacket:
    if_chain: int
    modem_id: int
    payload: bytes
    crc_enabled: bool
    coding_rate: int
    spreading_factor: int
    frequency_offset: int  # signed 20-bit, channel-bandwidth units (see receive.py)
    crc_error: bool
    timing_set: bool
    snr_quarter_db: int  # signed
    rssi_channel: int  # raw, before the board's offset
    rssi_signal: int
    timestamp_32mhz: int
    payload_crc: int
    ts_metrics: bytes = b""

    @property
    def is_fsk(self) -> bool:
        return self.modem_id == FSK_MODEM


@dataclass(slots=True)
class FifoParse:
    packets: list[RxPacket] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> packets (or buffers)


def payload_crc(payload: bytes) -> int:
    """The modem's CRC-16 of a LoRa payload (polynomial 0x1021, data shifted into the
    register): the CCITT CRC of all but the last two bytes, XOR those two bytes."""
    if len(payload) < 2:
        return int.from_bytes(payload, "big")
    return binascii.crc_hqx(payload[:-2], 0) ^ int.from_bytes(payload[-2:], "big")


def parse_fifo(buffer: bytes) -> FifoParse:
    result = FifoParse()
    size = len(buffer)
    if size == 0:
        return result
    start = buffer.find(SYNC)
    if start < 0:
        result.dropped["no_sync"] += 1
        return result
    if start > 0:
        result.dropped["resync_bytes"] += start
    index = start
    packets = result.packets
    while index < size:
        if buffer[index : index + 2] != SYNC:
            result.dropped["no_sync"] += 1
            return result
        if index + HEAD + TAIL > size:
            result.dropped["truncated"] += 1
            return result
        length = buffer[index + 2]
        tail = index + HEAD + length
        if tail + TAIL > size:
            result.dropped["truncated"] += 1
            return result
        metrics = buffer[tail + 12]
        end = tail + TAIL + 2 * metrics
        if end > size:
            result.dropped["truncated"] += 1
            return result
        if sum(buffer[index : end - 1]) & 0xFF != buffer[end - 1]:
            result.dropped["checksum"] += 1
            return result
        packet = _decode(buffer, index, tail, end)
        index = end
        reason = _check(packet)
        if reason is None:
            packets.append(packet)
        else:
            result.dropped[reason] += 1
    return result


def _decode(buffer: bytes, index: int, tail: int, end: int) -> RxPacket:
    rate = buffer[index + 4]
    offset = buffer[index + 6] | (buffer[index + 7] << 8) | ((buffer[index + 8] & 0x0F) << 16)
    if offset >= 1 << 19:
        offset -= 1 << 20
    status = buffer[tail]
    snr = buffer[tail + 1]
    return RxPacket(
        if_chain=buffer[index + 3],
        modem_id=buffer[index + 5],
        payload=bytes(buffer[index + HEAD : tail]),
        crc_enabled=bool(rate & 0x01),
        coding_rate=(rate >> 1) & 0x07,
        spreading_factor=rate >> 4,
        frequency_offset=offset,
        crc_error=bool(status & 0x01),
        timing_set=bool(status & 0x10),
        snr_quarter_db=snr - 256 if snr & 0x80 else snr,
        rssi_channel=buffer[tail + 2],
        rssi_signal=buffer[tail + 3],
        timestamp_32mhz=int.from_bytes(buffer[tail + 6 : tail + 10], "little"),
        payload_crc=buffer[tail + 10] | (buffer[tail + 11] << 8),
        ts_metrics=bytes(buffer[tail + 13 : end - 1]),
    )


def _check(packet: RxPacket) -> str | None:
    """Why a checksum-valid packet still cannot be used, or None."""
    if packet.modem_id > FSK_MODEM:
        return "bad_modem"
    if not packet.is_fsk:
        if packet.if_chain > 9:
            return "bad_channel"
        if not 5 <= packet.spreading_factor <= 12:
            return "bad_spreading_factor"
        if (
            packet.crc_enabled
            and not packet.crc_error
            and packet.payload
            and payload_crc(packet.payload) != packet.payload_crc
        ):
            return "payload_crc"
    return None
