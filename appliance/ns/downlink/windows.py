"""Class A receive windows: where and when a device listens after an uplink.

RX1 opens RECEIVE_DELAY1 (the session's RX1 delay; JOIN_ACCEPT_DELAY1 for a join-accept) after
the end of the uplink, on the region's RX1 frequency at the RX1 data rate (uplink DR shifted by
RX1DROffset); RX2 opens one second later on the session's RX2 frequency and data rate
(LoRaWAN 1.0.4 section 3.3, RP002-1.0.4 per region). The network policy may skip either, a
channel moved by DlChannelReq has its own RX1 frequency, and a window that opens too soon for
the gateway to meet it (``still_reachable``) is left out so RX2 is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import Region
from appliance.ns.network import NetworkSettings
from appliance.ns.radio import data_rate_of
from appliance.ns.session import DeviceSession
from appliance.ns.uplink.channels import uplink_channel_index
from hal.model import UplinkTxInfo

SECOND_NS: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RxWindow:
    name: str  # "rx1" or "rx2"
    frequency: int
    data_rate: int
    delay_ns: int  # from the end of the uplink
    max_mac_payload: int  # M: what a downlink MACPayload may carry at this data rate


def _max_payload(region: Region, data_rate: int, dwell_time: bool) -> int:
    return region.max_payload(data_rate, dwell_time).mac_payload


def class_a_windows(
    region: Region,
    settings: NetworkSettings,
    uplink: UplinkTxInfo,
    *,
    rx1_delay_s: int,
    rx1_dr_offset: int,
    rx2_dr: int,
    rx2_frequency: int,
    downlink_dwell_time: bool = False,
    rx1_frequency: int | None = None,
) -> tuple[RxWindow, ...]:
    """The windows to try, in order, for a downlink answering ``uplink``; ``rx1_frequency``
    overrides the region's RX1 frequency rule (DlChannelReq)."""
    uplink_dr = data_rate_of(region, uplink.modulation, uplink=True)
    key = (
        region.name,
        id(settings),
        uplink_dr,
        uplink.frequency,
        rx1_delay_s,
        rx1_dr_offset,
        rx2_dr,
        rx2_frequency,
        downlink_dwell_time,
        rx1_frequency,
    )
    cached = _cache.get(key)
    if cached is not None and cached[0] is settings:
        return cached[1]
    windows = _class_a_windows(
        region,
        settings,
        uplink,
        uplink_dr,
        rx1_delay_s=rx1_delay_s,
        rx1_dr_offset=rx1_dr_offset,
        rx2_dr=rx2_dr,
        rx2_frequency=rx2_frequency,
        downlink_dwell_time=downlink_dwell_time,
        rx1_frequency=rx1_frequency,
    )
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[key] = (settings, windows)  # holding ``settings`` keeps its id unique
    return windows


# Every uplink asks for its windows, and a network has few channels, data rates and RX
# settings: the answers are kept (settings by identity, as they are frozen and long-lived).
_CACHE_LIMIT: Final = 4096
_cache: dict[tuple[object, ...], tuple[NetworkSettings, tuple[RxWindow, ...]]] = {}


def _class_a_windows(
    region: Region,
    settings: NetworkSettings,
    uplink: UplinkTxInfo,
    uplink_dr: int,
    *,
    rx1_delay_s: int,
    rx1_dr_offset: int,
    rx2_dr: int,
    rx2_frequency: int,
    downlink_dwell_time: bool,
    rx1_frequency: int | None,
) -> tuple[RxWindow, ...]:
    windows: list[RxWindow] = []
    if settings.rx_window != "rx2_only":
        rx1_dr = region.rx1_data_rate(uplink_dr, rx1_dr_offset, downlink_dwell_time)
        prefer_rx2 = (
            settings.rx2_prefer_on_rx1_dr_lt is not None
            and rx1_dr < settings.rx2_prefer_on_rx1_dr_lt
        )
        if not prefer_rx2:
            windows.append(
                RxWindow(
                    "rx1",
                    rx1_frequency or region.rx1_frequency(uplink.frequency),
                    rx1_dr,
                    rx1_delay_s * SECOND_NS,
                    _max_payload(region, rx1_dr, downlink_dwell_time),
                )
            )
    if settings.rx_window != "rx1_only" or not windows:
        windows.append(
            RxWindow(
                "rx2",
                rx2_frequency,
                rx2_dr,
                (rx1_delay_s + 1) * SECOND_NS,
                _max_payload(region, rx2_dr, downlink_dwell_time),
            )
        )
    if not windows:
        raise InvalidValueError("no receive window is usable under the network's policy")
    return tuple(windows)


def data_windows(
    region: Region, settings: NetworkSettings, session: DeviceSession, uplink: UplinkTxInfo
) -> tuple[RxWindow, ...]:
    """Windows after a data uplink, from the device session's RX settings."""
    rx1_frequency = None
    if session.rx1_frequencies:
        try:
            channel = uplink_channel_index(region, session, uplink.frequency)
        except InvalidValueError:
            channel = None
        rx1_frequency = None if channel is None else session.rx1_frequencies.get(channel)
    return class_a_windows(
        region,
        settings,
        uplink,
        rx1_delay_s=session.rx1_delay_s,
        rx1_dr_offset=session.rx1_dr_offset,
        rx2_dr=session.rx2_dr,
        rx2_frequency=session.rx2_frequency,
        downlink_dwell_time=session.downlink_dwell_time_400ms,
        rx1_frequency=rx1_frequency,
    )


def still_reachable(
    windows: tuple[RxWindow, ...], *, elapsed_ns: int, lead_ns: int
) -> tuple[RxWindow, ...]:
    """The windows that open at least ``lead_ns`` after now, ``elapsed_ns`` after the uplink
    was received: an earlier one would come back from the gateway as TOO_LATE anyway."""
    return tuple(w for w in windows if w.delay_ns - elapsed_ns >= lead_ns)


def join_accept_windows(
    region: Region, settings: NetworkSettings, uplink: UplinkTxInfo
) -> tuple[RxWindow, ...]:
    """Windows after a join-request: JOIN_ACCEPT_DELAY1/2, RX1 offset 0, the region's RX2."""
    windows = class_a_windows(
        region,
        settings,
        uplink,
        rx1_delay_s=settings.join_accept_delay1_s,
        rx1_dr_offset=0,
        rx2_dr=region.rx2_data_rate,
        rx2_frequency=region.rx2_frequency_hz,
    )
    # JOIN_ACCEPT_DELAY2 is its own setting, not always delay1 + 1.
    return tuple(
        w
        if w.name == "rx1"
        else RxWindow(
            w.name,
            w.frequency,
            w.data_rate,
            settings.join_accept_delay2_s * SECOND_NS,
            w.max_mac_payload,
        )
        for w in windows
    )


def rejoin_accept_windows(
    region: Region, settings: NetworkSettings, session: DeviceSession, uplink: UplinkTxInfo
) -> tuple[RxWindow, ...]:
    """Windows after a rejoin-request: the join-accept delays, with the session's RX1 offset
    and RX2 settings (the device keeps them while it waits for the answer)."""
    windows = class_a_windows(
        region,
        settings,
        uplink,
        rx1_delay_s=settings.join_accept_delay1_s,
        rx1_dr_offset=session.rx1_dr_offset,
        rx2_dr=session.rx2_dr,
        rx2_frequency=session.rx2_frequency,
        downlink_dwell_time=session.downlink_dwell_time_400ms,
    )
    return tuple(
        w
        if w.name == "rx1"
        else RxWindow(
            w.name,
            w.frequency,
            w.data_rate,
            settings.join_accept_delay2_s * SECOND_NS,
            w.max_mac_payload,
        )
        for w in windows
    )
