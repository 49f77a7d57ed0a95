"""Upstream bridging: the appliance as a gateway of a central network server (MQTT forwarder and
Semtech UDP), hybrid routing and store and forward while the link is down. See ``docs/bridge.md``.

The runtime builds one ``UpstreamBridge`` per configured upstream, asks ``RoutingPolicy.decide``
where each uplink goes, and offers the upstream ones (and the gateways' statistics) to the bridge.
"""

from appliance.bridge.bridge import UpstreamBridge
from appliance.bridge.config import (
    BridgeConfig,
    BridgeConfigError,
    Encoding,
    HybridRules,
    Mode,
    MQTTSettings,
    ProprietaryRoute,
    SemtechUDPSettings,
    StoreLimits,
    Transport,
    parse_bridge_config,
)
from appliance.bridge.counters import BridgeCounters, BridgeLogEvent
from appliance.bridge.link import LinkError
from appliance.bridge.outbox import DELAYED_KEY, DELAYED_MS_KEY
from appliance.bridge.routing import Route, RoutingPolicy
from appliance.bridge.spool import SpoolError

__all__ = [
    "DELAYED_KEY",
    "DELAYED_MS_KEY",
    "BridgeConfig",
    "BridgeConfigError",
    "BridgeCounters",
    "BridgeLogEvent",
    "Encoding",
    "HybridRules",
    "LinkError",
    "MQTTSettings",
    "Mode",
    "ProprietaryRoute",
    "Route",
    "RoutingPolicy",
    "SemtechUDPSettings",
    "SpoolError",
    "StoreLimits",
    "Transport",
    "UpstreamBridge",
    "parse_bridge_config",
]
