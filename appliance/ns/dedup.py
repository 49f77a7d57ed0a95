"""De-duplication: the copies of one frame heard by several gateways become one uplink.

The first copy opens a window (default 200 ms); every copy received within it adds its
reception metadata; when the window closes the frame is processed once with all receptions,
so the network server can pick the best gateway for the answer and count gateways for
LinkCheckAns. Sans-IO: the caller passes ``now_ns`` and asks what is due.

Memory is bounded: at most ``max_pending`` frames may be open at once (beyond that new frames
are refused and counted), and a frame keeps at most one reception per gateway (the strongest).
``admit``, when set, is asked before a new frame opens a window: False refuses it, counted as
``overloaded`` (the appliance sets it to its application side's backlog check). Copies of a
frame already open are always merged: the uplink was accepted.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.lorawan.identifiers import EUI64
from hal.model import CRCStatus, UplinkFrame, UplinkRxInfo, UplinkTxInfo


@dataclass(frozen=True, slots=True)
class DeduplicatedUplink:
    phy_payload: bytes
    tx_info: UplinkTxInfo
    rx_info: tuple[UplinkRxInfo, ...]  # best first: SNR, then RSSI
    first_seen_ns: int

    @property
    def best(self) -> UplinkRxInfo:
        return self.rx_info[0]


@dataclass(slots=True)
class _Open:
    tx_info: UplinkTxInfo
    first_seen_ns: int
    receptions: dict[EUI64, UplinkRxInfo] = field(default_factory=dict)


def _quality(rx: UplinkRxInfo) -> tuple[float, int]:
    return (rx.snr, rx.rssi)


class Deduplicator:
    def __init__(self, window_ns: int, max_pending: int = 50_000) -> None:
        self.window_ns = window_ns
        self.max_pending = max_pending
        self._open: dict[tuple[bytes, int], _Open] = {}
        self._deadlines: list[tuple[int, bytes, int]] = []
        self.drop_counts: Counter[str] = Counter()
        self.admit: Callable[[], bool] | None = None

    def add(self, frame: UplinkFrame, now_ns: int) -> bool:
        """Record one reception; True when it opened a new window (the first copy)."""
        if frame.rx_info.crc_status is not CRCStatus.CRC_OK:
            self.drop_counts["crc_not_ok"] += 1
            return False
        # The same bytes on another frequency are another transmission (a retransmission).
        key = (frame.phy_payload, frame.tx_info.frequency)
        entry = self._open.get(key)
        if entry is None:
            if len(self._open) >= self.max_pending:
                self.drop_counts["dedup_full"] += 1
                return False
            if self.admit is not None and not self.admit():
                self.drop_counts["overloaded"] += 1
                return False
            entry = self._open[key] = _Open(frame.tx_info, now_ns)
            heapq.heappush(self._deadlines, (now_ns + self.window_ns, *key))
            opened = True
        else:
            opened = False
        gateway = frame.rx_info.gateway_id
        known = entry.receptions.get(gateway)
        if known is None or _quality(frame.rx_info) > _quality(known):
            entry.receptions[gateway] = frame.rx_info
        return opened

    def due(self, now_ns: int) -> list[DeduplicatedUplink]:
        """Uplinks whose window has closed by ``now_ns``, oldest first."""
        ready = []
        while self._deadlines and self._deadlines[0][0] <= now_ns:
            _, payload, frequency = heapq.heappop(self._deadlines)
            entry = self._open.pop((payload, frequency))
            receptions = sorted(entry.receptions.values(), key=_quality, reverse=True)
            ready.append(
                DeduplicatedUplink(payload, entry.tx_info, tuple(receptions), entry.first_seen_ns)
            )
        return ready

    def next_deadline_ns(self) -> int | None:
        return self._deadlines[0][0] if self._deadlines else None

    def __len__(self) -> int:
        return len(self._open)
