"""What the gateways received, checked as the devices would: MIC, ACK bit, counters.

A Class A answer is scheduled on the uplink's ``tmst`` plus the RX1 (1 s) or RX2 (2 s) delay,
which is how a PULL_RESP is matched to the frame it answers. A device's downlink counter must
only go up: a PULL_RESP whose 16 counter bits, extended from the last one seen, would not be
greater than it, is counted as a reused counter when its MIC verifies under that old value.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import FrameError
from appliance.lorawan.frames import DataFrame
from appliance.lorawan.security import verify_data_mic
from bench.system.fleet import RX1_DELAY_US, Frame, device_of, session_keys
from bench.system.gateways import PullResp

_WINDOW_DELAYS_US: Final = (RX1_DELAY_US, RX1_DELAY_US + 1_000_000)  # RX1, RX2


@dataclass(slots=True)
class DownlinkCheck:
    """The verdict over every PULL_RESP seen so far; ``last_f_cnt_down`` carries over."""

    last_f_cnt_down: dict[int, int] = field(default_factory=dict)  # device -> 32-bit FCntDown
    problems: Counter[str] = field(default_factory=Counter)
    acks: int = 0
    ack_latency_ms: list[float] = field(default_factory=list)  # per acknowledged confirmed frame
    answered: set[tuple[int, int]] = field(default_factory=set)  # (device, FCnt) acknowledged

    def check(
        self,
        pull_resps: Iterable[PullResp],
        frames: Sequence[Frame],
        sent_ns: Sequence[int],
    ) -> None:
        by_tmst = {frame.tmst: (frame, sent) for frame, sent in zip(frames, sent_ns, strict=False)}
        for resp in pull_resps:
            self._one(resp, by_tmst)

    def _one(self, resp: PullResp, by_tmst: dict[int, tuple[Frame, int]]) -> None:
        try:
            txpk = json.loads(resp.payload)["txpk"]
            phy = base64.b64decode(txpk["data"], validate=True)
            tmst = int(txpk["tmst"])
            frame = decode_phy_payload(phy)
        except (ValueError, KeyError, TypeError, binascii.Error, FrameError):
            self.problems["unreadable PULL_RESP"] += 1
            return
        if not isinstance(frame, DataFrame) or frame.uplink:
            self.problems["not a data downlink"] += 1
            return
        device = device_of(int(frame.dev_addr))
        if device is None:
            self.problems["unknown DevAddr"] += 1
            return
        keys = session_keys(device)
        last = self.last_f_cnt_down.get(device, -1)
        high = max(last, 0) & ~0xFFFF
        f_cnt = high | frame.f_cnt
        if f_cnt <= last:
            if verify_data_mic(frame, keys, f_cnt):
                self.problems["downlink counter reused"] += 1
                return
            f_cnt += 0x10000  # the 16 bits wrapped
        if not verify_data_mic(frame, keys, f_cnt):
            self.problems["MIC does not verify"] += 1
            return
        self.last_f_cnt_down[device] = f_cnt
        if not frame.f_ctrl.ack:
            return
        self.acks += 1
        for delay in _WINDOW_DELAYS_US:
            found = by_tmst.get((tmst - delay) % 2**32)
            if found is not None and found[0].device == device:
                uplink, sent = found
                if not uplink.confirmed:
                    self.problems["ACK for an unconfirmed uplink"] += 1
                elif (device, uplink.f_cnt) in self.answered:
                    self.problems["uplink acknowledged twice"] += 1
                else:
                    self.answered.add((device, uplink.f_cnt))
                    self.ack_latency_ms.append((resp.received_ns - sent) / 1e6)
                return
        self.problems["ACK for no uplink of this run"] += 1
