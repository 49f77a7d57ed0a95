"""Problems an operator should see, as log lines and (through the runtime's ``report``)
``log`` events, without letting a target that refuses everything flood either: past
``burst`` lines per ``window_s`` for one target, lines are counted, and the next one says how
many were left out. (A refused event's report is itself an event, delivered to the same
targets: without this limit an endpoint that refuses everything would echo forever.)"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from appliance.integrations.hooks import Report, call_report
from appliance.lorawan.identifiers import EUI64

log = logging.getLogger("appliance.integrations")


@dataclass(slots=True)
class _Window:
    start: float
    lines: int = 0
    left_out: int = 0


class Reporter:
    def __init__(
        self,
        report: Report,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        burst: int = 5,
        window_s: float = 60.0,
    ) -> None:
        self._report = report
        self._monotonic = monotonic
        self._burst = burst
        self._window_s = window_s
        self._windows: dict[str, _Window] = {}
        self.left_out = 0

    def __call__(
        self,
        key: str,
        message: str,
        *,
        application_id: uuid.UUID | None = None,
        dev_eui: EUI64 | None = None,
        level: int = logging.WARNING,
    ) -> None:
        now = self._monotonic()
        window = self._windows.get(key)
        if window is None or now - window.start >= self._window_s:
            left_out = 0 if window is None else window.left_out
            window = self._windows[key] = _Window(now, left_out=left_out)
        if window.lines >= self._burst:
            window.left_out += 1
            self.left_out += 1
            return
        window.lines += 1
        if window.left_out:
            message += f" ({window.left_out} similar reports left out)"
            window.left_out = 0
        log.log(level, "%s", message)
        call_report(self._report, application_id, dev_eui, message)
