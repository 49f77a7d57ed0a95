"""LoRaWAN Regional Parameters RP002-1.0.4 as data: one ``Region`` per channel plan.

``get_region`` takes a name in any case, with ``-`` or ``_`` (``"eu868"``, ``"as923_2"``), the
RP002 common name (``"EU863-870"``), or ``"AS923"`` for AS923-1. CN470-510 has four plans
(20 or 26 MHz antenna, type A or B) and no default among them, so ``"CN470"`` alone is not a
name: use ``CN470-20A``, ``CN470-20B``, ``CN470-26A`` or ``CN470-26B``.
"""

from __future__ import annotations

from typing import Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions.as923 import AS923_1, AS923_2, AS923_3, AS923_4
from appliance.lorawan.regions.au915 import AU915
from appliance.lorawan.regions.cn470 import CN470_20A, CN470_20B, CN470_26A, CN470_26B
from appliance.lorawan.regions.cn779 import CN779
from appliance.lorawan.regions.common import (
    CFListType,
    Channel,
    ClassBChannel,
    DataRate,
    DutyCycleBand,
    MaxPayload,
    Modulation,
)
from appliance.lorawan.regions.eu433 import EU433
from appliance.lorawan.regions.eu868 import EU868
from appliance.lorawan.regions.fixed import SubBand
from appliance.lorawan.regions.in865 import IN865
from appliance.lorawan.regions.kr920 import KR920
from appliance.lorawan.regions.region import Region
from appliance.lorawan.regions.ru864 import RU864
from appliance.lorawan.regions.us915 import US915

__all__ = [
    "REGIONS",
    "REGION_NAMES",
    "CFListType",
    "Channel",
    "ClassBChannel",
    "DataRate",
    "DutyCycleBand",
    "MaxPayload",
    "Modulation",
    "Region",
    "SubBand",
    "get_region",
]

REGIONS: Final[tuple[Region, ...]] = (
    EU868,
    US915,
    AU915,
    CN470_20A,
    CN470_20B,
    CN470_26A,
    CN470_26B,
    AS923_1,
    AS923_2,
    AS923_3,
    AS923_4,
    KR920,
    IN865,
    RU864,
    EU433,
    CN779,
)
REGION_NAMES: Final[tuple[str, ...]] = tuple(region.name for region in REGIONS)


def _key(name: str) -> str:
    return name.strip().upper().replace("_", "-")


_BY_KEY: Final[dict[str, Region]] = {region.name: region for region in REGIONS} | {
    _key(region.common_name): region for region in REGIONS if " " not in region.common_name
}
_BY_KEY["AS923"] = AS923_1


_BY_NAME: Final[dict[str, Region]] = {region.name: region for region in REGIONS}


def get_region(name: str) -> Region:
    """The region called ``name`` (see the module docstring for the accepted spellings)."""
    if type(name) is str:
        region = _BY_NAME.get(name)  # the canonical name, asked on every uplink
        if region is not None:
            return region
    if not isinstance(name, str):
        raise InvalidValueError(f"a region name is a string, got {name!r}")
    region = _BY_KEY.get(_key(name))
    if region is None:
        raise InvalidValueError(f"unknown region {name!r} (known: {', '.join(REGION_NAMES)})")
    return region
