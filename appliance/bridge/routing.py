"""Where an uplink goes: the local network server or the upstream one.

Only the PHYPayload's clear-text header is read (LoRaWAN 1.0.4/1.1 section 4): data frames by
DevAddr, join-requests and type 1 rejoin-requests by JoinEUI, type 0/2 rejoin-requests by NetID,
proprietary frames by a setting. Anything that is not a well-formed uplink stays LOCAL, where the
network server counts and drops it: a malformed frame is no reason to use the upstream link.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from appliance.bridge.config import BridgeConfig, HybridRules, Mode, ProprietaryRoute
from appliance.lorawan.mhdr import MType
from hal.model import UplinkFrame


class Route(StrEnum):
    LOCAL = "local"
    UPSTREAM = "upstream"


_MIC: Final = 4
_DATA_MIN: Final = 1 + 7 + _MIC  # MHDR, FHDR without FOpts, MIC
_JOIN_REQUEST: Final = 1 + 8 + 8 + 2 + _MIC
_REJOIN_0_2: Final = 1 + 1 + 3 + 8 + 2 + _MIC  # type, NetID, DevEUI, RJcount0
_REJOIN_1: Final = 1 + 1 + 8 + 8 + 2 + _MIC  # type, JoinEUI, DevEUI, RJcount1


class RoutingPolicy:
    """``decide(frame)`` for one bridge mode and its hybrid rules."""

    def __init__(self, mode: Mode, rules: HybridRules | None = None) -> None:
        self.mode = mode
        self.rules = rules or HybridRules()
        self._net_ids = frozenset(int(net_id) for net_id in self.rules.local_net_ids)

    @classmethod
    def from_config(cls, config: BridgeConfig) -> RoutingPolicy:
        return cls(config.mode, config.hybrid)

    def decide(self, frame: UplinkFrame) -> Route:
        if self.mode is Mode.FORWARDER:
            return Route.UPSTREAM
        if self.mode is Mode.OFF:
            return Route.LOCAL
        return self.decide_payload(frame.phy_payload)

    def decide_payload(self, phy: bytes) -> Route:
        """The hybrid decision for one PHYPayload."""
        if not phy or phy[0] & 0x03:  # LoRaWAN R1 is the only major version
            return Route.LOCAL
        mtype = phy[0] >> 5
        if mtype in (MType.UNCONFIRMED_DATA_UP, MType.CONFIRMED_DATA_UP):
            if len(phy) < _DATA_MIN:
                return Route.LOCAL
            return self._local_if(self._dev_addr_is_local(int.from_bytes(phy[1:5], "little")))
        if mtype == MType.JOIN_REQUEST:
            if len(phy) != _JOIN_REQUEST:
                return Route.LOCAL
            return self._local_if(self._join_eui_is_local(int.from_bytes(phy[1:9], "little")))
        if mtype == MType.REJOIN_REQUEST:
            return self._rejoin(phy)
        if mtype == MType.PROPRIETARY:
            local = self.rules.proprietary is ProprietaryRoute.LOCAL
            return Route.LOCAL if local else Route.UPSTREAM
        return Route.LOCAL  # a downlink type received as an uplink is garbage

    def _rejoin(self, phy: bytes) -> Route:
        if len(phy) < 2:
            return Route.LOCAL
        rejoin_type = phy[1]
        if rejoin_type in (0, 2) and len(phy) == _REJOIN_0_2:
            return self._local_if(int.from_bytes(phy[2:5], "little") in self._net_ids)
        if rejoin_type == 1 and len(phy) == _REJOIN_1:
            return self._local_if(self._join_eui_is_local(int.from_bytes(phy[2:10], "little")))
        return Route.LOCAL

    def _dev_addr_is_local(self, dev_addr: int) -> bool:
        return any(prefix.matches(dev_addr) for prefix in self.rules.local_dev_addr_prefixes)

    def _join_eui_is_local(self, join_eui: int) -> bool:
        return any(eui_range.contains(join_eui) for eui_range in self.rules.local_join_euis)

    @staticmethod
    def _local_if(local: bool) -> Route:
        return Route.LOCAL if local else Route.UPSTREAM
