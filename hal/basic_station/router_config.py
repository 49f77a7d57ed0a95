"""``router_config``: the answer to a ``version`` message (s2e.c ``handle_router_config``).

Station needs ``hwspec`` and an ``sx1301_conf`` list or it refuses the whole message; it reads
``upchannels`` data rates in 0..7 and lays out the radios itself when they are given. Region
names: Station 2.0.6 knows EU868, US915, AU915, AS923-1, KR920 and IL915 (and the old EU863,
US902, AS923JP); any other name is "ignored" and leaves Station without a region, and then it
drops every downlink ("Received 'dnmsg' before 'router_config'"). AS923-2/-3/-4 differ from
AS923-1 only by a frequency shift, which reaches Station through ``freq_range`` and the
channels, so they are sent as AS923-1 (listen-before-talk and 10 % duty cycle, as AS923 needs).

``NetID``: Station keeps 128 bits and tests the top 7 bits of each DevAddr against them. The top
7 bits of every DevAddr of a NetID are its type prefix followed by the start of its NwkID, so
that value is what is sent for each NetID; for type 0 it equals the NetID itself. ``JoinEui``
ranges are inclusive pairs of 64-bit integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.identifiers import EUI64, DevAddr, NetID
from appliance.lorawan.regions import Region
from hal.basic_station.channels import UpChannel
from hal.basic_station.datarates import StationDataRates
from hal.basic_station.sx1301 import sx1301_conf
from hal.basic_station.timing import NS_PER_S

HWSPEC: Final = "sx1301/1"
STATION_REGIONS: Final = frozenset({"EU868", "US915", "AU915", "AS923-1", "KR920", "IL915"})
_STATION_NAME: Final = {"AS923-2": "AS923-1", "AS923-3": "AS923-1", "AS923-4": "AS923-1"}


def station_region_name(region: Region) -> str:
    """The ``region`` value sent to Station for one of our regions."""
    return _STATION_NAME.get(region.name, region.name)


def station_knows_region(region: Region) -> bool:
    """Whether Station 2.0.6 configures itself for this region (and so sends downlinks)."""
    return station_region_name(region) in STATION_REGIONS


def net_id_filter_value(net_id: NetID) -> int:
    """The 7-bit value Station compares with ``DevAddr >> 25`` for devices of ``net_id``."""
    return int(DevAddr.from_net_id(net_id, 0)) >> 25


@dataclass(frozen=True, slots=True)
class RouterSettings:
    """What the operator sets beyond the region and its channels (see docs/basic-station.md).

    ``None`` filters mean "forward everything"; ``max_eirp_dbm`` None leaves Station's own
    per-region default; the ``no*`` switches only take effect in Station's debug builds.
    """

    net_ids: tuple[NetID, ...] | None = None
    join_eui_ranges: tuple[tuple[EUI64, EUI64], ...] | None = None
    max_eirp_dbm: float | None = None
    nocca: bool = False
    nodc: bool = False
    nodwell: bool = False


def build_router_config(
    rates: StationDataRates,
    channels: Sequence[UpChannel],
    settings: RouterSettings,
    now_unix_ns: int,
) -> dict[str, Any]:
    """The router_config message for a station of ``rates.region`` listening on ``channels``."""
    region = rates.region
    message: dict[str, Any] = {
        "msgtype": "router_config",
        "region": station_region_name(region),
        "hwspec": HWSPEC,
        "freq_range": [region.min_frequency_hz, region.max_frequency_hz],
        "DRs": [list(entry) for entry in rates.drs],
        "upchannels": [channel.to_json() for channel in channels],
        "sx1301_conf": [sx1301_conf(channels, rates)],
        "NetID": None,
        "JoinEui": None,
        "MuxTime": now_unix_ns / NS_PER_S,
    }
    if settings.net_ids is not None:
        message["NetID"] = sorted({net_id_filter_value(n) for n in settings.net_ids})
    if settings.join_eui_ranges is not None:
        message["JoinEui"] = [[int(low), int(high)] for low, high in settings.join_eui_ranges]
    if settings.max_eirp_dbm is not None:
        message["max_eirp"] = settings.max_eirp_dbm
    # Production builds of Station warn about these fields even when false: send only what is on.
    for flag in ("nocca", "nodc", "nodwell"):
        if getattr(settings, flag):
            message[flag] = True
    return message
