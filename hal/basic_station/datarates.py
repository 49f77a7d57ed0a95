"""A region's data-rate table as Station uses it: ``DRs`` in router_config, and DR <-> modulation.

``DRs`` has 16 entries ``[sf, bw_khz, dnonly]``: sf 0 means FSK, ``[-1, 0, 0]`` an undefined
rate (s2e.c ``handle_router_config``). Station cannot receive or send LR-FHSS, so those rates are
left undefined. Uplinks name their rate by index; downlinks are matched on (SF, bandwidth) or
the FSK bit rate against the rates the region allows downstream.
"""

from __future__ import annotations

from typing import Final

from appliance.lorawan.regions import DataRate, Region
from appliance.lorawan.regions import Modulation as RegionModulation
from hal.basic_station.errors import DownlinkEncodeError, StationMessageError
from hal.model import CodeRate, FSKModulation, LoRaModulation, Modulation

DR_COUNT: Final = 16
UNDEFINED_DR: Final = (-1, 0, 0)


def _modulation(rate: DataRate) -> LoRaModulation | FSKModulation | None:
    if rate.modulation is RegionModulation.LORA:
        assert rate.bandwidth_hz is not None and rate.spreading_factor is not None
        return LoRaModulation(rate.bandwidth_hz, rate.spreading_factor, CodeRate.CR_4_5)
    if rate.modulation is RegionModulation.FSK:
        assert rate.bitrate_bps is not None
        return FSKModulation(rate.bitrate_bps)  # Station reports no deviation
    return None


def _key(modulation: Modulation) -> tuple[int, int] | None:
    if isinstance(modulation, LoRaModulation):
        return (modulation.spreading_factor, modulation.bandwidth)
    if isinstance(modulation, FSKModulation):
        return (0, modulation.datarate)
    return None


class StationDataRates:
    """The data rates of one region in the forms the protocol and the frame model need."""

    __slots__ = ("_by_key_down", "_by_key_up", "_uplink", "drs", "region")

    def __init__(self, region: Region) -> None:
        self.region = region
        drs: list[list[int]] = [list(UNDEFINED_DR) for _ in range(DR_COUNT)]
        self._uplink: dict[int, LoRaModulation | FSKModulation] = {}
        self._by_key_down: dict[tuple[int, int], int] = {}
        self._by_key_up: dict[tuple[int, int], int] = {}
        for rate in region.data_rates:
            modulation = _modulation(rate)
            if modulation is None:
                continue
            if isinstance(modulation, LoRaModulation):
                drs[rate.index] = [
                    modulation.spreading_factor,
                    modulation.bandwidth // 1000,
                    int(rate.downlink and not rate.uplink),
                ]
            else:
                drs[rate.index] = [0, 0, int(rate.downlink and not rate.uplink)]
            key = _key(modulation)
            assert key is not None
            if rate.uplink:
                self._uplink[rate.index] = modulation
                self._by_key_up.setdefault(key, rate.index)
            if rate.downlink:
                self._by_key_down.setdefault(key, rate.index)
        self.drs: tuple[tuple[int, ...], ...] = tuple(tuple(entry) for entry in drs)

    def uplink_modulation(self, data_rate: int) -> LoRaModulation | FSKModulation:
        """The modulation of an uplink received at ``data_rate``; refuses undefined rates."""
        modulation = self._uplink.get(data_rate)
        if modulation is None:
            raise StationMessageError("bad_field:DR", f"DR{data_rate} is no uplink rate here")
        return modulation

    def uplink_data_rate(self, modulation: Modulation) -> int | None:
        key = _key(modulation)
        return None if key is None else self._by_key_up.get(key)

    def uplink_rates(self) -> dict[int, LoRaModulation | FSKModulation]:
        return dict(self._uplink)

    def downlink_data_rate(self, modulation: Modulation) -> int:
        key = _key(modulation)
        index = None if key is None else self._by_key_down.get(key)
        if index is None:
            raise DownlinkEncodeError(
                f"{modulation} is no downlink data rate of {self.region.name}"
            )
        return index
