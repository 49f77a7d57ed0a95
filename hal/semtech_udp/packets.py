"""Semtech UDP (GWMP) datagram layouts, both directions.

Layouts are from ``PROTOCOL.TXT`` (Lora-net/packet_forwarder) and ``packet_forwarder/PROTOCOL.md``
(Lora-net/sx1302_hal): a version byte, a two-byte token, a type byte, then (for the packets a
gateway sends) its 8-byte EUI and (for some) a JSON object. JSON stays raw bytes here; the
``rxpk``/``txpk`` modules interpret it.

The token is read and written little-endian, as the ChirpStack Gateway Bridge does. Forwarders
only echo the two bytes, so the byte order matters only for agreeing with ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from appliance.lorawan.identifiers import EUI64

# The largest UDP payload over IPv4 (65,535 - 8 UDP - 20 IP header bytes).
MAX_DATAGRAM = 65_507
SUPPORTED_VERSIONS = frozenset({1, 2})


class PacketType(IntEnum):
    PUSH_DATA = 0x00
    PUSH_ACK = 0x01
    PULL_DATA = 0x02
    PULL_RESP = 0x03
    PULL_ACK = 0x04
    TX_ACK = 0x05


class DropReason(StrEnum):
    """Why a datagram (or part of one) was dropped; the keys of ``drop_counts``."""

    OVERSIZED = "oversized"
    TRUNCATED = "truncated"
    BAD_LENGTH = "bad_length"
    BAD_VERSION = "bad_version"
    UNKNOWN_TYPE = "unknown_type"
    UNEXPECTED_TYPE = "unexpected_type"
    UNKNOWN_GATEWAY = "unknown_gateway"
    TOO_MANY_GATEWAYS = "too_many_gateways"
    BAD_JSON = "bad_json"
    BAD_RXPK = "bad_rxpk"
    BAD_BASE64 = "bad_base64"
    SIZE_MISMATCH = "size_mismatch"
    BAD_DATARATE = "bad_datarate"
    BAD_CODERATE = "bad_coderate"
    ABSURD_VALUE = "absurd_value"
    CRC_NOT_OK = "crc_not_ok"
    BAD_STAT = "bad_stat"
    UNEXPECTED_TX_ACK = "unexpected_tx_ack"
    EVENT_QUEUE_FULL = "event_queue_full"
    SEND_BUFFER_FULL = "send_buffer_full"
    INTERNAL_ERROR = "internal_error"


class PacketError(Exception):
    """The peer sent bytes that are not a valid GWMP packet; ``reason`` is the drop counter."""

    def __init__(self, reason: DropReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PushData:
    version: int
    token: int
    gateway_id: EUI64
    payload: bytes  # JSON: {"rxpk": [...], "stat": {...}}

    def encode(self) -> bytes:
        return (
            _header(self.version, self.token, PacketType.PUSH_DATA)
            + bytes(self.gateway_id)
            + (self.payload)
        )


@dataclass(frozen=True, slots=True)
class PushAck:
    version: int
    token: int

    def encode(self) -> bytes:
        return _header(self.version, self.token, PacketType.PUSH_ACK)


@dataclass(frozen=True, slots=True)
class PullData:
    version: int
    token: int
    gateway_id: EUI64

    def encode(self) -> bytes:
        return _header(self.version, self.token, PacketType.PULL_DATA) + bytes(self.gateway_id)


@dataclass(frozen=True, slots=True)
class PullAck:
    version: int
    token: int

    def encode(self) -> bytes:
        return _header(self.version, self.token, PacketType.PULL_ACK)


@dataclass(frozen=True, slots=True)
class PullResp:
    version: int
    token: int  # version 1 has no downlink acknowledgement, so its token bytes are zero
    payload: bytes  # JSON: {"txpk": {...}}

    def encode(self) -> bytes:
        token = self.token if self.version >= 2 else 0
        return _header(self.version, token, PacketType.PULL_RESP) + self.payload


@dataclass(frozen=True, slots=True)
class TxAck:
    version: int
    token: int
    gateway_id: EUI64
    payload: bytes = b""  # optional JSON {"txpk_ack": {...}}; empty means accepted

    def encode(self) -> bytes:
        return (
            _header(self.version, self.token, PacketType.TX_ACK)
            + bytes(self.gateway_id)
            + (self.payload)
        )


Packet = PushData | PushAck | PullData | PullAck | PullResp | TxAck


def _header(version: int, token: int, packet_type: PacketType) -> bytes:
    return bytes((version, token & 0xFF, (token >> 8) & 0xFF, packet_type))


def parse_header(data: bytes) -> tuple[int, int, PacketType]:
    """Version, token and type of a datagram; raises ``PacketError`` for anything else."""
    if len(data) > MAX_DATAGRAM:
        raise PacketError(DropReason.OVERSIZED, f"{len(data)} bytes exceed {MAX_DATAGRAM}")
    if len(data) < 4:
        raise PacketError(DropReason.TRUNCATED, f"{len(data)} bytes cannot hold a header")
    version = data[0]
    if version not in SUPPORTED_VERSIONS:
        raise PacketError(DropReason.BAD_VERSION, f"protocol version {version} is not 1 or 2")
    try:
        packet_type = PacketType(data[3])
    except ValueError:
        raise PacketError(DropReason.UNKNOWN_TYPE, f"unknown packet type {data[3]:#04x}") from None
    return version, data[1] | (data[2] << 8), packet_type


def _gateway_id(data: bytes, packet_type: PacketType) -> EUI64:
    if len(data) < 12:
        raise PacketError(
            DropReason.TRUNCATED, f"{packet_type.name} of {len(data)} bytes has no gateway EUI"
        )
    return EUI64(data[4:12])


def parse_packet(data: bytes) -> Packet:
    """Decode any GWMP datagram (either direction); raises only ``PacketError``."""
    version, token, packet_type = parse_header(data)
    if packet_type is PacketType.PUSH_DATA:
        return PushData(version, token, _gateway_id(data, packet_type), data[12:])
    if packet_type is PacketType.PULL_DATA:
        gateway_id = _gateway_id(data, packet_type)
        if len(data) != 12:
            raise PacketError(DropReason.BAD_LENGTH, f"PULL_DATA is 12 bytes, got {len(data)}")
        return PullData(version, token, gateway_id)
    if packet_type is PacketType.TX_ACK:
        return TxAck(version, token, _gateway_id(data, packet_type), data[12:])
    if packet_type is PacketType.PULL_RESP:
        if len(data) < 5:
            raise PacketError(DropReason.TRUNCATED, "PULL_RESP without JSON")
        return PullResp(version, token, data[4:])
    if len(data) != 4:
        raise PacketError(DropReason.BAD_LENGTH, f"{packet_type.name} is 4 bytes, got {len(data)}")
    if packet_type is PacketType.PUSH_ACK:
        return PushAck(version, token)
    return PullAck(version, token)
