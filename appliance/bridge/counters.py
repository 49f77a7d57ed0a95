"""What the bridge counts (for /metrics) and the problems it reports (for ``log`` events).

Reasons are short snake_case words so they can be Prometheus label values unchanged.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("appliance.bridge")


@dataclass(frozen=True, slots=True)
class BridgeLogEvent:
    """One problem or state change of an upstream bridge, as one line an operator can read."""

    level: str  # info, warning, error
    code: str  # e.g. link_down, spool_full, command_rejected
    message: str


EventSink = Callable[[BridgeLogEvent], None]


@dataclass(slots=True)
class BridgeCounters:
    uplinks_sent: int = 0
    uplinks_replayed: int = 0  # of uplinks_sent: sent late, with the delayed marker
    uplinks_spooled: int = 0  # written to the spool file (a frame may be written once only)
    stats_sent: int = 0
    tx_acks_sent: int = 0
    configurations: int = 0
    connects: int = 0
    connected: bool = False
    downlinks: Counter[str] = field(default_factory=Counter)  # by TxAckStatus name
    dropped: Counter[str] = field(default_factory=Counter)  # uplinks/stats lost, by reason
    commands_rejected: Counter[str] = field(default_factory=Counter)
    link_errors: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, object]:
        """A plain copy for exporters (counters become dicts)."""
        return {
            "uplinks_sent": self.uplinks_sent,
            "uplinks_replayed": self.uplinks_replayed,
            "uplinks_spooled": self.uplinks_spooled,
            "stats_sent": self.stats_sent,
            "tx_acks_sent": self.tx_acks_sent,
            "configurations": self.configurations,
            "connects": self.connects,
            "connected": self.connected,
            "downlinks": dict(self.downlinks),
            "dropped": dict(self.dropped),
            "commands_rejected": dict(self.commands_rejected),
            "link_errors": dict(self.link_errors),
        }


class Reporter:
    """Logs one line per problem and hands the same line to an optional event sink.

    A peer that sends garbage in a loop must not flood the log: past ``burst`` lines of one
    code per ``window_s``, lines are counted instead and the next one says how many were left out.
    """

    def __init__(
        self,
        name: str,
        sink: EventSink | None = None,
        *,
        clock: Callable[[], int] = time.monotonic_ns,
        burst: int = 10,
        window_s: float = 60.0,
    ) -> None:
        self.name = name
        self._sink = sink
        self._clock = clock
        self._burst = burst
        self._window_ns = int(window_s * 1e9)
        self._windows: dict[str, tuple[int, int, int]] = {}  # code: (start, lines, suppressed)

    def report(self, level: str, code: str, message: str) -> None:
        now = self._clock()
        start, lines, suppressed = self._windows.get(code, (now, 0, 0))
        if now - start >= self._window_ns:
            start, lines = now, 0
        if lines >= self._burst:
            self._windows[code] = (start, lines, suppressed + 1)
            return
        self._windows[code] = (start, lines + 1, 0)
        line = f"bridge {self.name}: {message}"
        if suppressed:
            line += f" ({suppressed} similar lines left out)"
        logger.log(logging.getLevelName(level.upper()), "%s", line)
        if self._sink is not None:
            try:
                self._sink(BridgeLogEvent(level, code, line))
            except Exception:  # a failing sink must not take the bridge down
                logger.exception("bridge %s: event sink failed", self.name)
