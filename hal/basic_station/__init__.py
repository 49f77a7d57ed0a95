"""LoRa Basics Station LNS backend: stations connect over WebSocket (``basic-station``).

The protocol core is sans-IO (``session``, ``uplink``, ``downlink``, ``router_config``,
``discovery``, ``eui``, ``timing``); ``BasicStationBackend`` is the asyncio adapter. Importing
this package registers the ``basic-station`` backend kind. See docs/basic-station.md.
"""

from collections.abc import Mapping
from typing import Any

from hal.backend import Backend, register_backend
from hal.basic_station.backend import BasicStationBackend
from hal.basic_station.channels import UpChannel, region_channels
from hal.basic_station.datarates import StationDataRates
from hal.basic_station.downlink import (
    PLACEHOLDER_DEV_EUI,
    DownlinkPlan,
    acknowledge,
    build_dnmsg,
    build_dnsched,
)
from hal.basic_station.errors import BasicStationError, DownlinkEncodeError, StationMessageError
from hal.basic_station.eui import format_id6, parse_eui
from hal.basic_station.options import BasicStationOptions, parse_options
from hal.basic_station.router_config import RouterSettings, build_router_config
from hal.basic_station.session import (
    Reply,
    SessionConfig,
    SessionOutput,
    StationInfo,
    StationSession,
)
from hal.basic_station.uplink import (
    UplinkContext,
    message_from_phy_payload,
    phy_payload_from_message,
    uplink_frame_from_message,
)


def create(options: Mapping[str, Any]) -> Backend:
    """The registry's factory: a backend from ``[[backends]]`` options."""
    return BasicStationBackend(parse_options(options))


register_backend("basic-station", create)

__all__ = [
    "PLACEHOLDER_DEV_EUI",
    "BasicStationBackend",
    "BasicStationError",
    "BasicStationOptions",
    "DownlinkEncodeError",
    "DownlinkPlan",
    "Reply",
    "RouterSettings",
    "SessionConfig",
    "SessionOutput",
    "StationDataRates",
    "StationInfo",
    "StationMessageError",
    "StationSession",
    "UpChannel",
    "UplinkContext",
    "acknowledge",
    "build_dnmsg",
    "build_dnsched",
    "build_router_config",
    "create",
    "format_id6",
    "message_from_phy_payload",
    "parse_eui",
    "parse_options",
    "phy_payload_from_message",
    "region_channels",
    "uplink_frame_from_message",
]
