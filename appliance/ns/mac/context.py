"""What the MAC engine is told about the world: the uplink, the time, the network's wishes.

``NetworkSettings`` and ``DeviceProfile`` carry most of what the network wants; ``MACPolicy``
holds the rest (TxParamSetup, duty cycle, ADR back-off, RX1 frequencies, beacon, rejoin and
ping-slot settings). ``None`` (or an empty mapping) in a policy field means "the network has
no opinion": nothing is originated for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Region
from appliance.ns.adr import ALGORITHMS, ADRRegistry
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile


@dataclass(frozen=True, slots=True)
class UplinkMeta:
    """The uplink whose MAC commands are handled (after de-duplication).

    ``max_snr``/``max_rssi``: best reception over all gateways; ``gps_time_s``: seconds since
    the GPS epoch at the end of the transmission, for DeviceTimeAns (None when no gateway
    gave a usable timestamp).
    """

    dr: int
    max_snr: float | None = None
    max_rssi: int | None = None
    gateway_count: int = 1
    gps_time_s: float | None = None


@dataclass(frozen=True, slots=True)
class TxParams:
    """TxParamSetupReq settings (AS923, AU915): dwell-time limits and MaxEIRP index."""

    uplink_dwell_time_400ms: bool
    downlink_dwell_time_400ms: bool
    max_eirp_index: int

    def __post_init__(self) -> None:
        if not 0 <= self.max_eirp_index <= 15:
            raise InvalidValueError(f"max_eirp_index must be 0..15, got {self.max_eirp_index}")


@dataclass(frozen=True, slots=True)
class RejoinParams:
    """RejoinParamSetupReq settings (LoRaWAN 1.1): a type 0 rejoin every 2**(count_n + 4)
    uplinks or 2**(time_n + 10) seconds."""

    max_count_n: int
    max_time_n: int

    def __post_init__(self) -> None:
        for name, value in (("max_count_n", self.max_count_n), ("max_time_n", self.max_time_n)):
            if not 0 <= value <= 15:
                raise InvalidValueError(f"{name} must be 0..15, got {value}")


@dataclass(frozen=True, slots=True)
class ADRAckParams:
    """ADRParamSetupReq settings (LoRaWAN 1.1): ADR_ACK_LIMIT = 2**limit_exp uplinks without a
    downlink before ADRACKReq, then a step back every ADR_ACK_DELAY = 2**delay_exp."""

    limit_exp: int
    delay_exp: int

    def __post_init__(self) -> None:
        for name, value in (("limit_exp", self.limit_exp), ("delay_exp", self.delay_exp)):
            if not 0 <= value <= 15:
                raise InvalidValueError(f"{name} must be 0..15, got {value}")


@dataclass(frozen=True, slots=True)
class ForceRejoin:
    """ForceRejoinReq (LoRaWAN 1.1): fresh keys before the session's frame counters run out.

    Sent when any counter of the session (FCntUp, NFCntDown, AFCntDown) reaches ``at_f_cnt``;
    the device answers with a rejoin-request of ``rejoin_type`` (0 or 2) at ``data_rate``
    (None: the data rate it uses now), retried ``max_retries`` times 32 s * 2**period apart.
    """

    at_f_cnt: int
    rejoin_type: int = 2
    data_rate: int | None = None
    period: int = 0
    max_retries: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.at_f_cnt <= 0xFFFFFFFF:
            raise InvalidValueError(f"at_f_cnt must be 1..2**32-1, got {self.at_f_cnt}")
        if self.rejoin_type not in (0, 2):
            raise InvalidValueError(f"rejoin_type must be 0 or 2, got {self.rejoin_type}")
        for name, value in (("period", self.period), ("max_retries", self.max_retries)):
            if not 0 <= value <= 7:
                raise InvalidValueError(f"{name} must be 0..7, got {value}")


@dataclass(frozen=True, slots=True)
class PingSlotChannel:
    """PingSlotChannelReq settings (Class B); frequency 0 means the region's default."""

    data_rate: int
    frequency: int = 0


@dataclass(frozen=True, slots=True)
class MACPolicy:
    enabled: bool = True  # False: neither answer nor originate (ChirpStack's mac_commands_disabled)
    tx_params: TxParams | None = None
    rejoin: RejoinParams | None = None
    ping_slot: PingSlotChannel | None = None
    max_duty_cycle: int | None = None  # DutyCycleReq: aggregated duty cycle 1 / 2**n
    adr_ack: ADRAckParams | None = None
    # DlChannelReq (dynamic plans): uplink channel index -> RX1 frequency in Hz.
    dl_channels: Mapping[int, int] = field(default_factory=dict)
    beacon_frequency: int | None = None  # BeaconFreqReq (Class B); 0: the region's default
    force_rejoin: ForceRejoin | None = None
    # NewChannelReq / DlChannelReq per downlink: 3 x 6 bytes still leaves room in a small
    # FRMPayload.
    max_new_channel_requests: int = 3

    def __post_init__(self) -> None:
        if self.max_duty_cycle is not None and not 0 <= self.max_duty_cycle <= 15:
            raise InvalidValueError(f"max_duty_cycle must be 0..15, got {self.max_duty_cycle}")
        if not 0 <= self.max_new_channel_requests <= 16:
            raise InvalidValueError(
                f"max_new_channel_requests must be 0..16, got {self.max_new_channel_requests}"
            )
        if self.beacon_frequency is not None and self.beacon_frequency < 0:
            raise InvalidValueError(f"beacon_frequency must be >= 0, got {self.beacon_frequency}")


@dataclass(frozen=True, slots=True)
class MACContext:
    now_ns: int
    profile: DeviceProfile
    settings: NetworkSettings
    uplink: UplinkMeta | None = None  # None for downlinks not answering an uplink (Class B/C)
    policy: MACPolicy = MACPolicy()
    adr: ADRRegistry = ALGORITHMS
    device_variables: Mapping[str, str] = field(default_factory=dict)
    region: Region = field(init=False)  # looked up once: every handler reads it

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", self.settings.region)
