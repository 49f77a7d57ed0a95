"""A simulated concentrator: the reception and transmission rules of a real one, no hardware.

Sans-IO: every call takes ``now_ns`` from the caller's clock (monotonic nanoseconds), so a test
drives hours of traffic in milliseconds. What it models:

- reception only on the configured channels (frequency, bandwidth, spreading factors);
- a fixed number of demodulators (16 on an SX1302, 8 on an SX1301), claimed at preamble;
- RSSI/SNR from distance (``PathLossModel``) and the demodulation floor per spreading factor;
- collisions between packets on the same frequency and spreading factor that overlap in time:
  a packet survives only if it is ``capture_threshold_db`` stronger than every such packet
  (different spreading factors are treated as orthogonal);
- half duplex: nothing is received while the gateway transmits;
- transmissions through the just-in-time queue (TOO_LATE, TOO_EARLY, COLLISION_PACKET,
  QUEUE_FULL), TX frequency range and power limits, GPS-timed transmissions when GPS is on.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Final

from appliance.lorawan.identifiers import EUI64
from hal.jit_queue import COUNTER_MODULO, JitQueue, JitTiming, counter_delta
from hal.model import (
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    FSKChannel,
    FSKModulation,
    GatewayStats,
    GPSEpoch,
    Location,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.virtual_radio.air import AirPacket, RadioModulation, Transmission, time_on_air_ns
from hal.virtual_radio.propagation import PathLossModel, Position, demodulable

# GPS time started 1980-01-06; it has no leap seconds, UTC has had 18 more since then.
GPS_EPOCH_UNIX_NS: Final = 315_964_800 * 10**9
GPS_LEAP_SECONDS: Final = 18
_HISTORY_NS: Final = 10 * 10**9  # how long ended packets are kept for collision checks

CHIP_DEMODULATORS: Final = {"sx1302": 16, "sx1303": 16, "sx1301": 8, "sx1308": 8}
CHIP_JIT_DELAY_US: Final = {"sx1302": 40_000, "sx1303": 40_000, "sx1301": 30_000, "sx1308": 30_000}


@dataclass(frozen=True, slots=True)
class VirtualConcentratorConfig:
    gateway_id: EUI64
    channels: tuple[LoRaChannel | FSKChannel, ...]
    chip: str = "sx1302"
    position: Position = field(default_factory=Position)
    location: Location | None = None
    path_loss: PathLossModel = field(default_factory=PathLossModel)
    capture_threshold_db: float = 6.0
    tx_frequency_range: tuple[int, int] = (863_000_000, 870_000_000)
    max_tx_power_dbm: int = 27
    gps: bool = True
    unix_ns_at_zero: int = 0  # Unix time when the caller's monotonic clock read 0

    def __post_init__(self) -> None:
        if self.chip not in CHIP_DEMODULATORS:
            raise ValueError(f"unknown chip {self.chip!r} (known: {', '.join(CHIP_DEMODULATORS)})")


@dataclass(slots=True)
class _Reception:
    packet: AirPacket
    end_ns: int
    rssi: float
    snr: float
    channel: int
    lost: str | None = None  # why it will not be delivered, decided as early as possible
    reported: bool = False  # poll() has reported it; kept a while for collision checks


@dataclass(frozen=True, slots=True)
class PollResult:
    uplinks: tuple[UplinkFrame, ...]
    transmissions: tuple[Transmission, ...]
    lost: tuple[tuple[AirPacket, str], ...]


def _demodulates(channel: LoRaChannel | FSKChannel, modulation: RadioModulation) -> bool:
    if isinstance(channel, LoRaChannel):
        return (
            isinstance(modulation, LoRaModulation)
            and channel.bandwidth == modulation.bandwidth
            and modulation.spreading_factor in channel.spreading_factors
        )
    return isinstance(modulation, FSKModulation) and channel.datarate == modulation.datarate


class VirtualConcentrator:
    def __init__(
        self, config: VirtualConcentratorConfig, *, boot_ns: int, rng: random.Random | None = None
    ) -> None:
        self.config = config
        self._boot_ns = boot_ns
        self._rng = rng or random.Random(0)
        self._receptions: list[_Reception] = []
        self._transmitting: list[Transmission] = []
        timing = JitTiming(jit_delay_us=CHIP_JIT_DELAY_US[config.chip])
        self._jit: JitQueue[tuple[DownlinkItem, int]] = JitQueue(timing)
        self._uplink_id = 0
        self.counters: Counter[str] = Counter()
        self._rx_per_frequency: Counter[int] = Counter()
        self._tx_per_frequency: Counter[int] = Counter()

    def reconfigure(self, channels: tuple[LoRaChannel | FSKChannel, ...]) -> None:
        """Listen on a new channel plan from now on (packets already on the air keep theirs)."""
        self.config = replace(self.config, channels=channels)

    # --- clocks ------------------------------------------------------------------------------

    def counter_us(self, now_ns: int) -> int:
        """The concentrator's free-running 32-bit µs counter (``tmst``)."""
        return ((now_ns - self._boot_ns) // 1000) % COUNTER_MODULO

    def gps_time_ns(self, now_ns: int) -> int:
        unix = self.config.unix_ns_at_zero + now_ns
        return unix - GPS_EPOCH_UNIX_NS + GPS_LEAP_SECONDS * 10**9

    # --- uplinks -----------------------------------------------------------------------------

    def _channel_index(self, packet: AirPacket) -> int | None:
        for index, channel in enumerate(self.config.channels):
            if channel.frequency == packet.frequency and _demodulates(channel, packet.modulation):
                return index
        return None

    def air(self, packet: AirPacket) -> None:
        """A device starts transmitting ``packet``; its fate is reported by ``poll``."""
        self.counters["rx_on_air"] += 1
        modulation = packet.modulation
        bandwidth = modulation.bandwidth if isinstance(modulation, LoRaModulation) else 125_000
        distance = packet.position.distance_to(self.config.position)
        rssi, snr = self.config.path_loss.link(
            packet.tx_power_dbm, distance, packet.frequency, bandwidth, self._rng.gauss(0, 1)
        )
        channel = self._channel_index(packet)
        reception = _Reception(packet, packet.end_ns, rssi, snr, 0 if channel is None else channel)
        sf = modulation.spreading_factor if isinstance(modulation, LoRaModulation) else None
        if channel is None:
            reception.lost = "no_channel"
        elif not demodulable(snr, sf):
            reception.lost = "below_sensitivity"
        elif self._busy_demodulators(packet.start_ns) >= CHIP_DEMODULATORS[self.config.chip]:
            reception.lost = "no_demodulator"
        self._receptions.append(reception)

    def _busy_demodulators(self, at_ns: int) -> int:
        return sum(
            1 for r in self._receptions if r.lost is None and r.packet.start_ns <= at_ns < r.end_ns
        )

    def _interferes(self, a: AirPacket, b: AirPacket) -> bool:
        if a.frequency != b.frequency or type(a.modulation) is not type(b.modulation):
            return False
        if isinstance(a.modulation, LoRaModulation) and isinstance(b.modulation, LoRaModulation):
            return a.modulation.spreading_factor == b.modulation.spreading_factor
        return True

    def _settle(self, reception: _Reception) -> None:
        packet = reception.packet
        for other in self._receptions:
            if other is reception or not self._interferes(packet, other.packet):
                continue
            overlaps = other.packet.start_ns < reception.end_ns and packet.start_ns < other.end_ns
            if overlaps and reception.rssi - other.rssi < self.config.capture_threshold_db:
                reception.lost = "collision"
                return
        for transmission in self._transmitting:
            if transmission.start_ns < reception.end_ns and packet.start_ns < transmission.end_ns:
                reception.lost = "gateway_transmitting"
                return

    def _uplink_frame(self, reception: _Reception) -> UplinkFrame:
        packet = reception.packet
        end_ns = reception.end_ns
        self._uplink_id = (self._uplink_id + 1) & 0xFFFFFFFF
        gps = self.config.gps
        rx_info = UplinkRxInfo(
            gateway_id=self.config.gateway_id,
            uplink_id=self._uplink_id,
            rssi=round(reception.rssi),
            snr=round(reception.snr, 1),
            channel=reception.channel,
            context=self.counter_us(end_ns).to_bytes(4, "big"),
            gw_time_ns=self.config.unix_ns_at_zero + end_ns,
            time_since_gps_epoch_ns=self.gps_time_ns(end_ns) if gps else None,
            location=self.config.location,
        )
        return UplinkFrame(
            packet.phy_payload, UplinkTxInfo(packet.frequency, packet.modulation), rx_info
        )

    # --- transmissions -----------------------------------------------------------------------

    def send_downlink(self, frame: DownlinkFrame, now_ns: int) -> DownlinkTxAck:
        """Try each item in order; the first one the radio accepts is queued, the rest IGNORED."""
        statuses: list[TxAckStatus] = []
        for item in frame.items:
            if statuses and statuses[-1] is TxAckStatus.OK:
                statuses.append(TxAckStatus.IGNORED)
                continue
            status = self._schedule(item, frame.downlink_id, now_ns)
            statuses.append(status)
            self.counters[f"tx_{status.name.lower()}"] += 1
        return DownlinkTxAck(frame.gateway_id, frame.downlink_id, tuple(statuses))

    def _schedule(self, item: DownlinkItem, downlink_id: int, now_ns: int) -> TxAckStatus:
        info = item.tx_info
        low, high = self.config.tx_frequency_range
        if not low <= info.frequency <= high:
            return TxAckStatus.TX_FREQ
        if info.power > self.config.max_tx_power_dbm:
            return TxAckStatus.TX_POWER
        if not isinstance(info.modulation, LoRaModulation | FSKModulation):
            return TxAckStatus.TX_FREQ
        now_us = self.counter_us(now_ns)
        timing = info.timing
        if isinstance(timing, Delay):
            if len(info.context) != 4:
                return TxAckStatus.INTERNAL_ERROR
            start_us = int.from_bytes(info.context, "big") + timing.delay_ns // 1000
        elif isinstance(timing, GPSEpoch):
            if not self.config.gps:
                return TxAckStatus.GPS_UNLOCKED
            lead_ns = timing.time_since_gps_epoch_ns - self.gps_time_ns(now_ns)
            start_us = now_us + lead_ns // 1000
        else:
            jit = self._jit.timing
            start_us = now_us + jit.jit_delay_us + jit.start_delay_us + jit.margin_us
        duration_us = time_on_air_ns(len(item.phy_payload), info.modulation, uplink=False) // 1000
        return self._jit.enqueue(
            (item, downlink_id),
            start_us=start_us % COUNTER_MODULO,
            duration_us=duration_us,
            now_us=now_us,
        )

    # --- time passing ------------------------------------------------------------------------

    def poll(self, now_ns: int) -> PollResult:
        """Everything that happened up to ``now_ns``: uplinks received, transmissions started."""
        transmissions = self._start_transmissions(now_ns)
        uplinks: list[UplinkFrame] = []
        lost: list[tuple[AirPacket, str]] = []
        finished = [r for r in self._receptions if r.end_ns <= now_ns and not r.reported]
        for reception in sorted(finished, key=lambda r: r.end_ns):
            if reception.lost is None:
                self._settle(reception)
            if reception.lost is None:
                uplinks.append(self._uplink_frame(reception))
                self.counters["rx_ok"] += 1
                self._rx_per_frequency[reception.packet.frequency] += 1
            else:
                lost.append((reception.packet, reception.lost))
                self.counters[f"rx_lost_{reception.lost}"] += 1
            reception.reported = True
        self._receptions = [r for r in self._receptions if r.end_ns > now_ns - _HISTORY_NS]
        self._transmitting = [t for t in self._transmitting if t.end_ns > now_ns - _HISTORY_NS]
        return PollResult(tuple(uplinks), tuple(transmissions), tuple(lost))

    def _start_transmissions(self, now_ns: int) -> list[Transmission]:
        now_us = self.counter_us(now_ns)
        started = []
        for start_us, (item, downlink_id) in self._jit.due(now_us):
            start_ns = now_ns + counter_delta(start_us, now_us) * 1000
            info = item.tx_info
            modulation = info.modulation
            assert isinstance(modulation, LoRaModulation | FSKModulation)
            end_ns = start_ns + time_on_air_ns(len(item.phy_payload), modulation, uplink=False)
            transmission = Transmission(
                item.phy_payload,
                info.frequency,
                modulation,
                info.power,
                start_ns,
                end_ns,
                downlink_id,
            )
            self._transmitting.append(transmission)
            self._tx_per_frequency[info.frequency] += 1
            self.counters["tx_emitted"] += 1
            started.append(transmission)
        return started

    def next_wakeup_ns(self, now_ns: int) -> int | None:
        """When ``poll`` next has something to report (a packet ends or a TX is due)."""
        candidates = [r.end_ns for r in self._receptions if not r.reported]
        due_us = self._jit.next_due_us(self.counter_us(now_ns))
        if due_us is not None:
            candidates.append(now_ns + due_us * 1000)
        return min(candidates) if candidates else None

    def stats(self, now_ns: int) -> GatewayStats:
        return GatewayStats(
            gateway_id=self.config.gateway_id,
            time_ns=self.config.unix_ns_at_zero + now_ns,
            location=self.config.location,
            rx_packets_received=self.counters["rx_on_air"],
            rx_packets_received_ok=self.counters["rx_ok"],
            tx_packets_received=sum(
                v for k, v in self.counters.items() if k.startswith("tx_") and k != "tx_emitted"
            ),
            tx_packets_emitted=self.counters["tx_emitted"],
            rx_packets_per_frequency=dict(self._rx_per_frequency),
            tx_packets_per_frequency=dict(self._tx_per_frequency),
            tx_packets_per_status={
                k[3:].upper(): v
                for k, v in self.counters.items()
                if k.startswith("tx_") and k != "tx_emitted"
            },
        )
