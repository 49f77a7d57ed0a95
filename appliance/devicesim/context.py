"""The device's working context: configuration, the persistent state and the run-time state.

``transmit`` and ``receive`` are flat lists of small steps over one ``DeviceContext``;
``EndDevice`` owns it and is the only public way in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from appliance.devicesim.config import DeviceConfig
from appliance.devicesim.dutycycle import DutyCycle
from appliance.devicesim.join import PendingJoin
from appliance.devicesim.radio import SECOND_NS, ReceiveWindow, Transmission
from appliance.devicesim.state import DeviceState
from appliance.devicesim.uplink import UplinkPlan
from appliance.lorawan.maccommands import DeviceTimeAns, LinkCheckAns
from appliance.lorawan.regions import Region


@dataclass(frozen=True, slots=True)
class Repetition:
    """A data frame still to be sent again (NbTrans, or a confirmed uplink awaiting its ACK)."""

    plan: UplinkPlan
    sent: int
    limit: int
    next_ns: int
    data_rate: int


@dataclass(frozen=True, slots=True)
class RejoinPlan:
    """Rejoin-requests ordered by ForceRejoinReq (LoRaWAN 1.1 section 5.13)."""

    rejoin_type: int
    data_rate: int
    remaining: int
    next_ns: int
    period_ns: int


@dataclass(frozen=True, slots=True)
class DeviceTime:
    """The network's answer to DeviceTimeReq, pinned to the device's clock."""

    answer: DeviceTimeAns
    uplink_end_ns: int  # the instant ``answer.gps_time`` refers to

    def gps_time_at(self, now_ns: int) -> float:
        """GPS seconds at ``now_ns`` (monotonic, same clock as the device's calls)."""
        return self.answer.gps_time + (now_ns - self.uplink_end_ns) / SECOND_NS


@dataclass(slots=True)
class Runtime:
    """Timers and exchanges in progress; a restored device starts these afresh."""

    power_up_ns: int
    earliest_tx_ns: int
    next_uplink_ns: int
    next_join_ns: int
    last_rejoin_ns: int
    flush_ns: int | None = None
    application_deferred: bool = False  # the last application payload gave way to MAC commands
    join_attempts: int = 0
    pending_join: PendingJoin | None = None
    windows: tuple[ReceiveWindow, ...] = ()
    last_tx: Transmission | None = None
    repetition: Repetition | None = None
    awaiting_ack: int | None = None  # FCntUp of the confirmed uplink not yet acknowledged
    rejoin: RejoinPlan | None = None
    revert_to_join_at: int | None = None
    stopped: str | None = None
    duty: DutyCycle = field(default_factory=DutyCycle)
    link_check: LinkCheckAns | None = None
    device_time: DeviceTime | None = None
    dropped_payloads: int = 0

    @classmethod
    def starting(cls, now_ns: int) -> Runtime:
        return cls(
            power_up_ns=now_ns,
            earliest_tx_ns=now_ns,
            next_uplink_ns=now_ns,
            next_join_ns=now_ns,
            last_rejoin_ns=now_ns,
        )


@dataclass(slots=True)
class DeviceContext:
    config: DeviceConfig
    region: Region
    rng: random.Random
    state: DeviceState
    rt: Runtime
