"""The fixed channel plan of US902-928 and AU915-928: 72 numbered uplink channels, 8 downlink.

RP002-1.0.4 sections 2.5.2 (US902-928) and 2.8.2 (AU915-928): 64 channels of 125 kHz spaced
200 kHz, 8 of 500 kHz spaced 1.6 MHz, and 8 downlink channels of 500 kHz spaced 600 kHz from
923.3 MHz. Sections 2.5.7 and 2.8.7: the RX1 channel is the uplink channel number modulo 8.
Sub-band n (as gateways and network servers number them, 1..8) is the 125 kHz channels
8(n-1)..8n-1 plus the 500 kHz channel 63+n.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions.common import Channel, check_int


@dataclass(frozen=True, slots=True)
class SubBand:
    """Sub-band n of a fixed plan: 125 kHz channels 8(n-1)..8n-1 and 500 kHz channel 63+n."""

    number: int
    channels_125khz_hz: tuple[int, ...]
    channel_500khz_hz: int

    @property
    def channel_indices(self) -> tuple[int, ...]:
        first = 8 * (self.number - 1)
        return (*range(first, first + 8), 63 + self.number)


@dataclass(frozen=True, slots=True)
class FixedChannelPlan:
    """The US902-928 / AU915-928 arrangement: 72 numbered uplink channels, 8 downlink ones."""

    first_125khz_hz: int
    data_rates_125khz: tuple[int, int]
    join_data_rate_125khz: int
    first_500khz_hz: int
    data_rates_500khz: tuple[int, int]
    join_data_rate_500khz: int
    downlink_data_rates: tuple[int, int] = (8, 13)
    first_downlink_hz: int = 923_300_000
    step_125khz_hz: int = field(default=200_000, init=False)
    step_500khz_hz: int = field(default=1_600_000, init=False)
    step_downlink_hz: int = field(default=600_000, init=False)

    def uplink_frequency(self, channel: int) -> int:
        check_int("uplink channel", channel, 0, 71)
        if channel < 64:
            return self.first_125khz_hz + channel * self.step_125khz_hz
        return self.first_500khz_hz + (channel - 64) * self.step_500khz_hz

    def uplink_channel(self, frequency_hz: int) -> int:
        """The channel number of an uplink frequency; InvalidValueError if it is none of them."""
        for first, step, base, count in (
            (self.first_125khz_hz, self.step_125khz_hz, 0, 64),
            (self.first_500khz_hz, self.step_500khz_hz, 64, 8),
        ):
            index, remainder = divmod(frequency_hz - first, step)
            if remainder == 0 and 0 <= index < count:
                return base + index
        raise InvalidValueError(f"{frequency_hz} Hz is not an uplink channel of this plan")

    def downlink_frequency(self, channel: int) -> int:
        check_int("downlink channel", channel, 0, 7)
        return self.first_downlink_hz + channel * self.step_downlink_hz

    def sub_band(self, number: int) -> SubBand:
        check_int("sub-band", number, 1, 8)
        first = 8 * (number - 1)
        return SubBand(
            number,
            tuple(self.uplink_frequency(channel) for channel in range(first, first + 8)),
            self.uplink_frequency(63 + number),
        )

    def uplink_channels(self) -> tuple[Channel, ...]:
        low, high = self.data_rates_125khz
        wide_low, wide_high = self.data_rates_500khz
        return tuple(
            Channel(self.uplink_frequency(ch), low, high)
            if ch < 64
            else Channel(self.uplink_frequency(ch), wide_low, wide_high)
            for ch in range(72)
        )

    def downlink_channels(self) -> tuple[Channel, ...]:
        low, high = self.downlink_data_rates
        return tuple(Channel(self.downlink_frequency(ch), low, high) for ch in range(8))

    def join_channels(self) -> tuple[Channel, ...]:
        """All 72 channels: 125 kHz ones at the 125 kHz join DR, 500 kHz ones at theirs."""
        narrow, wide = self.join_data_rate_125khz, self.join_data_rate_500khz
        return tuple(
            Channel(c.frequency_hz, narrow, narrow)
            if i < 64
            else Channel(c.frequency_hz, wide, wide)
            for i, c in enumerate(self.uplink_channels())
        )

    def rx1_frequency(self, uplink_frequency_hz: int, uplink_channel_index: int | None) -> int:
        channel = self.uplink_channel(uplink_frequency_hz)
        if uplink_channel_index is not None and uplink_channel_index != channel:
            raise InvalidValueError(
                f"{uplink_frequency_hz} Hz is channel {channel}, not {uplink_channel_index}"
            )
        return self.downlink_frequency(channel % 8)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "fixed",
            "uplink_channels": [c.to_json() for c in self.uplink_channels()],
            "downlink_channels": [c.to_json() for c in self.downlink_channels()],
            "sub_bands": [
                {"number": n, "channels": list(self.sub_band(n).channel_indices)}
                for n in range(1, 9)
            ],
            "join_data_rates": {
                "125khz": self.join_data_rate_125khz,
                "500khz": self.join_data_rate_500khz,
            },
            "rx1_channel": "uplink channel number modulo 8",
        }
