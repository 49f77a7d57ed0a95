"""What a simulated end-device is: identity, activation, radio and application behaviour.

``DeviceConfig`` is a frozen value checked on construction, so a device that cannot be simulated
is refused before it transmits anything. Identifiers accept the "-like" inputs the protocol core
accepts (hex text, bytes, int); versions accept their text form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from appliance.devicesim.channels import ChannelTable
from appliance.devicesim.errors import DeviceConfigError
from appliance.devicesim.regional import is_downlink_rate, usable_uplink_data_rates
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.regions import Region, get_region
from appliance.lorawan.regions.common import DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.lorawan.security import SessionKeys

MAX_APPLICATION_PORT: Final = 223  # 224 is the certification port, 225..255 are RFU
ZERO_EUI: Final = EUI64(0)


class LoRaWANVersion(StrEnum):
    """The MAC versions the simulator speaks."""

    V1_0_2 = "1.0.2"
    V1_0_3 = "1.0.3"
    V1_0_4 = "1.0.4"
    V1_1 = "1.1"

    @property
    def is_1_1(self) -> bool:
        return self is LoRaWANVersion.V1_1

    @property
    def dev_nonce_is_counter(self) -> bool:
        """1.0.4 and 1.1 count DevNonce up from 0; earlier versions draw it at random."""
        return self in (LoRaWANVersion.V1_0_4, LoRaWANVersion.V1_1)

    @property
    def has_device_time(self) -> bool:
        """DeviceTimeReq/Ans arrived with LoRaWAN 1.0.3."""
        return self is not LoRaWANVersion.V1_0_2


@dataclass(frozen=True, slots=True)
class OTAA:
    """Over-the-air activation: AppKey, and NwkKey for a LoRaWAN 1.1 device."""

    app_key: AESKey
    nwk_key: AESKey | None = None


@dataclass(frozen=True, slots=True)
class ABP:
    """Activation by personalisation: the session the device is built with.

    The receive-window settings are the ones the device was provisioned with; the network must
    be told the same values out of band. None means the region's default.
    """

    dev_addr: DevAddr
    keys: SessionKeys
    rx1_delay_s: int = 1
    rx1_dr_offset: int = 0
    rx2_data_rate: int | None = None
    rx2_frequency: int | None = None


Activation = OTAA | ABP
PayloadSource = bytes | Callable[[int], bytes]  # a callable gets the FCntUp of the new uplink


def _eui(value: object, what: str) -> EUI64:
    if isinstance(value, EUI64):
        return value
    try:
        return EUI64(value)  # type: ignore[arg-type]
    except InvalidValueError as exc:
        raise DeviceConfigError(f"{what}: {exc}") from None


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise DeviceConfigError(message)


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """One simulated end-device. Defaults give an unconfirmed, ADR-enabled EU868 sensor.

    ``data_rate``: the initial uplink data rate, also used for joins on dynamic-plan regions;
    None picks the region's default (its lowest usable rate). ``tx_power``: the initial TXPower
    index (0 is the maximum EIRP). ``sub_bands``: the sub-bands (1..8) a US915/AU915 device
    starts with; empty means all 72 channels. ``confirmed_transmissions``: how often a
    confirmed uplink is sent at most while no ACK arrives; None follows the version (8 before
    1.0.4, as the specification recommended, then NbTrans). ``duty_cycle``: honour the
    region's duty-cycle sub-bands and the join back-off. ``rx_window_margin_ms``: how early a
    receive window opens and how much later it still detects a preamble, on top of six symbols.
    """

    dev_eui: EUI64
    activation: Activation
    join_eui: EUI64 = ZERO_EUI
    lorawan_version: LoRaWANVersion = LoRaWANVersion.V1_0_3
    region: str = "EU868"
    device_class: str = "A"
    f_port: int = 1
    confirmed: bool = False
    nb_trans: int = 1
    confirmed_transmissions: int | None = None
    adr: bool = True
    payload: PayloadSource = b"\x00"
    uplink_interval_s: float = 60.0
    uplink_jitter_s: float = 0.0
    data_rate: int | None = None
    tx_power: int = 0
    max_eirp_dbm: float | None = None
    sub_bands: tuple[int, ...] = ()
    uplink_dwell_time: bool | None = None
    downlink_dwell_time: bool = False
    duty_cycle: bool = True
    battery: int = 255
    rx_window_margin_ms: float = 20.0
    respond_to_f_pending: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "dev_eui", _eui(self.dev_eui, "DevEUI"))
        object.__setattr__(self, "join_eui", _eui(self.join_eui, "JoinEUI"))
        try:
            version = LoRaWANVersion(self.lorawan_version)
        except ValueError:
            known = ", ".join(v.value for v in LoRaWANVersion)
            raise DeviceConfigError(
                f"LoRaWAN version {self.lorawan_version!r} is not simulated (known: {known})"
            ) from None
        object.__setattr__(self, "lorawan_version", version)
        region = self._region()
        object.__setattr__(self, "region", region.name)
        self._check_activation(version)
        _check(self.device_class == "A", f"only class A is simulated, not {self.device_class!r}")
        _check(
            1 <= self.f_port <= MAX_APPLICATION_PORT,
            f"the uplink FPort must be 1..{MAX_APPLICATION_PORT}, got {self.f_port}",
        )
        _check(1 <= self.nb_trans <= 15, f"NbTrans must be 1..15, got {self.nb_trans}")
        if self.confirmed_transmissions is not None:
            _check(
                1 <= self.confirmed_transmissions <= 15,
                f"confirmed transmissions must be 1..15, got {self.confirmed_transmissions}",
            )
        _check(self.uplink_interval_s > 0, "the uplink interval must be positive")
        _check(self.uplink_jitter_s >= 0, "the uplink jitter cannot be negative")
        _check(self.rx_window_margin_ms >= 0, "the receive-window margin cannot be negative")
        _check(0 <= self.battery <= 255, f"battery must be 0..255, got {self.battery}")
        _check(
            0 <= self.tx_power < len(region.tx_power_backoff_db),
            f"TXPower index must be 0..{len(region.tx_power_backoff_db) - 1} in {region.name}",
        )
        self._check_radio(region)

    def _region(self) -> Region:
        try:
            region = get_region(self.region)
        except InvalidValueError as exc:
            raise DeviceConfigError(str(exc)) from None
        if not isinstance(region.channel_plan, DynamicChannelPlan | FixedChannelPlan):
            # CN470's join channel decides the device's plan, RX2 and channel group; the
            # simulator does not model that dependency.
            raise DeviceConfigError(f"{region.name} devices are not simulated")
        return region

    def _check_activation(self, version: LoRaWANVersion) -> None:
        activation = self.activation
        if isinstance(activation, OTAA):
            _check(
                not version.is_1_1 or activation.nwk_key is not None,
                "a LoRaWAN 1.1 OTAA device needs a NwkKey",
            )
            return
        _check(isinstance(activation, ABP), "activation must be OTAA(...) or ABP(...)")
        _check(
            activation.keys.lorawan_1_1 == version.is_1_1,
            "ABP session keys must match the LoRaWAN version (four keys for 1.1, "
            "SessionKeys.for_1_0 before)",
        )
        _check(
            1 <= activation.rx1_delay_s <= 15,
            f"ABP RX1 delay must be 1..15 s, got {activation.rx1_delay_s}",
        )

    def _check_radio(self, region: Region) -> None:
        if self.sub_bands:
            _check(
                isinstance(region.channel_plan, FixedChannelPlan),
                f"sub-bands apply to US915 and AU915, not {region.name}",
            )
            _check(
                all(1 <= band <= 8 for band in self.sub_bands),
                f"sub-bands are numbered 1..8, got {self.sub_bands}",
            )
        if self.data_rate is not None:
            _check(
                self.data_rate in usable_uplink_data_rates(region, self.dwell_time(region)),
                f"DR{self.data_rate} is not an uplink data rate the simulator can use in "
                f"{region.name}",
            )
            _check(
                bool(ChannelTable.initial(region, self.sub_bands).for_data_rate(self.data_rate)),
                f"DR{self.data_rate} is not allowed on the default channels of {region.name}; "
                "the network can add channels for it",
            )
        activation = self.activation
        if isinstance(activation, ABP):
            if activation.rx2_data_rate is not None:
                _check(
                    is_downlink_rate(region, activation.rx2_data_rate),
                    f"DR{activation.rx2_data_rate} is not a downlink data rate in {region.name}",
                )
            if activation.rx2_frequency is not None:
                _check(
                    region.min_frequency_hz <= activation.rx2_frequency <= region.max_frequency_hz,
                    f"RX2 frequency {activation.rx2_frequency} Hz is outside {region.name}",
                )

    def dwell_time(self, region: Region) -> bool:
        """The uplink dwell-time limit at start: on where the region has TxParamSetupReq."""
        if self.uplink_dwell_time is not None:
            return self.uplink_dwell_time
        return region.tx_param_setup_req

    def payload_for(self, f_cnt: int) -> bytes:
        source = self.payload
        return source if isinstance(source, bytes) else bytes(source(f_cnt))
