"""GatewayStats and GatewayConfiguration <-> ``gw`` messages.

``duty_cycle_stats`` and a channel's ``board``/``demodulator`` have no place in the model yet and
are not carried; everything the model holds survives both ways.
"""

from __future__ import annotations

from typing import Any

from chirpstack_api import gw

from hal.model import FSKChannel, GatewayConfiguration, GatewayStats, LoRaChannel, Modulation
from hal.proto._fields import (
    ProtoConversionError,
    counter_map_to_proto,
    duration_from_proto,
    gateway_id_from_proto,
    gateway_id_to_proto,
    int_counter_map_from_proto,
    location_from_proto,
    location_to_proto,
    modulation_from_proto,
    modulation_to_proto,
    set_duration,
    set_timestamp,
    text_counter_map_from_proto,
    text_map_from_proto,
    text_map_to_proto,
    timestamp_from_proto,
    unsigned32,
)

_NS_PER_S = 1_000_000_000
_COUNTERS = (
    "rx_packets_received",
    "rx_packets_received_ok",
    "tx_packets_received",
    "tx_packets_emitted",
)


def stats_to_proto(stats: GatewayStats) -> Any:
    """The ``gw.GatewayStats`` for ``stats``."""
    message = gw.GatewayStats()
    message.gateway_id = gateway_id_to_proto(stats.gateway_id)
    if stats.time_ns is not None:
        set_timestamp(message.time, stats.time_ns, "time")
    if stats.location is not None:
        location_to_proto(stats.location, message.location, "location")
    message.config_version = stats.config_version
    for name in _COUNTERS:
        setattr(message, name, unsigned32(getattr(stats, name), name))
    text_map_to_proto(stats.metadata, message.metadata, "metadata")
    for name in ("tx_packets_per_frequency", "rx_packets_per_frequency"):
        counter_map_to_proto(getattr(stats, name), getattr(message, name), name)
    counter_map_to_proto(
        stats.tx_packets_per_status, message.tx_packets_per_status, "tx_packets_per_status"
    )
    for name in ("tx_packets_per_modulation", "rx_packets_per_modulation"):
        counts: tuple[tuple[Modulation, int], ...] = getattr(stats, name)
        target = getattr(message, name)
        for index, (modulation, count) in enumerate(counts):
            entry = target.add()
            modulation_to_proto(modulation, entry.modulation, f"{name}[{index}].modulation")
            entry.count = unsigned32(count, f"{name}[{index}].count")
    return message


def stats_from_proto(message: Any) -> GatewayStats:
    """The model of a ``gw.GatewayStats``; raises ``ProtoConversionError`` naming the field."""
    return GatewayStats(
        gateway_id=gateway_id_from_proto(message.gateway_id),
        time_ns=timestamp_from_proto(message, "time", "time"),
        location=location_from_proto(message, "location", "location"),
        config_version=str(message.config_version),
        rx_packets_received=int(message.rx_packets_received),
        rx_packets_received_ok=int(message.rx_packets_received_ok),
        tx_packets_received=int(message.tx_packets_received),
        tx_packets_emitted=int(message.tx_packets_emitted),
        metadata=text_map_from_proto(message.metadata),
        tx_packets_per_frequency=int_counter_map_from_proto(message.tx_packets_per_frequency),
        rx_packets_per_frequency=int_counter_map_from_proto(message.rx_packets_per_frequency),
        tx_packets_per_modulation=_per_modulation(message, "tx_packets_per_modulation"),
        rx_packets_per_modulation=_per_modulation(message, "rx_packets_per_modulation"),
        tx_packets_per_status=text_counter_map_from_proto(message.tx_packets_per_status),
    )


def _per_modulation(message: Any, name: str) -> tuple[tuple[Modulation, int], ...]:
    return tuple(
        (
            modulation_from_proto(entry, "modulation", f"{name}[{index}].modulation"),
            int(entry.count),
        )
        for index, entry in enumerate(getattr(message, name))
    )


def configuration_to_proto(configuration: GatewayConfiguration) -> Any:
    """The ``gw.GatewayConfiguration`` for ``configuration``."""
    message = gw.GatewayConfiguration()
    message.gateway_id = gateway_id_to_proto(configuration.gateway_id)
    message.version = configuration.version
    for index, channel in enumerate(configuration.channels):
        field = f"channels[{index}]"
        target = message.channels.add()
        target.frequency = unsigned32(channel.frequency, f"{field}.frequency")
        if isinstance(channel, LoRaChannel):
            lora = target.lora_modulation_config
            lora.bandwidth = unsigned32(channel.bandwidth, f"{field}.bandwidth")
            lora.spreading_factors.extend(
                unsigned32(sf, f"{field}.spreading_factors") for sf in channel.spreading_factors
            )
            lora.SetInParent()
        else:
            fsk = target.fsk_modulation_config
            fsk.bandwidth = unsigned32(channel.bandwidth, f"{field}.bandwidth")
            fsk.bitrate = unsigned32(channel.datarate, f"{field}.datarate")
            fsk.SetInParent()
    set_duration(
        message.stats_interval, configuration.stats_interval_s * _NS_PER_S, "stats_interval"
    )
    return message


def configuration_from_proto(message: Any) -> GatewayConfiguration:
    """The model of a ``gw.GatewayConfiguration``; a missing ``stats_interval`` means the
    model's default. Raises ``ProtoConversionError`` naming the field."""
    gateway_id = gateway_id_from_proto(message.gateway_id)
    channels = tuple(
        _channel_from_proto(channel, f"channels[{index}]")
        for index, channel in enumerate(message.channels)
    )
    interval_ns = duration_from_proto(message, "stats_interval", "stats_interval")
    if interval_ns is None:
        return GatewayConfiguration(gateway_id, str(message.version), channels)
    seconds, remainder = divmod(interval_ns, _NS_PER_S)
    if remainder:
        raise ProtoConversionError("stats_interval", f"must be whole seconds, got {interval_ns} ns")
    return GatewayConfiguration(gateway_id, str(message.version), channels, seconds)


def _channel_from_proto(channel: Any, field: str) -> LoRaChannel | FSKChannel:
    kind = channel.WhichOneof("modulation_config")
    if kind == "lora_modulation_config":
        lora = channel.lora_modulation_config
        return LoRaChannel(
            frequency=int(channel.frequency),
            bandwidth=int(lora.bandwidth),
            spreading_factors=tuple(int(sf) for sf in lora.spreading_factors),
        )
    if kind == "fsk_modulation_config":
        fsk = channel.fsk_modulation_config
        return FSKChannel(
            frequency=int(channel.frequency),
            bandwidth=int(fsk.bandwidth),
            datarate=int(fsk.bitrate),
        )
    raise ProtoConversionError(field, "neither lora_modulation_config nor fsk_modulation_config")
