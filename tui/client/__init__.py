"""How the console reaches the appliance: its REST API and its live stream.

``ApplianceAPI`` is the interface every screen uses; ``HTTPApplianceAPI`` implements it over
httpx and websockets. The snapshot tests feed the screens from a fixed implementation of the
same interface.
"""

from tui.client.api import ApplianceAPI, StreamFilters
from tui.client.errors import (
    BadAnswerError,
    ClientError,
    NotOfferedError,
    RefusedError,
    RejectedError,
    UnreachableError,
)
from tui.client.http import HTTPApplianceAPI
from tui.client.stream_items import EventItem, FrameItem, Missed, StreamItem, parse_stream_message

__all__ = [
    "ApplianceAPI",
    "BadAnswerError",
    "ClientError",
    "EventItem",
    "FrameItem",
    "HTTPApplianceAPI",
    "Missed",
    "NotOfferedError",
    "RefusedError",
    "RejectedError",
    "StreamFilters",
    "StreamItem",
    "UnreachableError",
    "parse_stream_message",
]
