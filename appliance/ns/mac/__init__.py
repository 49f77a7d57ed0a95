"""The network server's MAC-command engine: pure logic on a ``DeviceSession``.

Uplink side::

    result = handle_uplink_mac_commands(session, parsed.commands, ctx)
    # result.answers, result.events, result.downlink_needed; the session changed in place

Downlink side::

    requests = pending_requests(session, ctx, events=events)
    selection = select_mac_commands(result.answers, requests, F_OPTS_BUDGET)
    ... build the frame with selection.encode() ...
    record_sent(session, selection.chosen, f_cnt_down=frame_f_cnt, now_ns=now_ns)

One module per command family (as ChirpStack's ``maccommand/``); ``docs/mac-handling.md``
lists what is answered and originated, and when.
"""

from __future__ import annotations

from appliance.ns.mac.adr_param_setup import adr_param_setup_request
from appliance.ns.mac.beacon import beacon_freq_request
from appliance.ns.mac.context import (
    ADRAckParams,
    ForceRejoin,
    MACContext,
    MACPolicy,
    PingSlotChannel,
    RejoinParams,
    TxParams,
    UplinkMeta,
)
from appliance.ns.mac.dispatch import handle_uplink_mac_commands
from appliance.ns.mac.dl_channel import dl_channel_request
from appliance.ns.mac.duty_cycle import duty_cycle_request
from appliance.ns.mac.events import (
    DeviceClassChanged,
    DeviceStatus,
    LogLevel,
    MACEvent,
    MACLog,
    MACLogCode,
    RequestAcknowledged,
)
from appliance.ns.mac.origination import pending_requests
from appliance.ns.mac.pending import queue_request, record_sent
from appliance.ns.mac.rejoin import force_rejoin_request, rejoin_request_received
from appliance.ns.mac.sizing import (
    F_OPTS_BUDGET,
    MACSelection,
    frm_payload_budget,
    select_mac_commands,
)
from appliance.ns.mac.state import QUEUED, MACResult

__all__ = [
    "F_OPTS_BUDGET",
    "QUEUED",
    "ADRAckParams",
    "DeviceClassChanged",
    "DeviceStatus",
    "ForceRejoin",
    "LogLevel",
    "MACContext",
    "MACEvent",
    "MACLog",
    "MACLogCode",
    "MACPolicy",
    "MACResult",
    "MACSelection",
    "PingSlotChannel",
    "RejoinParams",
    "RequestAcknowledged",
    "TxParams",
    "UplinkMeta",
    "adr_param_setup_request",
    "beacon_freq_request",
    "dl_channel_request",
    "duty_cycle_request",
    "force_rejoin_request",
    "frm_payload_budget",
    "handle_uplink_mac_commands",
    "pending_requests",
    "queue_request",
    "record_sent",
    "rejoin_request_received",
    "select_mac_commands",
]
