"""Lossless conversion between the frame model and ChirpStack's ``gw`` protobuf messages.

For each of UplinkFrame, DownlinkFrame, DownlinkTxAck, GatewayStats and GatewayConfiguration:

- ``<kind>_to_proto(model)`` / ``<kind>_from_proto(message)``: model <-> ``chirpstack_api.gw``;
- ``serialize_<kind>(model) -> bytes`` / ``parse_<kind>(bytes)``: protobuf wire format;
- ``<kind>_to_json(model) -> str`` / ``<kind>_from_json(text)``: proto3-JSON, as the MQTT
  Forwarder and Gateway Bridge speak it.

Every field the model holds survives model -> proto -> model exactly (times are integer ns;
an absent time is an absent field). 32-bit float fields (SNR, location accuracy) come back as
the shortest decimal naming the same float32, as proto3-JSON prints them.

Anything that cannot convert (undecodable bytes or JSON, a bad gateway ID, a missing
modulation or timing, an unknown enum number, a value out of range either way) raises
``ProtoConversionError``, whose ``field`` is the dotted path of the culprit; nothing else.
"""

from hal.proto._codec import (
    CONFIGURATION,
    DOWNLINK,
    STATS,
    TX_ACK,
    UPLINK,
    message_from_json,
    message_to_json,
    parse_message,
)
from hal.proto._fields import ProtoConversionError, gateway_id_from_proto, gateway_id_to_proto
from hal.proto._frames import (
    downlink_from_proto,
    downlink_to_proto,
    tx_ack_from_proto,
    tx_ack_to_proto,
    uplink_from_proto,
    uplink_to_proto,
)
from hal.proto._gateway import (
    configuration_from_proto,
    configuration_to_proto,
    stats_from_proto,
    stats_to_proto,
)

parse_uplink = UPLINK.parse
serialize_uplink = UPLINK.serialize
uplink_to_json = UPLINK.to_json
uplink_from_json = UPLINK.from_json

parse_downlink = DOWNLINK.parse
serialize_downlink = DOWNLINK.serialize
downlink_to_json = DOWNLINK.to_json
downlink_from_json = DOWNLINK.from_json

parse_tx_ack = TX_ACK.parse
serialize_tx_ack = TX_ACK.serialize
tx_ack_to_json = TX_ACK.to_json
tx_ack_from_json = TX_ACK.from_json

parse_stats = STATS.parse
serialize_stats = STATS.serialize
stats_to_json = STATS.to_json
stats_from_json = STATS.from_json

parse_configuration = CONFIGURATION.parse
serialize_configuration = CONFIGURATION.serialize
configuration_to_json = CONFIGURATION.to_json
configuration_from_json = CONFIGURATION.from_json

__all__ = [
    "ProtoConversionError",
    "configuration_from_json",
    "configuration_from_proto",
    "configuration_to_json",
    "configuration_to_proto",
    "downlink_from_json",
    "downlink_from_proto",
    "downlink_to_json",
    "downlink_to_proto",
    "gateway_id_from_proto",
    "gateway_id_to_proto",
    "message_from_json",
    "message_to_json",
    "parse_configuration",
    "parse_downlink",
    "parse_message",
    "parse_stats",
    "parse_tx_ack",
    "parse_uplink",
    "serialize_configuration",
    "serialize_downlink",
    "serialize_stats",
    "serialize_tx_ack",
    "serialize_uplink",
    "stats_from_json",
    "stats_from_proto",
    "stats_to_json",
    "stats_to_proto",
    "tx_ack_from_json",
    "tx_ack_from_proto",
    "tx_ack_to_json",
    "tx_ack_to_proto",
    "uplink_from_json",
    "uplink_from_proto",
    "uplink_to_json",
    "uplink_to_proto",
]
