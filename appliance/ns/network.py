"""Network-wide settings the flows read: identity, radio policy per region, ADR bounds.

Modelled on the region section of ChirpStack's configuration. The appliance runs one region;
these settings say how the network uses it (which extra channels or sub-band, RX2 overrides,
ADR limits) and must match what the gateways are configured to hear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import DevAddr, NetID
from appliance.lorawan.regions import Region, get_region


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    net_id: NetID = field(default_factory=lambda: NetID("000000"))
    # DevAddrs are allocated at random in the NetID's range, or in this narrower block of it,
    # "ADDR/BITS" in hex (e.g. "26011b00/24"), when several servers share the NetID.
    dev_addr_prefix: str | None = None
    region_name: str = "EU868"
    # Dynamic plans: channels announced in the join-accept CFList. Fixed plans: the sub-band.
    extra_channels: tuple[int, ...] = ()
    enabled_sub_band: int | None = None
    rx1_delay_s: int = 1
    rx1_dr_offset: int = 0
    rx2_dr: int | None = None  # None: the region's default
    rx2_frequency: int | None = None
    rx_window: str = "rx1_then_rx2"  # or "rx1_only", "rx2_only"
    rx2_prefer_on_rx1_dr_lt: int | None = None  # use RX2 when the RX1 DR would be below this
    downlink_tx_power_dbm: int | None = None  # None: the region's default max EIRP
    installation_margin_db: float = 10.0
    min_dr: int = 0
    max_dr: int | None = None  # None: the highest uplink DR of the region's default channels
    adr_disabled: bool = False
    max_mac_command_errors: int = 3
    dedup_window_ms: int = 200
    downlink_wait_ms: int = 100  # time for applications to enqueue a reply in the same cycle
    # A receive window opening sooner than this after the downlink is built is skipped: the
    # frame could not reach the gateway in time (RX2 is used instead).
    rx_window_lead_ms: int = 50
    # A confirmed downlink not acknowledged within this time is reported unacknowledged
    # (None: twice the device profile's uplink interval). The next uplink settles it too.
    confirmed_downlink_timeout_s: int | None = None
    join_accept_delay1_s: int = 5
    join_accept_delay2_s: int = 6
    device_session_ttl_days: int = 31
    max_f_cnt_gap: int = 16384

    def __post_init__(self) -> None:
        region = get_region(self.region_name)
        object.__setattr__(self, "region_name", region.name)
        if not 1 <= self.rx1_delay_s <= 15:
            raise InvalidValueError(f"rx1_delay_s must be 1..15, got {self.rx1_delay_s}")
        if self.rx_window not in ("rx1_then_rx2", "rx1_only", "rx2_only"):
            raise InvalidValueError("rx_window must be rx1_then_rx2, rx1_only or rx2_only")
        if self.dedup_window_ms < 0 or self.downlink_wait_ms < 0 or self.rx_window_lead_ms < 0:
            raise InvalidValueError("time windows cannot be negative")
        if self.confirmed_downlink_timeout_s is not None and self.confirmed_downlink_timeout_s <= 0:
            raise InvalidValueError("confirmed_downlink_timeout_s must be positive")
        if self.dev_addr_prefix is not None:
            self.dev_addr_block()  # refuses a malformed or foreign prefix now, not at a join

    def dev_addr_block(self) -> tuple[int, int]:
        """(first address, prefix length) of the block DevAddrs are allocated in."""
        net_id = self.net_id
        bits = 32 - net_id.nwk_addr_bits
        first = int(DevAddr.from_net_id(net_id, 0))
        if self.dev_addr_prefix is None:
            return first, bits
        text, _, length = self.dev_addr_prefix.partition("/")
        try:
            value, prefix_bits = int(text, 16), int(length)
        except ValueError:
            raise InvalidValueError(
                f"dev_addr_prefix must be ADDR/BITS in hex, got {self.dev_addr_prefix!r}"
            ) from None
        if not bits <= prefix_bits <= 32 or not 0 <= value <= 0xFFFFFFFF:
            raise InvalidValueError(
                f"dev_addr_prefix {self.dev_addr_prefix!r} must be a block of NetID "
                f"{net_id}'s range ({bits} to 32 bits)"
            )
        mask = (0xFFFFFFFF << (32 - prefix_bits)) & 0xFFFFFFFF
        if value & ~mask or (value >> (32 - bits)) != (first >> (32 - bits)):
            raise InvalidValueError(
                f"dev_addr_prefix {self.dev_addr_prefix!r} is not inside NetID {net_id}'s range"
            )
        return value, prefix_bits

    @property
    def region(self) -> Region:
        return get_region(self.region_name)

    @property
    def effective_rx2_dr(self) -> int:
        return self.region.rx2_data_rate if self.rx2_dr is None else self.rx2_dr

    @property
    def effective_rx2_frequency(self) -> int:
        return self.region.rx2_frequency_hz if self.rx2_frequency is None else self.rx2_frequency
