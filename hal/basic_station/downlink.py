"""Downlinks: DownlinkFrame to ``dnmsg``/``dnsched``, and ``dntxed`` back to a DownlinkTxAck.

What Station does with them (s2e.c ``handle_dnmsg``, ``altTxTime``, ``send_dntxed``):

* Class A (``Delay``, ``dC`` 0): sent at the uplink's ``xtime`` + ``RxDelay`` s on ``RX1DR``/
  ``RX1Freq``; if that fails Station tries ``RX2DR``/``RX2Freq`` one second later by itself. So
  only a second item whose delay is the first's plus 1 s can be offered as RX2.
* Class C (``Immediately``, ``dC`` 2): given as ``RX2DR``/``RX2Freq`` with no ``xtime``; Station
  then sends as soon as it can. (``DR``/``Freq`` would need an ``xtime``; without one Station
  drops the frame "due to time conversion problems".)
* GPS time (``GPSEpoch``): sent as a ``dnmsg`` with ``dC`` 1 and ``gpstime`` in microseconds.
  ``dnsched`` carries the same, but Station never confirms a ``dnsched`` transmission (no
  ``dntxed`` without a DevEui), so ``build_dnsched`` exists for callers that need no ack.
* ``dntxed`` is sent only when ``DevEui`` is non-zero. The network server does not give the
  DevEUI in a DownlinkFrame, so every dnmsg carries ``PLACEHOLDER_DEV_EUI``; it only appears in
  Station's log and its ``dntxed``.
* Station never says why it did not transmit. An acknowledgement whose ``dntxed`` does not come
  is ``TOO_LATE`` for every item: the windows passed without a transmission (missed TX time,
  duty cycle, no time sync all end this way). When RX2 was sent, RX1 is reported ``TOO_LATE``
  too; items Station was not given are ``IGNORED``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hal.basic_station.datarates import StationDataRates
from hal.basic_station.errors import DownlinkEncodeError
from hal.basic_station.timing import NS_PER_S, NS_PER_US
from hal.basic_station.uplink import UplinkContext
from hal.model import (
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    GPSEpoch,
    Immediately,
    TxAckStatus,
)

PLACEHOLDER_DEV_EUI: Final = "01-01-01-01-01-01-01-01"
PRIORITY: Final = 1  # Station orders colliding frames by priority; all of ours are equal
MAX_PDU: Final = 255
MAX_RX_DELAY_S: Final = 15
# Station refuses frames scheduled further ahead than TX_MAX_AHEAD (s2conf.h, 600 s).
MAX_AHEAD_NS: Final = 600 * NS_PER_S


@dataclass(frozen=True, slots=True)
class OfferedItem:
    index: int  # position in DownlinkFrame.items
    frequency_hz: int
    data_rate: int
    xtime: int | None = None  # when Station should send it, for telling RX1 from RX2


@dataclass(frozen=True, slots=True)
class DownlinkPlan:
    message: dict[str, Any]
    offered: tuple[OfferedItem, ...]  # in the order Station tries them
    transmit_within_ns: int  # from now until the last offered transmission is due


def _radio(item: DownlinkItem, rates: StationDataRates) -> tuple[int, int]:
    frequency = item.tx_info.frequency
    region = rates.region
    if not region.min_frequency_hz <= frequency <= region.max_frequency_hz:
        raise DownlinkEncodeError(
            f"{frequency} Hz is outside {region.name}", status=TxAckStatus.TX_FREQ
        )
    return frequency, rates.downlink_data_rate(item.tx_info.modulation)


def _rx_delay_s(delay: Delay) -> int:
    seconds, rest = divmod(delay.delay_ns, NS_PER_S)
    if rest or not 1 <= seconds <= MAX_RX_DELAY_S:
        raise DownlinkEncodeError(
            f"Station opens Class A windows 1..15 whole seconds after the uplink, "
            f"not {delay.delay_ns} ns"
        )
    return seconds


def _class_a(
    frame: DownlinkFrame, delay: Delay, rates: StationDataRates, message: dict[str, Any]
) -> tuple[tuple[OfferedItem, ...], int]:
    first = frame.items[0]
    context = UplinkContext.from_bytes(first.tx_info.context)
    if context is None or context.xtime <= 0:
        raise DownlinkEncodeError("a Class A downlink needs the uplink's context (xtime)")
    rx_delay = _rx_delay_s(delay)
    frequency, data_rate = _radio(first, rates)
    rx1_xtime = context.xtime + rx_delay * 1_000_000
    message |= {
        "dC": 0,
        "RxDelay": rx_delay,
        "RX1DR": data_rate,
        "RX1Freq": frequency,
        "xtime": context.xtime,
        "rctx": context.rctx,
    }
    offered = [OfferedItem(0, frequency, data_rate, rx1_xtime)]
    latest_ns = delay.delay_ns
    if len(frame.items) > 1:
        second = frame.items[1]
        timing = second.tx_info.timing
        if isinstance(timing, Delay) and timing.delay_ns == delay.delay_ns + NS_PER_S:
            try:
                rx2_frequency, rx2_data_rate = _radio(second, rates)
            except DownlinkEncodeError:
                pass  # RX1 can still go out; the unusable RX2 is reported as not tried
            else:
                message |= {"RX2DR": rx2_data_rate, "RX2Freq": rx2_frequency}
                offered.append(OfferedItem(1, rx2_frequency, rx2_data_rate, rx1_xtime + 1_000_000))
                latest_ns = timing.delay_ns
    return tuple(offered), latest_ns


def build_dnmsg(
    frame: DownlinkFrame, rates: StationDataRates, *, now_unix_ns: int, now_gps_ns: int
) -> DownlinkPlan:
    """The dnmsg for ``frame``; ``DownlinkEncodeError`` when Station cannot express it."""
    first = frame.items[0]
    if len(first.phy_payload) > MAX_PDU:
        raise DownlinkEncodeError(f"Station sends at most {MAX_PDU} bytes")
    message: dict[str, Any] = {
        "msgtype": "dnmsg",
        "DevEui": PLACEHOLDER_DEV_EUI,
        "diid": frame.downlink_id,
        "pdu": first.phy_payload.hex(),
        "priority": PRIORITY,
        "MuxTime": now_unix_ns / NS_PER_S,
    }
    timing = first.tx_info.timing
    context = UplinkContext.from_bytes(first.tx_info.context)
    if isinstance(timing, Delay):
        offered, latest_ns = _class_a(frame, timing, rates, message)
        return DownlinkPlan(message, offered, latest_ns)
    frequency, data_rate = _radio(first, rates)
    if context is not None:
        message["rctx"] = context.rctx  # the antenna that heard the device
    if isinstance(timing, Immediately):
        message |= {"dC": 2, "RxDelay": 0, "RX2DR": data_rate, "RX2Freq": frequency}
        return DownlinkPlan(message, (OfferedItem(0, frequency, data_rate),), 0)
    assert isinstance(timing, GPSEpoch)
    ahead_ns = timing.time_since_gps_epoch_ns - now_gps_ns
    if ahead_ns > MAX_AHEAD_NS:
        raise DownlinkEncodeError(
            f"Station schedules at most 600 s ahead, not {ahead_ns / NS_PER_S:.0f} s",
            status=TxAckStatus.TOO_EARLY,
        )
    message |= {
        "dC": 1,
        "DR": data_rate,
        "Freq": frequency,
        "gpstime": timing.time_since_gps_epoch_ns // NS_PER_US,
    }
    return DownlinkPlan(message, (OfferedItem(0, frequency, data_rate),), max(ahead_ns, 0))


def build_dnsched(
    frames: Sequence[DownlinkFrame], rates: StationDataRates, *, now_unix_ns: int
) -> dict[str, Any]:
    """A dnsched of GPS-timed frames (first item of each); Station will not acknowledge it."""
    schedule = []
    for frame in frames:
        item = frame.items[0]
        timing = item.tx_info.timing
        if not isinstance(timing, GPSEpoch):
            raise DownlinkEncodeError("dnsched entries here are GPS-timed")
        if len(item.phy_payload) > MAX_PDU:
            raise DownlinkEncodeError(f"Station sends at most {MAX_PDU} bytes")
        frequency, data_rate = _radio(item, rates)
        context = UplinkContext.from_bytes(item.tx_info.context)
        schedule.append(
            {
                "diid": frame.downlink_id,
                "DR": data_rate,
                "Freq": frequency,
                "gpstime": timing.time_since_gps_epoch_ns // NS_PER_US,
                "pdu": item.phy_payload.hex(),
                "rctx": 0 if context is None else context.rctx,
                "priority": PRIORITY,
            }
        )
    return {"msgtype": "dnsched", "schedule": schedule, "MuxTime": now_unix_ns / NS_PER_S}


def refused(frame: DownlinkFrame, status: TxAckStatus) -> DownlinkTxAck:
    """Every item of ``frame`` acknowledged with ``status``."""
    return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (status,) * len(frame.items))


def _sent_item(plan: DownlinkPlan, dntxed: Mapping[str, Any]) -> OfferedItem:
    frequency, data_rate, xtime = dntxed.get("Freq"), dntxed.get("DR"), dntxed.get("xtime")
    matches = [
        item
        for item in plan.offered
        if item.frequency_hz == frequency and item.data_rate == data_rate
    ] or list(plan.offered)
    if len(matches) > 1 and type(xtime) is int:
        # RX1 and RX2 on the same channel and rate: the transmission time tells them apart.
        return min(matches, key=lambda item: abs((item.xtime or 0) - xtime))
    return matches[0]


def acknowledge(
    frame: DownlinkFrame, plan: DownlinkPlan, dntxed: Mapping[str, Any]
) -> DownlinkTxAck:
    """The acknowledgement of ``frame`` from Station's report of its transmission."""
    sent = _sent_item(plan, dntxed).index
    statuses = tuple(
        TxAckStatus.OK
        if index == sent
        else TxAckStatus.TOO_LATE
        if index < sent
        else TxAckStatus.IGNORED
        for index in range(len(frame.items))
    )
    return DownlinkTxAck(frame.gateway_id, frame.downlink_id, statuses)
