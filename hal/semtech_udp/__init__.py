"""Semtech UDP packet forwarder protocol (GWMP, versions 1 and 2) as a backend.

``SemtechUDPCore`` is the sans-IO protocol (datagrams and ``now`` in, datagrams and events
out); ``SemtechUDPBackend`` runs it on an asyncio UDP socket. Importing this package registers
the backend kind ``semtech-udp``. See ``docs/semtech-udp.md``.
"""

from collections.abc import Mapping
from typing import Any

from hal.backend import Backend, register_backend
from hal.semtech_udp.backend import BACKEND_NAME, SemtechUDPBackend
from hal.semtech_udp.core import Address, CoreConfig, CoreEvent, DownlinkResult, SemtechUDPCore
from hal.semtech_udp.options import SemtechUDPOptions
from hal.semtech_udp.packets import (
    MAX_DATAGRAM,
    DropReason,
    Packet,
    PacketError,
    PacketType,
    PullAck,
    PullData,
    PullResp,
    PushAck,
    PushData,
    TxAck,
    parse_packet,
)
from hal.semtech_udp.rxpk import stats_from_stat, uplinks_from_rxpk
from hal.semtech_udp.txpk import DownlinkEncodeError, tx_ack_status, txpk_json


def _factory(options: Mapping[str, Any]) -> Backend:
    return SemtechUDPBackend(options)


register_backend(BACKEND_NAME, _factory)

__all__ = [
    "MAX_DATAGRAM",
    "Address",
    "CoreConfig",
    "CoreEvent",
    "DownlinkEncodeError",
    "DownlinkResult",
    "DropReason",
    "Packet",
    "PacketError",
    "PacketType",
    "PullAck",
    "PullData",
    "PullResp",
    "PushAck",
    "PushData",
    "SemtechUDPBackend",
    "SemtechUDPCore",
    "SemtechUDPOptions",
    "TxAck",
    "parse_packet",
    "stats_from_stat",
    "tx_ack_status",
    "txpk_json",
    "uplinks_from_rxpk",
]
