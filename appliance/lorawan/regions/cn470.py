"""CN470-510 (CN470), its four channel plans: RP002-1.0.4 section 2.9.

RP002 splits the band by gateway antenna (20 MHz or 26 MHz) and type (A or B); all four plans
are modelled, each as its own ``Region``:

* 20 MHz type A: 64 uplink channels (470.3 MHz + 200 kHz steps, then 503.5 MHz + ...), 64
  downlink channels (483.9 MHz + ..., then 490.3 MHz + ...); RX1 uses the same channel number.
* 20 MHz type B: 64 channels (476.9 MHz + ..., then 496.9 MHz + ...), shared by both
  directions, so RX1 is on the uplink frequency.
* 26 MHz type A / B: 48 uplink channels from 470.3 / 480.3 MHz, 24 downlink channels from
  490.1 / 500.1 MHz; RX1 uses downlink channel (uplink channel mod 24).

2.9.2 also lists the common join channels: the one a device joins on fixes its plan, the RX1
frequency of the join-accept and, for OTAA devices, the RX2 frequency; ABP devices use a
per-plan RX2 default. 2.9.3 data rates (DR0, SF12, is listed but has no payload size, so
end-devices use DR1..DR7) and TXPower 0..7, 2.9.4 CFList type 1, 2.9.6 maximum payload sizes,
2.9.7 receive windows (RX2 at DR1), 2.9.8 class B (DR2).

The join-channel table of Semtech's LoRaMac-node reference implementation gives 494.0 MHz as
the seventh 20 MHz type A RX2 frequency; that is off the 200 kHz raster and breaks the 1.6 MHz
progression of its neighbours, so 494.9 MHz is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions.common import (
    CFListType,
    Channel,
    ClassBChannel,
    Rx1DataRateTable,
    check_int,
    fsk,
    lora,
    subtracting_rows,
    tx_power_steps,
)
from appliance.lorawan.regions.region import Region

_STEP_HZ: Final = 200_000
_DATA_RATES: Final = (1, 5)


@dataclass(frozen=True, slots=True)
class ChannelBlock:
    """``count`` channels 200 kHz apart from ``first_hz``."""

    first_hz: int
    count: int

    def frequency(self, offset: int) -> int:
        return self.first_hz + offset * _STEP_HZ

    def offset_of(self, frequency_hz: int) -> int | None:
        offset, remainder = divmod(frequency_hz - self.first_hz, _STEP_HZ)
        return offset if remainder == 0 and 0 <= offset < self.count else None


@dataclass(frozen=True, slots=True)
class JoinChannel:
    """A common join channel: where the join-request goes and where the answers come."""

    uplink_hz: int
    join_accept_rx1_hz: int
    otaa_rx2_hz: int

    def to_json(self) -> dict[str, Any]:
        return {
            "frequency_hz": self.uplink_hz,
            "join_accept_rx1_frequency_hz": self.join_accept_rx1_hz,
            "otaa_rx2_frequency_hz": self.otaa_rx2_hz,
        }


@dataclass(frozen=True, slots=True)
class CN470ChannelPlan:
    """One of the four plans; channels are numbered across blocks, in the order given.

    ``rx1_modulo`` is None when RX1 uses the downlink channel with the uplink's number, else the
    number of downlink channels the uplink number wraps onto.
    """

    plan: str
    uplink_blocks: tuple[ChannelBlock, ...]
    downlink_blocks: tuple[ChannelBlock, ...]
    rx1_modulo: int | None
    common_join_channels: tuple[JoinChannel, ...]
    abp_rx2_hz: int

    @staticmethod
    def _number(blocks: tuple[ChannelBlock, ...], frequency_hz: int) -> int | None:
        base = 0
        for block in blocks:
            offset = block.offset_of(frequency_hz)
            if offset is not None:
                return base + offset
            base += block.count
        return None

    @staticmethod
    def _frequency(blocks: tuple[ChannelBlock, ...], channel: int, what: str) -> int:
        check_int(what, channel, 0, sum(block.count for block in blocks) - 1)
        for block in blocks:
            if channel < block.count:
                return block.frequency(channel)
            channel -= block.count
        raise AssertionError("unreachable: the channel was range-checked")

    def uplink_frequency(self, channel: int) -> int:
        return self._frequency(self.uplink_blocks, channel, "uplink channel")

    def downlink_frequency(self, channel: int) -> int:
        return self._frequency(self.downlink_blocks, channel, "downlink channel")

    def uplink_channel(self, frequency_hz: int) -> int:
        number = self._number(self.uplink_blocks, frequency_hz)
        if number is None:
            raise InvalidValueError(
                f"{frequency_hz} Hz is not an uplink channel of CN470-{self.plan}"
            )
        return number

    def rx1_frequency(self, uplink_frequency_hz: int, uplink_channel_index: int | None) -> int:
        channel = self.uplink_channel(uplink_frequency_hz)
        if uplink_channel_index is not None and uplink_channel_index != channel:
            raise InvalidValueError(
                f"{uplink_frequency_hz} Hz is channel {channel}, not {uplink_channel_index}"
            )
        if self.rx1_modulo is not None:
            channel %= self.rx1_modulo
        return self.downlink_frequency(channel)

    def uplink_channels(self) -> tuple[Channel, ...]:
        count = sum(block.count for block in self.uplink_blocks)
        return tuple(Channel(self.uplink_frequency(ch), *_DATA_RATES) for ch in range(count))

    def downlink_channels(self) -> tuple[Channel, ...]:
        count = sum(block.count for block in self.downlink_blocks)
        return tuple(Channel(self.downlink_frequency(ch), *_DATA_RATES) for ch in range(count))

    def join_channels(self) -> tuple[Channel, ...]:
        return tuple(Channel(join.uplink_hz, *_DATA_RATES) for join in self.common_join_channels)

    def to_json(self) -> dict[str, Any]:
        rule = (
            "the uplink channel number"
            if self.rx1_modulo is None
            else f"uplink channel number modulo {self.rx1_modulo}"
        )
        return {
            "kind": f"CN470 {self.plan}",
            "uplink_channels": [c.to_json() for c in self.uplink_channels()],
            "downlink_channels": [c.to_json() for c in self.downlink_channels()],
            "join_channels": [join.to_json() for join in self.common_join_channels],
            "abp_rx2_frequency_hz": self.abp_rx2_hz,
            "rx1_channel": rule,
        }


def _joins(
    uplinks: tuple[int, ...], rx1: tuple[int, ...], rx2: tuple[int, ...]
) -> tuple[JoinChannel, ...]:
    return tuple(
        JoinChannel(up, accept, second)
        for up, accept, second in zip(uplinks, rx1, rx2, strict=True)
    )


def _steps(first_hz: int, step_hz: int, count: int) -> tuple[int, ...]:
    return tuple(first_hz + i * step_hz for i in range(count))


PLAN_20A: Final = CN470ChannelPlan(
    plan="20A",
    uplink_blocks=(ChannelBlock(470_300_000, 32), ChannelBlock(503_500_000, 32)),
    downlink_blocks=(ChannelBlock(483_900_000, 32), ChannelBlock(490_300_000, 32)),
    rx1_modulo=None,
    common_join_channels=_joins(
        _steps(470_900_000, 1_600_000, 4) + _steps(504_100_000, 1_600_000, 4),
        _steps(484_500_000, 1_600_000, 8),
        _steps(485_300_000, 1_600_000, 8),
    ),
    abp_rx2_hz=486_900_000,
)
PLAN_20B: Final = CN470ChannelPlan(
    plan="20B",
    uplink_blocks=(ChannelBlock(476_900_000, 32), ChannelBlock(496_900_000, 32)),
    downlink_blocks=(ChannelBlock(476_900_000, 32), ChannelBlock(496_900_000, 32)),
    rx1_modulo=None,
    common_join_channels=_joins(
        (479_900_000, 499_900_000), (479_900_000, 499_900_000), (478_300_000, 498_300_000)
    ),
    abp_rx2_hz=498_300_000,
)
PLAN_26A: Final = CN470ChannelPlan(
    plan="26A",
    uplink_blocks=(ChannelBlock(470_300_000, 48),),
    downlink_blocks=(ChannelBlock(490_100_000, 24),),
    rx1_modulo=24,
    common_join_channels=_joins(
        _steps(470_300_000, 2_000_000, 5), (492_500_000,) * 5, (492_500_000,) * 5
    ),
    abp_rx2_hz=492_500_000,
)
PLAN_26B: Final = CN470ChannelPlan(
    plan="26B",
    uplink_blocks=(ChannelBlock(480_300_000, 48),),
    downlink_blocks=(ChannelBlock(500_100_000, 24),),
    rx1_modulo=24,
    common_join_channels=_joins(
        _steps(480_300_000, 2_000_000, 5), (502_500_000,) * 5, (502_500_000,) * 5
    ),
    abp_rx2_hz=502_500_000,
)

_DATA_RATE_TABLE: Final = (
    lora(0, 12, 125, None),
    lora(1, 11, 125, 31),
    lora(2, 10, 125, 94),
    lora(3, 9, 125, 192),
    lora(4, 8, 125, 250),
    lora(5, 7, 125, 250),
    lora(6, 7, 500, 250),
    fsk(7, 50_000, 250),
)


def _cn470(plan: CN470ChannelPlan, beacon: ClassBChannel, ping_slot: ClassBChannel) -> Region:
    return Region(
        name=f"CN470-{plan.plan}",
        common_name=f"CN470-510 {plan.plan[:2]} MHz antenna, type {plan.plan[2]}",
        section="2.9",
        min_frequency_hz=470_000_000,
        max_frequency_hz=510_000_000,
        data_rates=_DATA_RATE_TABLE,
        rx1_data_rates=Rx1DataRateTable(subtracting_rows(range(1, 8), offsets=6, floor=1)),
        channel_plan=plan,
        cflist_type=CFListType.CHANNEL_MASK,
        rx2_frequency_hz=plan.abp_rx2_hz,
        rx2_data_rate=1,
        default_max_eirp_dbm=19.15,
        tx_power_backoff_db=tx_power_steps(8),
        beacon=beacon,
        ping_slot=ping_slot,
        notes=(
            "The common join channel a device joins on selects the plan; rx2 above is the ABP "
            "default, OTAA devices use the RX2 frequency of their join channel.",
            "DR0 (SF12) has no maximum payload size; end-devices use DR1..DR7.",
        ),
    )


_GROUP_HOP: Final = (
    "hops over downlink channels 8j..8j+7, j = index of the common join channel used "
    "(0..7; frequencies shown for j = 0): channel = 8j + {} mod 8"
)
CN470_20A: Final = _cn470(
    PLAN_20A,
    ClassBChannel(
        2, _steps(483_900_000, _STEP_HZ, 8), _GROUP_HOP.format("floor(beacon_time / 128 s)")
    ),
    ClassBChannel(
        2,
        _steps(483_900_000, _STEP_HZ, 8),
        _GROUP_HOP.format("(DevAddr + floor(beacon_time / 128 s))"),
    ),
)
CN470_20B: Final = _cn470(
    PLAN_20B,
    ClassBChannel(
        2,
        (481_500_000, 501_500_000),
        "481.5 MHz (channel 23) after joining on 479.9 MHz, 501.5 MHz (channel 55) after "
        "joining on 499.9 MHz",
    ),
    ClassBChannel(
        2,
        tuple(c.frequency_hz for c in PLAN_20B.downlink_channels()),
        "hops over the 32 channels of the device's half (0..31 after joining on 479.9 MHz, "
        "32..63 after 499.9 MHz): channel = 32h + (DevAddr + floor(beacon_time / 128 s)) mod 32",
    ),
)
CN470_26A: Final = _cn470(
    PLAN_26A, ClassBChannel(2, (494_900_000,)), ClassBChannel(2, (494_900_000,))
)
CN470_26B: Final = _cn470(
    PLAN_26B, ClassBChannel(2, (504_900_000,)), ClassBChannel(2, (504_900_000,))
)
