"""Confirmed downlinks awaiting the device's ACK, and their timeouts (sans-IO).

A confirmed downlink is settled by the device's next uplink (ACK bit set or not, see
``uplink.data_flow``) or, when the device stays silent, by a timeout: ``due(now_ns)`` hands
back the ones whose time is up, and the caller reports them unacknowledged. Time is an
argument, so tests drive it with a fake clock.

The timers live in memory; after a restart the pipeline arms them again from the queue's sent
confirmed items (``Pipeline.rearm_confirmations``), each for a whole timeout from the start.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from appliance.lorawan.identifiers import EUI64


@dataclass(frozen=True, slots=True)
class AwaitedAck:
    dev_eui: EUI64
    f_cnt_down: int
    deadline_ns: int


class AckTimers:
    def __init__(self) -> None:
        self._awaited: dict[EUI64, AwaitedAck] = {}
        self._heap: list[tuple[int, int, EUI64]] = []

    def arm(self, dev_eui: EUI64, f_cnt_down: int, deadline_ns: int) -> None:
        """Wait for the ACK of ``f_cnt_down`` until ``deadline_ns`` (replacing an older wait:
        a device has one confirmed downlink in flight at a time)."""
        self._awaited[dev_eui] = AwaitedAck(dev_eui, f_cnt_down, deadline_ns)
        heapq.heappush(self._heap, (deadline_ns, f_cnt_down, dev_eui))

    def settle(self, dev_eui: EUI64) -> None:
        """The device's uplink settled its confirmed downlink (ACK or not)."""
        self._awaited.pop(dev_eui, None)

    def due(self, now_ns: int) -> list[AwaitedAck]:
        """The waits whose deadline has passed by ``now_ns``; they are forgotten."""
        expired = []
        while self._heap and self._heap[0][0] <= now_ns:
            deadline, f_cnt_down, dev_eui = heapq.heappop(self._heap)
            awaited = self._awaited.get(dev_eui)
            if awaited is not None and (awaited.deadline_ns, awaited.f_cnt_down) == (
                deadline,
                f_cnt_down,
            ):
                del self._awaited[dev_eui]
                expired.append(awaited)
        return expired

    def next_deadline_ns(self) -> int | None:
        # Entries of settled or re-armed waits stay in the heap until they come up; dropping
        # them here keeps the answer exact.
        while self._heap:
            deadline, f_cnt_down, dev_eui = self._heap[0]
            awaited = self._awaited.get(dev_eui)
            if awaited is not None and (awaited.deadline_ns, awaited.f_cnt_down) == (
                deadline,
                f_cnt_down,
            ):
                return deadline
            heapq.heappop(self._heap)
        return None

    def __len__(self) -> int:
        return len(self._awaited)
