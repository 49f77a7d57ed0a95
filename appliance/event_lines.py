"""One log line per network-server event, within a budget of lines per second.

A line per uplink is what an operator wants to see at a few uplinks a second; at thousands a
second it is what stops the appliance (formatting and writing a line costs about as much as
handling the uplink) and fills the journal, which lives in RAM on the image. So each second
allows ``lines_per_s`` event lines; the rest are counted, and once per ``summary_interval_s``
one line says how many of each kind were left out. ``lines_per_s=0`` logs every event.

The clock is an argument (``monotonic``) so that the budget is tested without waiting.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from appliance.ns.events import DeviceMACEvent, JoinEvent, LogEvent, NSEvent, TxAckEvent
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent

log = logging.getLogger("appliance")

DEFAULT_LINES_PER_S = 100
SUMMARY_INTERVAL_S = 10.0


class EventLines:
    def __init__(
        self,
        monotonic: Callable[[], float],
        *,
        lines_per_s: int = DEFAULT_LINES_PER_S,
        summary_interval_s: float = SUMMARY_INTERVAL_S,
        logger: logging.Logger = log,
    ) -> None:
        self._monotonic = monotonic
        self._lines_per_s = lines_per_s
        self._summary_interval_s = summary_interval_s
        self._log = logger
        self._second = -1.0  # start of the current one-second budget
        self._used = 0
        self._left_out: Counter[str] = Counter()
        self._summary_due = 0.0

    def __call__(self, event: NSEvent) -> None:
        level, kind = _level_of(event)
        if not self._log.isEnabledFor(level):
            return
        if self._lines_per_s and not self._allowed(kind):
            return
        _write(self._log, level, event)

    def _allowed(self, kind: str) -> bool:
        now = self._monotonic()
        if now - self._second >= 1.0:
            self._second = now
            self._used = 0
        if self._left_out and now >= self._summary_due:
            self._summarise(now)
        if self._used < self._lines_per_s:
            self._used += 1
            return True
        if not self._left_out:
            self._summary_due = now + self._summary_interval_s
        self._left_out[kind] += 1
        return False

    def flush(self) -> None:
        """Say what was left out so far (at shutdown, so that no count is lost)."""
        if self._left_out:
            self._summarise(self._monotonic())

    def _summarise(self, now: float) -> None:
        counts = ", ".join(f"{kind}={n}" for kind, n in sorted(self._left_out.items()))
        self._log.info(
            "event lines left out above %d a second: %s (log_event_lines_per_s)",
            self._lines_per_s,
            counts,
        )
        self._left_out.clear()
        self._summary_due = now + self._summary_interval_s


def _level_of(event: NSEvent) -> tuple[int, str]:
    if isinstance(event, UplinkEvent):
        return logging.INFO, "uplink"
    if isinstance(event, JoinEvent):
        return logging.INFO, "join"
    if isinstance(event, AckEvent):
        return logging.INFO, "ack"
    if isinstance(event, TxAckEvent):
        return (logging.DEBUG if event.status.name == "OK" else logging.WARNING), "txack"
    if isinstance(event, DeviceMACEvent):
        return logging.INFO, "mac"
    return logging.WARNING, "device"  # a LogEvent: something wrong with a device


def _write(logger: logging.Logger, level: int, event: NSEvent) -> None:
    if isinstance(event, UplinkEvent):
        best = event.uplink.best
        logger.log(
            level,
            "uplink dev_eui=%s f_cnt=%d f_port=%s data=%s dr=%d rssi=%d snr=%.1f gateways=%d",
            event.dev_eui,
            event.f_cnt,
            event.f_port,
            event.data.hex(),
            event.dr,
            best.rssi,
            best.snr,
            len(event.uplink.rx_info),
        )
    elif isinstance(event, JoinEvent):
        logger.log(level, "join dev_eui=%s dev_addr=%s", event.dev_eui, event.dev_addr)
    elif isinstance(event, AckEvent):
        logger.log(
            level,
            "ack dev_eui=%s f_cnt_down=%d acknowledged=%s",
            event.dev_eui,
            event.f_cnt_down,
            event.acknowledged,
        )
    elif isinstance(event, TxAckEvent):
        logger.log(
            level,
            "txack dev_eui=%s downlink_id=%d status=%s",
            event.dev_eui,
            event.downlink_id,
            event.status.name,
        )
    elif isinstance(event, DeviceMACEvent):
        logger.log(level, "mac dev_eui=%s %s", event.dev_eui, event.event)
    elif isinstance(event, LogEvent):
        logger.log(level, "device dev_eui=%s %s: %s", event.dev_eui, event.code, event.message)
