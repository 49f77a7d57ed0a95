"""What the configuration makes before anything runs: the network server's settings and MAC
policy, and the gateway backends (kept apart from ``runtime``, which builds and runs the
appliance)."""

from __future__ import annotations

from appliance.config import DEFAULT_SUB_BAND, ApplianceConfig
from appliance.lorawan.identifiers import NetID
from appliance.lorawan.regions import get_region
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.ns.mac import MACPolicy
from appliance.ns.mac.policy_config import mac_policy_from_mapping
from appliance.ns.network import NetworkSettings
from hal.backend import Backend
from hal.basic_station import BasicStationBackend, parse_options
from hal.registry import create_backend
from hal.semtech_udp import SemtechUDPBackend
from hal.virtual_radio.backend import EU868_EXTRA_FREQUENCIES


def network_settings(config: ApplianceConfig) -> NetworkSettings:
    region = get_region(config.region)
    fixed = isinstance(region.channel_plan, FixedChannelPlan)
    return NetworkSettings(
        net_id=NetID(config.net_id),
        region_name=region.name,
        extra_channels=EU868_EXTRA_FREQUENCIES if region.name == "EU868" else (),
        enabled_sub_band=DEFAULT_SUB_BAND if fixed else None,
        dedup_window_ms=config.dedup_window_ms,
        downlink_wait_ms=config.downlink_wait_ms,
        **config.network,
    )


def network_mac_policy(config: ApplianceConfig) -> MACPolicy:
    """The ``[mac]`` table (checked already when the configuration was loaded)."""
    return mac_policy_from_mapping(config.mac)


def configured_backends(config: ApplianceConfig, settings: NetworkSettings) -> list[Backend]:
    backends: list[Backend] = []
    if config.udp_bind:
        backends.append(SemtechUDPBackend({"bind": config.udp_bind}))
    if config.basic_station_bind:
        station_options = {"bind": config.basic_station_bind, "region": settings.region_name}
        backends.append(BasicStationBackend(parse_options(station_options)))
    for options in config.backends:
        settings_for_kind = {k: v for k, v in options.items() if k != "kind"}
        backends.append(create_backend(str(options["kind"]), settings_for_kind))
    return backends
