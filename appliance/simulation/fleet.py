"""A fleet of simulated end devices around a virtual concentrator.

Sans-IO like both sides: ``step(now_ns)`` lets every device that is due transmit into the
virtual radio, and ``hear(transmission)`` (registered as the radio's listener) hands a gateway
transmission to every device with a receive window open on its frequency and data rate at the
moment its preamble starts. The caller owns the clock (a fake one in tests, the event loop's
in ``appliance run --simulate``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from appliance.devicesim import EndDevice, TransmissionKind
from appliance.devicesim.radio import FSKParameters, LoRaParameters
from appliance.devicesim.results import DownlinkResult
from appliance.lorawan.regions import Region
from appliance.ns.radio import data_rate_of
from hal.model import CodeRate, FSKModulation, LoRaModulation
from hal.virtual_radio import AirPacket, Position, Transmission


@dataclass(slots=True)
class SimulatedDevice:
    device: EndDevice
    position: Position


def _modulation(parameters: LoRaParameters | FSKParameters) -> LoRaModulation | FSKModulation:
    if isinstance(parameters, FSKParameters):
        return FSKModulation(parameters.bitrate_bps, 25_000)
    return LoRaModulation(
        parameters.bandwidth_hz,
        parameters.spreading_factor,
        CodeRate.from_text(parameters.coding_rate),
    )


# What ``Fleet.counters`` counts, by transmission kind and downlink outcome.
_SENT = {
    TransmissionKind.DATA: "uplinks",
    TransmissionKind.JOIN_REQUEST: "join_requests",
    TransmissionKind.REJOIN_REQUEST: "rejoin_requests",
}


class Fleet:
    """``counters``: ``uplinks`` (data frames, repetitions included), ``join_requests``,
    ``rejoin_requests``; ``joins`` (join-accepts taken), ``downlinks`` (data downlinks taken),
    ``acks`` (of a confirmed uplink), ``downlinks_refused``. With ``keep_results`` (tests),
    ``results`` keeps every downlink outcome; a long-running fleet keeps only the counters."""

    def __init__(
        self, region: Region, devices: Sequence[SimulatedDevice], *, keep_results: bool = False
    ) -> None:
        self.region = region
        self.devices = list(devices)
        self.keep_results = keep_results
        self.results: list[tuple[EndDevice, DownlinkResult]] = []
        self.counters: Counter[str] = Counter()

    def step(self, now_ns: int, air: Callable[[AirPacket], None]) -> None:
        """Let every due device transmit through ``air`` (the virtual radio's ``air``)."""
        for simulated in self.devices:
            transmission = simulated.device.next_transmission(now_ns)
            if transmission is None:
                continue
            self.counters[_SENT[transmission.kind]] += 1
            air(
                AirPacket(
                    transmission.phy_payload,
                    transmission.frequency,
                    _modulation(transmission.modulation),
                    transmission.tx_power_dbm,
                    simulated.position,
                    transmission.start_ns,
                )
            )

    def hear(self, transmission: Transmission) -> None:
        data_rate = data_rate_of(self.region, transmission.modulation, uplink=False)
        for simulated in self.devices:
            device = simulated.device
            for window in device.receive_windows():
                if (
                    window.frequency == transmission.frequency
                    and window.data_rate == data_rate
                    and window.contains(transmission.start_ns)
                ):
                    result = device.on_downlink(
                        transmission.phy_payload,
                        transmission.frequency,
                        data_rate,
                        transmission.start_ns,
                    )
                    self._count(result)
                    if self.keep_results:
                        self.results.append((device, result))
                    break

    def _count(self, result: DownlinkResult) -> None:
        if not result.accepted:
            self.counters["downlinks_refused"] += 1
        elif result.joined:
            self.counters["joins"] += 1
        else:
            self.counters["downlinks"] += 1
            self.counters["acks"] += result.ack

    def next_wakeup_ns(self) -> int | None:
        wakeups = [w for s in self.devices if (w := s.device.next_wakeup_ns()) is not None]
        return min(wakeups) if wakeups else None
