"""ChirpStack v4 application events, the event and frame logs, and the live stream.

| module | what it holds |
|---|---|
| `device_info` | `DeviceInfo` (``deviceInfo``), `DeviceClass`, the default tenant, `DeviceBlock` |
| `build` | pure builders of the seven ``integration`` events; `LogLevel`, `LogCode` |
| `from_ns` | `application_events`: network-server event + `EventContext` -> records |
| `frames` | `uplink_frame_log`, `downlink_frame_log` (``stream`` frame logs) |
| `json_mapping` | the JSON exactly as ChirpStack prints it; binary and strict parsing |
| `uplink_records` | the same `up` records and uplink frame logs, made cheaply (every uplink) |
| `json_printers` | the JSON of a reception written out, as `json_mapping` prints it |
| `records` | `EventRecord`, `FrameRecord`: a message plus the keys it is found by |
| `event_log` | `EventLog`: SQLite log with batched writes, retention and queries |
| `log_options`, `log_schema`, `log_rows` | its options, its file and tables, its rows |
| `broker` | `EventBroker`: the in-process live stream with bounded per-subscriber queues |
"""

from appliance.app.events.broker import EventBroker, Missed, StreamFilter, StreamItem, Subscription
from appliance.app.events.build import (
    LogCode,
    LogLevel,
    ack_event,
    join_event,
    location_event,
    log_event,
    status_event,
    tx_ack_event,
    uplink_event,
)
from appliance.app.events.device_info import (
    DEFAULT_TENANT_ID,
    DEFAULT_TENANT_NAME,
    DeviceClass,
    DeviceInfo,
)
from appliance.app.events.errors import (
    EventBuildError,
    EventError,
    EventLogError,
    SubscriberLimitError,
)
from appliance.app.events.event_log import EventLog, EventLogStats
from appliance.app.events.frames import downlink_frame_log, uplink_frame_log
from appliance.app.events.from_ns import EventContext, application_events
from appliance.app.events.json_mapping import (
    message_from_bytes,
    message_from_json,
    message_to_bytes,
    message_to_dict,
    message_to_json,
)
from appliance.app.events.kinds import EVENT_MESSAGES, FRAME_MESSAGES, EventKind, FrameKind
from appliance.app.events.log_options import EventLogOptions
from appliance.app.events.log_rows import Page
from appliance.app.events.records import EventRecord, FrameRecord

__all__ = [
    "DEFAULT_TENANT_ID",
    "DEFAULT_TENANT_NAME",
    "EVENT_MESSAGES",
    "FRAME_MESSAGES",
    "DeviceClass",
    "DeviceInfo",
    "EventBroker",
    "EventBuildError",
    "EventContext",
    "EventError",
    "EventKind",
    "EventLog",
    "EventLogError",
    "EventLogOptions",
    "EventLogStats",
    "EventRecord",
    "FrameKind",
    "FrameRecord",
    "LogCode",
    "LogLevel",
    "Missed",
    "Page",
    "StreamFilter",
    "StreamItem",
    "SubscriberLimitError",
    "Subscription",
    "ack_event",
    "application_events",
    "downlink_frame_log",
    "join_event",
    "location_event",
    "log_event",
    "message_from_bytes",
    "message_from_json",
    "message_to_bytes",
    "message_to_dict",
    "message_to_json",
    "status_event",
    "tx_ack_event",
    "uplink_event",
    "uplink_frame_log",
]
