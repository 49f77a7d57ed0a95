"""``Region``: one regional channel plan of RP002-1.0.4 as a frozen value with its lookups.

The fields follow the subsections every region has in RP002-1.0.4 (x = the region's section):
x.2 channel frequencies, x.3 data rates and TXPower, x.4 the join-accept CFList, x.6 maximum
payload sizes, x.7 receive windows (RX1 data rate and channel, RX2 defaults), x.8 class B
beacon and ping slot; section 2.3 gives the default settings shared by all regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions.common import (
    DEFAULT_SETTINGS,
    MAX_DATA_RATE_INDEX,
    CFListType,
    ChannelPlan,
    ClassBChannel,
    DataRate,
    DefaultSettings,
    DutyCycleBand,
    MaxPayload,
    Rx1DataRateTable,
    check_int,
)

SPECIFICATION = "RP002-1.0.4"
_MAX_FREQUENCY_HZ = 2_000_000_000


@dataclass(frozen=True, slots=True)
class Region:
    """Everything the network server needs to know about one channel plan.

    ``tx_power_backoff_db[i]`` is how far TXPower ``i`` is below the end-device's max EIRP.
    ``dwell_time_payload_tables`` says whether the region has separate maximum-payload tables
    for a 400 ms dwell-time limit (AS923, AU915); ``dwell_time_limit_ms`` is the regulatory
    limit itself where there is one (US915 builds it into its only table).
    """

    name: str
    common_name: str
    section: str
    min_frequency_hz: int
    max_frequency_hz: int
    data_rates: tuple[DataRate, ...]
    rx1_data_rates: Rx1DataRateTable
    channel_plan: ChannelPlan
    cflist_type: CFListType
    rx2_frequency_hz: int
    rx2_data_rate: int
    default_max_eirp_dbm: float
    tx_power_backoff_db: tuple[int, ...]
    beacon: ClassBChannel
    ping_slot: ClassBChannel
    duty_cycle_bands: tuple[DutyCycleBand, ...] = ()
    dwell_time_limit_ms: int | None = None
    dwell_time_payload_tables: bool = False
    tx_param_setup_req: bool = False
    defaults: DefaultSettings = DEFAULT_SETTINGS
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        indices = [dr.index for dr in self.data_rates]
        if indices != sorted(set(indices)):
            raise InvalidValueError(f"{self.name}: data rates must be unique and in order")
        for dr in self.rx1_data_rates.uplink_data_rates:
            if not self.data_rate(dr).uplink:
                raise InvalidValueError(f"{self.name}: RX1 row for DR{dr}, not an uplink rate")
        rows = self.rx1_data_rates.rows + (self.rx1_data_rates.dwell_rows or ())
        for _, per_offset in rows:
            for dr in per_offset:
                if not self.data_rate(dr).downlink:
                    raise InvalidValueError(f"{self.name}: RX1 maps to DR{dr}, no downlink rate")
        if not self.data_rate(self.rx2_data_rate).downlink:
            raise InvalidValueError(f"{self.name}: RX2 data rate must be a downlink rate")
        self._check_frequency("RX2 frequency", self.rx2_frequency_hz)
        for channel in (self.beacon, self.ping_slot):
            self.data_rate(channel.data_rate)
            for frequency in channel.frequencies_hz:
                self._check_frequency("class B frequency", frequency)

    def _check_frequency(self, what: str, frequency_hz: int) -> int:
        check_int(what, frequency_hz, 0, _MAX_FREQUENCY_HZ)
        if not self.min_frequency_hz <= frequency_hz <= self.max_frequency_hz:
            raise InvalidValueError(
                f"{what} {frequency_hz} Hz is outside {self.name} "
                f"({self.min_frequency_hz}..{self.max_frequency_hz} Hz)"
            )
        return frequency_hz

    @property
    def rfu_data_rates(self) -> tuple[int, ...]:
        """Indices the region leaves reserved for future use (DR15 included)."""
        defined = {dr.index for dr in self.data_rates}
        return tuple(i for i in range(MAX_DATA_RATE_INDEX + 1) if i not in defined)

    def data_rate(self, index: int) -> DataRate:
        check_int("data rate index", index, 0, MAX_DATA_RATE_INDEX)
        for data_rate in self.data_rates:
            if data_rate.index == index:
                return data_rate
        raise InvalidValueError(f"DR{index} is reserved for future use in {self.name}")

    def max_payload(self, data_rate: int, dwell_time: bool = False) -> MaxPayload:
        """M and N of a data rate (``dwell_time``: under the 400 ms uplink dwell-time limit)."""
        entry = self.data_rate(data_rate)
        size = entry.max_payload_dwell if dwell_time else entry.max_payload
        if size is None:
            when = " with a dwell-time limit" if dwell_time else ""
            raise InvalidValueError(f"DR{data_rate} carries no frames in {self.name}{when}")
        return size

    def rx1_data_rate(self, uplink_dr: int, rx1_dr_offset: int, dwell_time: bool = False) -> int:
        """The RX1 downlink data rate for an uplink DR and RX1DROffset.

        ``dwell_time`` is the DownlinkDwellTime setting; only regions whose table depends on it
        (AS923) read it.
        """
        return self.rx1_data_rates.lookup(uplink_dr, rx1_dr_offset, dwell_time)

    def rx1_frequency(
        self, uplink_frequency_hz: int, uplink_channel_index: int | None = None
    ) -> int:
        """The RX1 downlink frequency answering an uplink on ``uplink_frequency_hz``.

        The channel index is checked against the frequency where the plan numbers its channels
        (fixed plans, CN470); dynamic plans only check it is in range.
        """
        self._check_frequency("uplink frequency", uplink_frequency_hz)
        return self.channel_plan.rx1_frequency(uplink_frequency_hz, uplink_channel_index)

    def tx_power_dbm(self, tx_power: int, max_eirp_dbm: float | None = None) -> float:
        """EIRP of TXPower ``tx_power``, from the default max EIRP unless a device's is given."""
        check_int("TXPower", tx_power, 0, len(self.tx_power_backoff_db) - 1)
        top = self.default_max_eirp_dbm if max_eirp_dbm is None else max_eirp_dbm
        return top - self.tx_power_backoff_db[tx_power]

    def to_json(self) -> dict[str, Any]:
        """Every parameter as JSON-able values; frequencies are integers in Hz."""
        with_dwell = self.dwell_time_payload_tables
        return {
            "name": self.name,
            "common_name": self.common_name,
            "specification": SPECIFICATION,
            "section": self.section,
            "frequency_range_hz": {"min": self.min_frequency_hz, "max": self.max_frequency_hz},
            "data_rates": [dr.to_json(with_dwell) for dr in self.data_rates],
            "rfu_data_rates": list(self.rfu_data_rates),
            "dwell_time": {
                "limit_ms": self.dwell_time_limit_ms,
                "separate_payload_tables": with_dwell,
                "tx_param_setup_req": self.tx_param_setup_req,
            },
            "channels": self.channel_plan.to_json(),
            "cflist_type": int(self.cflist_type),
            "rx1_data_rate": self.rx1_data_rates.to_json(),
            "rx2": {"frequency_hz": self.rx2_frequency_hz, "data_rate": self.rx2_data_rate},
            "tx_power": {
                "default_max_eirp_dbm": self.default_max_eirp_dbm,
                "backoff_db": list(self.tx_power_backoff_db),
            },
            "duty_cycle_bands": [band.to_json() for band in self.duty_cycle_bands],
            "class_b": {"beacon": self.beacon.to_json(), "ping_slot": self.ping_slot.to_json()},
            "defaults": self.defaults.to_json(),
            "notes": list(self.notes),
        }
