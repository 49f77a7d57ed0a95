"""What the network server reports to the application server (integrations format them).

Uplink and ACK events come from the data flow (``appliance.ns.uplink.data_flow``); these are
the others. ChirpStack's event types: up, join, ack, txack, log, status.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from appliance.lorawan.identifiers import EUI64, DevAddr
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.mac import MACEvent
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from hal.model import DownlinkTxInfo, TxAckStatus


@dataclass(frozen=True, slots=True)
class JoinEvent:
    dev_eui: EUI64
    dev_addr: DevAddr
    uplink: DeduplicatedUplink


@dataclass(frozen=True, slots=True)
class TxAckEvent:
    dev_eui: EUI64
    downlink_id: int
    f_cnt_down: int
    gateway_id: EUI64
    status: TxAckStatus  # OK for the item that went out, else the last item's refusal
    queue_item_id: uuid.UUID | None = None  # the application payload it carried, if any
    tx_info: DownlinkTxInfo | None = None  # of the item the gateway sent


@dataclass(frozen=True, slots=True)
class DeviceMACEvent:
    """A MAC-engine event (device status, class change, MAC log) of one device."""

    dev_eui: EUI64
    event: MACEvent


@dataclass(frozen=True, slots=True)
class LogEvent:
    """Something about a known device an operator should see (a refused frame, a failure)."""

    dev_eui: EUI64
    level: str  # info, warning, error
    code: str
    message: str


NSEvent = UplinkEvent | JoinEvent | AckEvent | TxAckEvent | DeviceMACEvent | LogEvent


class Metrics:
    """Counters the /metrics endpoint exports; names are the Prometheus label values.

    ``dropped``: uplinks dropped, by reason (the de-duplication's ``crc_not_ok`` and
    ``dedup_full``, then the pipeline's: ``invalid_frame``, ``unsupported_message_type``,
    ``invalid_radio_parameters``, the ``validation.Rejection``, ``join.JoinRejection`` and
    ``rejoin.RejoinRejection`` values, ``device_disabled_or_missing``, ``unknown_dev_eui``,
    ``device_profile_missing``, ``internal_error``); docs/network-server.md lists them.
    ``downlinks``: gateway answers by ``TxAckStatus`` name, and ``window_missed``.
    """

    def __init__(self) -> None:
        self.uplinks = 0
        self.joins = 0
        self.rejoins = 0
        self.ack_timeouts = 0  # confirmed downlinks reported unacknowledged by their timeout
        self.dropped: Counter[str] = Counter()
        self.downlinks: Counter[str] = Counter()
