"""The device's state as frozen records; the device swaps a record whole when it changes.

``Session``: the activated session (address, keys, frame counters). ``RadioSettings``: what the
network tunes with MAC commands and the join-accept. ``MACQueue``: the MAC commands waiting for
the next uplink, kept apart by how long each must be repeated (LoRaWAN 1.0.4 section 5,
LoRaWAN 1.1 section 5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from appliance.devicesim.config import ABP, DeviceConfig
from appliance.devicesim.regional import default_data_rate
from appliance.lorawan.identifiers import DevAddr, NetID
from appliance.lorawan.maccommands import MACCommand
from appliance.lorawan.regions import Region
from appliance.lorawan.security import SessionKeys


@dataclass(frozen=True, slots=True)
class Session:
    """An activated session. Counters hold the next value to send or to expect (32-bit).

    In LoRaWAN 1.0.x ``n_f_cnt_down`` is the single FCntDown and ``a_f_cnt_down`` is unused.
    """

    dev_addr: DevAddr
    keys: SessionKeys
    net_id: NetID | None = None  # known after a join; ABP devices are not told
    f_cnt_up: int = 0
    n_f_cnt_down: int = 0
    a_f_cnt_down: int = 0
    rj_count0: int = 0  # LoRaWAN 1.1 rejoin-request type 0/2 counter of this session

    @property
    def lorawan_1_1(self) -> bool:
        return self.keys.lorawan_1_1


@dataclass(frozen=True, slots=True)
class RadioSettings:
    """Uplink and receive-window parameters of the current session.

    ``max_duty_cycle`` is the DutyCycleReq exponent: the aggregated duty cycle is at most
    1 / 2**max_duty_cycle (0: no limit beyond the regional one).
    """

    data_rate: int
    tx_power: int
    rx2_data_rate: int
    rx2_frequency: int
    max_eirp_dbm: float
    adr_ack_limit: int
    adr_ack_delay: int
    uplink_dwell_time: bool = False
    downlink_dwell_time: bool = False
    nb_trans: int = 1
    rx1_delay_s: int = 1
    rx1_dr_offset: int = 0
    max_duty_cycle: int = 0

    @classmethod
    def initial(cls, config: DeviceConfig, region: Region) -> RadioSettings:
        """Settings at power-up or right after a join, before the join-accept is applied."""
        dwell = config.dwell_time(region)
        settings = cls(
            data_rate=(
                default_data_rate(region, dwell) if config.data_rate is None else config.data_rate
            ),
            tx_power=config.tx_power,
            rx2_data_rate=region.rx2_data_rate,
            rx2_frequency=region.rx2_frequency_hz,
            max_eirp_dbm=(
                region.default_max_eirp_dbm if config.max_eirp_dbm is None else config.max_eirp_dbm
            ),
            adr_ack_limit=region.defaults.adr_ack_limit,
            adr_ack_delay=region.defaults.adr_ack_delay,
            uplink_dwell_time=dwell,
            downlink_dwell_time=config.downlink_dwell_time,
            nb_trans=config.nb_trans,
        )
        activation = config.activation
        if isinstance(activation, ABP):
            settings = replace(
                settings,
                rx1_delay_s=activation.rx1_delay_s,
                rx1_dr_offset=activation.rx1_dr_offset,
                rx2_data_rate=(
                    settings.rx2_data_rate
                    if activation.rx2_data_rate is None
                    else activation.rx2_data_rate
                ),
                rx2_frequency=(
                    settings.rx2_frequency
                    if activation.rx2_frequency is None
                    else activation.rx2_frequency
                ),
            )
        return settings

    def tx_power_dbm(self, region: Region) -> float:
        return region.tx_power_dbm(self.tx_power, self.max_eirp_dbm)


@dataclass(frozen=True, slots=True)
class MACQueue:
    """MAC commands for the next uplink.

    ``indication``: ResetInd or RekeyInd, sent in every uplink until ResetConf/RekeyConf.
    ``sticky``: RXParamSetupAns, DlChannelAns and RXTimingSetupAns, sent in every uplink until
    a downlink arrives. ``answers``: the other answers and the device's own requests
    (LinkCheckReq, DeviceTimeReq), sent once.
    """

    answers: tuple[MACCommand, ...] = ()
    sticky: tuple[MACCommand, ...] = ()
    indication: MACCommand | None = None

    def outgoing(self) -> tuple[MACCommand, ...]:
        head = () if self.indication is None else (self.indication,)
        return head + self.sticky + self.answers

    def after_sending(self, count: int) -> MACQueue:
        """Forget the one-shot answers among the first ``count`` commands of ``outgoing()``."""
        repeated = len(self.sticky) + (self.indication is not None)
        return replace(self, answers=self.answers[max(0, count - repeated) :])

    def with_answers(self, *commands: MACCommand) -> MACQueue:
        return replace(self, answers=self.answers + commands)

    def on_downlink(self, sticky: tuple[MACCommand, ...]) -> MACQueue:
        """A downlink arrived: earlier sticky answers are done, the new ones take their place."""
        return replace(self, sticky=sticky)
