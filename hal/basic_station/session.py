"""One station's data connection as a state machine: text in, replies and events out.

Sans-IO: the adapter passes every received text and the current times in, and gets back the
texts to send (``Reply``), the uplinks (``UplinkFrame``) and the transmission acknowledgements
(``DownlinkTxAck``). Nothing here raises for anything a station sends: each unusable message is
counted under a reason in ``drops`` and skipped. Downlinks wait for Station's ``dntxed`` until
``next_deadline()``; the adapter calls ``expire(now)`` when that time comes.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from appliance.lorawan.identifiers import EUI64
from hal.basic_station.channels import UpChannel
from hal.basic_station.datarates import StationDataRates
from hal.basic_station.downlink import (
    DownlinkPlan,
    acknowledge,
    build_dnmsg,
    build_dnsched,
    refused,
)
from hal.basic_station.errors import DownlinkEncodeError, StationMessageError
from hal.basic_station.fields import get_int
from hal.basic_station.router_config import RouterSettings, build_router_config
from hal.basic_station.timing import NS_PER_S, NS_PER_US
from hal.basic_station.uplink import UPLINK_MESSAGE_TYPES, uplink_frame_from_message
from hal.model import DownlinkFrame, DownlinkTxAck, GPSEpoch, TxAckStatus, UplinkFrame

logger = logging.getLogger(__name__)

# What Station forwards in "device mode" (frames heard going to devices): not uplinks.
_DEVICE_MODE_TYPES: Final = frozenset({"dndf", "jacc"})
_MAX_INFO_TEXT: Final = 128


def _text(value: object) -> str:
    return value[:_MAX_INFO_TEXT] if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class SessionConfig:
    rates: StationDataRates
    channels: tuple[UpChannel, ...]
    settings: RouterSettings = field(default_factory=RouterSettings)
    tx_ack_timeout_ns: int = 5 * NS_PER_S
    rate_limit_per_s: float = 200.0
    max_pending_downlinks: int = 64
    gps_timed_as_dnsched: bool = False


@dataclass(frozen=True, slots=True)
class Unacknowledged:
    """A message Station will not confirm (a ``dnsched``): its outcome is known once sent."""

    reply: Reply
    ack: DownlinkTxAck


@dataclass(frozen=True, slots=True)
class StationInfo:
    """What a station said about itself in its ``version`` message."""

    station: str
    firmware: str
    package: str
    model: str
    protocol: int
    features: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reply:
    text: str


SessionOutput = Reply | UplinkFrame | DownlinkTxAck


class TokenBucket:
    """At most ``rate`` messages a second on average, bursts of up to one second's worth."""

    __slots__ = ("_capacity", "_rate_per_ns", "_stamp_ns", "_tokens")

    def __init__(self, rate_per_s: float, now_ns: int) -> None:
        self._capacity = max(rate_per_s, 1.0)
        self._rate_per_ns = rate_per_s / NS_PER_S
        self._tokens = self._capacity
        self._stamp_ns = now_ns

    def allow(self, now_ns: int) -> bool:
        elapsed = max(now_ns - self._stamp_ns, 0)  # a clock stepping back refills nothing
        self._stamp_ns = max(now_ns, self._stamp_ns)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate_per_ns)
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


@dataclass(slots=True)
class _Pending:
    frame: DownlinkFrame
    plan: DownlinkPlan
    deadline_ns: int


class StationSession:
    """The protocol state of one connected station (gateway)."""

    def __init__(
        self,
        gateway_id: EUI64,
        config: SessionConfig,
        *,
        now_ns: int,
        drops: Counter[str] | None = None,
        first_uplink_id: int = 0,
    ) -> None:
        self.gateway_id = gateway_id
        self.config = config
        self.drops: Counter[str] = Counter() if drops is None else drops
        self.info: StationInfo | None = None
        self.configured = False  # Station drops downlinks until it has had a router_config
        self._bucket = TokenBucket(config.rate_limit_per_s, now_ns)
        self._next_uplink_id = first_uplink_id & 0xFFFF_FFFF
        self._pending: dict[int, _Pending] = {}
        self._channel_of = {c.frequency_hz: i for i, c in enumerate(config.channels)}
        handlers: dict[str, Callable[[dict[str, Any], int, int], list[SessionOutput]]] = {
            "version": self._on_version,
            "dntxed": self._on_dntxed,
            "timesync": self._on_timesync,
        }
        handlers |= dict.fromkeys(UPLINK_MESSAGE_TYPES, self._on_uplink)
        self._handlers = handlers

    def _drop(self, reason: str, detail: object = "") -> list[SessionOutput]:
        self.drops[reason] += 1
        logger.debug("station %s: dropped a message (%s) %s", self.gateway_id, reason, detail)
        return []

    def receive_text(self, text: str, now_ns: int, gps_now_ns: int) -> list[SessionOutput]:
        """Handle one text message; ``now_ns`` is Unix time, ``gps_now_ns`` GPS time."""
        if not self._bucket.allow(now_ns):
            return self._drop("rate_limited")
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):
            return self._drop("not_json")
        if type(message) is not dict:
            return self._drop("not_an_object")
        msgtype = message.get("msgtype")
        if type(msgtype) is not str:
            return self._drop("missing_msgtype")
        handler = self._handlers.get(msgtype)
        if handler is None:
            reason = "device_mode_frame" if msgtype in _DEVICE_MODE_TYPES else "unknown_msgtype"
            return self._drop(reason, msgtype[:32])
        try:
            return handler(message, now_ns, gps_now_ns)
        except StationMessageError as exc:
            return self._drop(exc.reason, exc)

    def receive_binary(self) -> None:
        """Binary frames only carry Station's remote shell, which this backend does not offer."""
        self._drop("binary_frame")

    def _on_version(self, message: dict[str, Any], now_ns: int, _: int) -> list[SessionOutput]:
        # What a station says about itself is informational: odd values must not cost it its
        # router_config, without which it never starts its radio.
        features = message.get("features")
        if isinstance(features, list):
            features = " ".join(item for item in features if isinstance(item, str))
        protocol = message.get("protocol")
        self.info = StationInfo(
            station=_text(message.get("station")),
            firmware=_text(message.get("firmware")),
            package=_text(message.get("package")),
            model=_text(message.get("model")),
            protocol=protocol if type(protocol) is int else 0,
            features=tuple(_text(features).split()),
        )
        logger.info("station %s: %s", self.gateway_id, self.info)
        return [self.router_config(now_ns)]

    def router_config(self, now_ns: int) -> Reply:
        self.configured = True
        config = self.config
        message = build_router_config(config.rates, config.channels, config.settings, now_ns)
        return Reply(json.dumps(message))

    def reconfigure(self, channels: tuple[UpChannel, ...], now_ns: int) -> Reply:
        """Switch to other uplink channels; the reply is the router_config to send."""
        self.config = replace(self.config, channels=channels)
        self._channel_of = {c.frequency_hz: i for i, c in enumerate(channels)}
        return self.router_config(now_ns)

    def _on_uplink(self, message: dict[str, Any], now_ns: int, _: int) -> list[SessionOutput]:
        frame = uplink_frame_from_message(
            message,
            gateway_id=self.gateway_id,
            rates=self.config.rates,
            uplink_id=self._next_uplink_id,
            ns_time_ns=now_ns,
            channel_of=self._channel_of,
        )
        self._next_uplink_id = (self._next_uplink_id + 1) & 0xFFFF_FFFF
        return [frame]

    def _on_timesync(self, message: dict[str, Any], now_ns: int, gps: int) -> list[SessionOutput]:
        txtime = message.get("txtime")
        if type(txtime) not in (int, float):
            raise StationMessageError("bad_field:txtime", "expected a number")
        answer = {
            "msgtype": "timesync",
            "txtime": txtime,
            "gpstime": gps // NS_PER_US,
            "MuxTime": now_ns / NS_PER_S,
        }
        return [Reply(json.dumps(answer))]

    def _on_dntxed(self, message: dict[str, Any], _now: int, _gps: int) -> list[SessionOutput]:
        key = "diid" if "diid" in message else "seqno"  # older stations say seqno
        pending = self._pending.pop(get_int(message, key, 0, 0xFFFF_FFFF), None)
        if pending is None:
            return self._drop("unknown_diid")
        return [acknowledge(pending.frame, pending.plan, message)]

    def send_downlink(
        self, frame: DownlinkFrame, now_ns: int, gps_now_ns: int
    ) -> Reply | Unacknowledged | DownlinkTxAck:
        """The dnmsg to send for ``frame`` (or a dnsched for a GPS-timed frame when so
        configured), or its acknowledgement when it cannot be sent."""
        if not self.configured:
            self.drops["downlink_before_router_config"] += 1
            return refused(frame, TxAckStatus.INTERNAL_ERROR)
        if frame.downlink_id in self._pending:
            self.drops["duplicate_downlink_id"] += 1
            return refused(frame, TxAckStatus.INTERNAL_ERROR)
        if len(self._pending) >= self.config.max_pending_downlinks:
            self.drops["downlink_queue_full"] += 1
            return refused(frame, TxAckStatus.QUEUE_FULL)
        timing = frame.items[0].tx_info.timing
        if self.config.gps_timed_as_dnsched and isinstance(timing, GPSEpoch):
            return self._dnsched(frame, now_ns)
        try:
            plan = build_dnmsg(frame, self.config.rates, now_unix_ns=now_ns, now_gps_ns=gps_now_ns)
        except DownlinkEncodeError as exc:
            logger.warning(
                "station %s: downlink %d not sent: %s", self.gateway_id, frame.downlink_id, exc
            )
            return refused(frame, exc.status)
        deadline = now_ns + plan.transmit_within_ns + self.config.tx_ack_timeout_ns
        self._pending[frame.downlink_id] = _Pending(frame, plan, deadline)
        return Reply(json.dumps(plan.message))

    def _dnsched(self, frame: DownlinkFrame, now_ns: int) -> Unacknowledged | DownlinkTxAck:
        try:
            message = build_dnsched([frame], self.config.rates, now_unix_ns=now_ns)
        except DownlinkEncodeError as exc:
            return refused(frame, exc.status)
        # Station never reports on a dnsched, so handing it over is all that can be known.
        statuses = (TxAckStatus.OK,) + (TxAckStatus.IGNORED,) * (len(frame.items) - 1)
        ack = DownlinkTxAck(frame.gateway_id, frame.downlink_id, statuses)
        return Unacknowledged(Reply(json.dumps(message)), ack)

    def deadline_of(self, downlink_id: int) -> int | None:
        pending = self._pending.get(downlink_id)
        return None if pending is None else pending.deadline_ns

    def next_deadline(self) -> int | None:
        return min((p.deadline_ns for p in self._pending.values()), default=None)

    def expire(self, now_ns: int) -> list[DownlinkTxAck]:
        """Acknowledge as ``TOO_LATE`` every downlink whose ``dntxed`` is overdue at ``now_ns``."""
        due = [i for i, p in self._pending.items() if p.deadline_ns <= now_ns]
        return [refused(self._pending.pop(i).frame, TxAckStatus.TOO_LATE) for i in due]

    def close(self) -> list[DownlinkTxAck]:
        """The connection is gone: pending downlinks end with ``INTERNAL_ERROR``."""
        acks = [refused(p.frame, TxAckStatus.INTERNAL_ERROR) for p in self._pending.values()]
        self._pending.clear()
        return acks

    @property
    def pending_downlinks(self) -> Mapping[int, DownlinkFrame]:
        return {i: p.frame for i, p in self._pending.items()}
