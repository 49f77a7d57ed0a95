"""The asynchronous uplink pipeline: a de-duplicated frame in, events and a downlink out.

Each step is a pure function from ``uplink/`` and ``downlink/``; this module adds the storage
calls, the ordering rule that makes crashes safe (the new session is durably stored before any
event or downlink that depends on it leaves), and the sending of the downlink.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import FrameError, InvalidValueError
from appliance.lorawan.frames import DataFrame, JoinRequest, RejoinRequest02, RejoinRequest1
from appliance.lorawan.identifiers import EUI64
from appliance.ns import mac
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.downlink import data as data_downlink
from appliance.ns.downlink.confirmations import AckTimers, AwaitedAck
from appliance.ns.downlink.gateways import gateway_alternatives
from appliance.ns.downlink.windows import (
    RxWindow,
    data_windows,
    still_reachable,
)
from appliance.ns.events import (
    DeviceMACEvent,
    LogEvent,
    Metrics,
    NSEvent,
    TxAckEvent,
)
from appliance.ns.keylocks import KeyLocks
from appliance.ns.network import NetworkSettings
from appliance.ns.pipeline_joins import JoinHandling
from appliance.ns.profile import DeviceProfile
from appliance.ns.radio import data_rate_of
from appliance.ns.session import PendingMACRequest
from appliance.ns.store import NSStore
from appliance.ns.uplink import data_flow, validation
from hal.model import DownlinkFrame, DownlinkTxAck, TxAckStatus

log = logging.getLogger(__name__)

Sender = Callable[[DownlinkFrame], Awaitable[DownlinkTxAck]]
EventSink = Callable[[NSEvent], None]


def _warning(dev_eui: EUI64, code: str, detail: str) -> LogEvent:
    return LogEvent(dev_eui, "warning", code, detail or code)


@dataclass(frozen=True, slots=True)
class _Answer:
    """A data downlink built and counted in its session, not yet transmitted."""

    built: data_downlink.DataDownlink
    windows: tuple[RxWindow, ...]
    # What to restore if no gateway transmits it: pending MAC requests, ConfFCnt, its
    # timed-out flag, the DevStatusReq stamp.
    unsent: tuple[dict[int, PendingMACRequest], int | None, bool, int | None]


@dataclass(slots=True)
class Pipeline(JoinHandling):
    settings: NetworkSettings
    store: NSStore
    send: Sender
    emit: EventSink
    clock: Callable[[], int]  # monotonic ns
    rng: random.Random = field(default_factory=random.SystemRandom)
    policy: mac.MACPolicy = field(default_factory=mac.MACPolicy)
    metrics: Metrics = field(default_factory=Metrics)
    ack_timers: AckTimers = field(default_factory=AckTimers)
    on_timer: Callable[[], None] = field(default=lambda: None)  # a new ACK deadline was set
    _downlink_id: int = 0
    # DevAddr (data frames) or DevEUI (joins, rejoins, timeouts) -> held while processing.
    _locks: KeyLocks = field(default_factory=KeyLocks)

    async def handle(self, uplink: DeduplicatedUplink) -> None:
        """Process one de-duplicated uplink; never raises for anything the radio sent."""
        try:
            frame = decode_phy_payload(uplink.phy_payload)
        except FrameError as exc:
            self._drop("invalid_frame", str(exc))
            return
        try:
            if isinstance(frame, DataFrame) and frame.uplink:
                key = bytes(frame.dev_addr)
                await self._locks.acquire(key)
                try:
                    await self._data(frame, uplink)
                finally:
                    self._locks.release(key)
            elif isinstance(frame, JoinRequest):
                async with self._locks.hold(bytes(frame.dev_eui)):
                    await self._join(frame, uplink)
            elif isinstance(frame, RejoinRequest02 | RejoinRequest1):
                async with self._locks.hold(bytes(frame.dev_eui)):
                    await self._rejoin(frame, uplink)
            else:
                self._drop("unsupported_message_type", frame.mtype.label)
        except InvalidValueError as exc:
            # A frame on a channel or data rate the region does not have, or a session that no
            # longer fits the region's tables: the radio's fault, not ours.
            self._drop("invalid_radio_parameters", str(exc))

    def _drop(self, reason: str, detail: str = "") -> None:
        self.metrics.dropped[reason] += 1
        log.debug("uplink dropped: %s %s", reason, detail)

    def _warn(self, dev_eui: EUI64, code: str, detail: str) -> None:
        self.emit(_warning(dev_eui, code, detail))

    def _next_downlink_id(self) -> int:
        self._downlink_id = (self._downlink_id + 1) & 0xFFFFFFFF
        return self._downlink_id

    # --- data uplinks ------------------------------------------------------------------------

    async def _data(self, frame: DataFrame, uplink: DeduplicatedUplink) -> None:
        region = self.settings.region
        dr = data_rate_of(region, uplink.tx_info.modulation, uplink=True)
        candidates = await self.store.sessions_by_dev_addr(frame.dev_addr)
        # A session built by a rejoin takes over with the first uplink that verifies under it.
        candidates += [
            (dev_eui, session.pending_rejoin_session)
            for dev_eui, session in candidates
            if session.pending_rejoin_session is not None
        ]
        verdict = validation.match_device(
            frame,
            candidates,
            region,
            validation.UplinkRadio(dr, uplink.tx_info.frequency),
            max_f_cnt_gap=self.settings.max_f_cnt_gap,
        )
        if isinstance(verdict, validation.Rejected):
            self._drop(verdict.reason.value, verdict.detail)
            # A MIC failure names a device only when no other one has this DevAddr.
            if verdict.dev_eui is not None and (
                verdict.reason is not validation.Rejection.MIC_FAILED
                or len({dev_eui for dev_eui, _ in candidates}) == 1
            ):
                self._warn(verdict.dev_eui, verdict.reason.value, verdict.detail)
            return
        device = await self.store.device_settings(verdict.dev_eui)
        profile = None if device is None else await self.store.profile(device.profile_id)
        if device is None or profile is None or not device.enabled:
            self._drop("device_disabled_or_missing")
            return
        too_long = validation.too_long_for_region(
            uplink.phy_payload, region, dr, verdict.session.uplink_dwell_time_400ms
        )
        if too_long is not None:
            self._drop(validation.Rejection.FRAME_TOO_LONG.value, too_long)
            self._warn(verdict.dev_eui, validation.Rejection.FRAME_TOO_LONG.value, too_long)
            return
        ctx = mac.MACContext(
            now_ns=self.clock(),
            profile=profile,
            settings=self.settings,
            uplink=data_flow.uplink_meta(uplink, dr),
            policy=self.policy,
            device_variables=device.variables,
        )
        outcome = data_flow.process(frame, verdict, uplink, dr=dr, ctx=ctx)
        session = verdict.session
        ack_timeout_ns = self._ack_timeout_ns(profile)
        # The answer is decided before the uplink is stored unless the application gets a
        # moment to add to it: then the uplink's counters and the answer's are stored in one
        # durable write (one fsync on the way from frame to downlink, not two).
        wait = bool(self.settings.downlink_wait_ms and outcome.uplink_event is not None)
        answer_now = not wait and not (verdict.retransmission and outcome.downlink is None)
        # The application's moment counts from now, so the store's commit (up to its relaxed
        # interval) runs inside it rather than before it.
        wait_until_ns = self.clock() + self.settings.downlink_wait_ms * 1_000_000
        notes: list[NSEvent] = []  # about the answer, emitted after the uplink's events
        answer = await self._plan_answer(verdict, uplink, outcome, notes) if answer_now else None
        # Durable before anything that depends on the new counters leaves the process; only
        # then is the uplink counted as accepted (a full disk refuses it).
        # Urgent when an answer waits for this commit: the device's receive window does not
        # wait for relaxed commits. An answer planned after the application's moment is saved
        # (urgently) again then, so this commit may take the relaxed pace when that fits well
        # inside the moment: fewer commits, each a rewritten block of the card.
        urgent = answer is not None or (
            outcome.downlink is not None
            and (not wait or self.settings.downlink_wait_ms < 2_000 * self.store.relaxed_commit_s)
        )
        # An answer sure to follow the moment (an ACK, MAC commands) has its counter reserved
        # in this write: it leaves as soon as it is built, with no commit in between.
        reserved = session.n_f_cnt_down if wait and outcome.downlink is not None else None
        stored = session if reserved is None else replace(session, n_f_cnt_down=reserved + 1)
        await self.store.save_session(verdict.dev_eui, stored, urgent=urgent)
        self.metrics.uplinks += 1
        for event in (outcome.uplink_event, outcome.ack_event):
            if event is not None:
                self.emit(event)
        for mac_event in outcome.mac_events:
            self.emit(DeviceMACEvent(verdict.dev_eui, mac_event))
        if outcome.ack_event is not None:
            # Acknowledged or not, the item is done (the ``ack`` event says which).
            self.ack_timers.settle(verdict.dev_eui)
            await self.store.queue_item_acknowledged(verdict.dev_eui, outcome.ack_event.f_cnt_down)
        if answer_now:
            for note in notes:
                self.emit(note)
            if answer is not None:
                await self._send_answer(verdict, uplink, answer, ack_timeout_ns=ack_timeout_ns)
            return
        if not wait:
            return  # a retransmission that needs no answer
        await self._answer_after_moment(
            verdict,
            uplink,
            outcome,
            notes,
            wait_until_ns=wait_until_ns,
            reserved=reserved,
            ack_timeout_ns=ack_timeout_ns,
        )

    async def _answer_after_moment(
        self,
        verdict: validation.Accepted,
        uplink: DeduplicatedUplink,
        outcome: data_flow.DataOutcome,
        notes: list[NSEvent],
        *,
        wait_until_ns: int,
        reserved: int | None,
        ack_timeout_ns: int,
    ) -> None:
        """Give the application its moment to enqueue a reply to this very uplink, then
        answer; ``reserved``: the NFCntDown the uplink's write made durable for the answer."""
        await asyncio.sleep(max(wait_until_ns - self.clock(), 0) / 1e9)
        answer = await self._plan_answer(verdict, uplink, outcome, notes)
        for note in notes:
            self.emit(note)
        if answer is None:
            return
        built, session = answer.built, verdict.session
        if reserved is not None and not built.application_counter and built.f_cnt == reserved:
            # What else it changed (pending MAC requests, ConfFCnt) follows at the relaxed pace.
            if await self._send_answer(verdict, uplink, answer, ack_timeout_ns=ack_timeout_ns):
                await self.store.save_session(verdict.dev_eui, session, urgent=False)
            return
        await self.store.save_session(verdict.dev_eui, session)
        await self._send_answer(verdict, uplink, answer, ack_timeout_ns=ack_timeout_ns)

    async def _plan_answer(
        self,
        verdict: validation.Accepted,
        uplink: DeduplicatedUplink,
        outcome: data_flow.DataOutcome,
        notes: list[NSEvent],
    ) -> _Answer | None:
        """Build the answer to a data uplink and count it in the session (not stored yet);
        None when there is nothing to say or no window left. Log events go to ``notes``."""
        session, dev_eui = verdict.session, verdict.dev_eui
        windows = self._reachable(
            data_windows(self.settings.region, self.settings, session, uplink.tx_info), uplink
        )
        if not windows:
            self.metrics.downlinks["window_missed"] += 1
            notes.append(
                _warning(dev_eui, "downlink_window_missed", "every receive window has passed")
            )
            return None
        max_payload = min(window.max_mac_payload for window in windows)
        item, more = (None, False)
        if not verdict.retransmission:
            item, more = await self.store.next_queue_item(dev_eui, self.clock())
        if outcome.downlink is None and item is None:
            return None  # nothing to say (what ``data_downlink.build`` would conclude)
        need = replace(
            outcome.downlink or data_downlink.DownlinkNeed(adr=not self.settings.adr_disabled),
            item=item,
            more_queued=more,
        )
        built, too_large = data_downlink.build(session, need, max_payload)
        if too_large and item is not None:
            await self.store.drop_queue_item(dev_eui, item.id)
            notes.append(
                LogEvent(
                    dev_eui,
                    "error",
                    "payload_too_large",
                    f"downlink of {len(item.data)} bytes exceeds the maximum "
                    f"payload at this data rate; dropped",
                )
            )
        if built is None:
            return None
        # What a downlink that no gateway transmits must not leave behind (the counter stays
        # advanced: a frame may have gone out without its TX_ACK coming back).
        unsent = (
            dict(session.pending_mac_requests),
            session.conf_f_cnt,
            session.conf_f_cnt_timed_out,
            session.last_device_status_request_ns,
        )
        data_downlink.advance_counters(session, built)
        if built.mac_commands:
            mac.record_sent(
                session, built.mac_commands, f_cnt_down=built.f_cnt, now_ns=self.clock()
            )
        return _Answer(built, windows, unsent)

    async def _send_answer(
        self,
        verdict: validation.Accepted,
        uplink: DeduplicatedUplink,
        answer: _Answer,
        *,
        ack_timeout_ns: int,
    ) -> bool:
        """Transmit an answer whose counters are durable; undo what it left behind (and
        store that) if no gateway takes it. Whether one did."""
        session, dev_eui, built = verdict.session, verdict.dev_eui, answer.built
        sent = await self._transmit(
            dev_eui,
            uplink,
            answer.windows,
            built.frame.encode(),
            f_cnt_down=built.f_cnt,
            queue_item_id=None if built.item is None else built.item.id,
        )
        if not sent:
            (
                session.pending_mac_requests,
                session.conf_f_cnt,
                session.conf_f_cnt_timed_out,
                session.last_device_status_request_ns,
            ) = answer.unsent
            await self.store.save_session(dev_eui, session)
            return False
        if built.item is not None:
            await self.store.queue_item_sent(
                dev_eui, built.item.id, f_cnt_down=built.f_cnt, confirmed=built.item.confirmed
            )
        if built.frame.confirmed:
            self.ack_timers.arm(dev_eui, built.f_cnt, self.clock() + ack_timeout_ns)
            self.on_timer()
        return True

    def _reachable(
        self, windows: tuple[RxWindow, ...], uplink: DeduplicatedUplink
    ) -> tuple[RxWindow, ...]:
        elapsed = self.clock() - uplink.first_seen_ns
        lead = self.settings.rx_window_lead_ms * 1_000_000
        return still_reachable(windows, elapsed_ns=elapsed, lead_ns=lead)

    def _drop_downlink(self, dev_eui: EUI64, detail: str) -> None:
        self.metrics.downlinks["window_missed"] += 1
        self._warn(dev_eui, "downlink_window_missed", detail)

    async def _transmit(
        self,
        dev_eui: EUI64,
        uplink: DeduplicatedUplink,
        windows: tuple[RxWindow, ...],
        phy_payload: bytes,
        *,
        f_cnt_down: int,
        queue_item_id: uuid.UUID | None = None,
    ) -> bool:
        """Through the best gateway; one that refuses every window passes it to the next."""
        alternatives = gateway_alternatives(
            self._next_downlink_id(),
            uplink,
            windows=windows,
            phy_payload=phy_payload,
            region=self.settings.region,
            settings=self.settings,
        )
        for frame in alternatives:
            ack = await self.send(frame)
            self._report_tx(dev_eui, frame, ack, f_cnt_down, queue_item_id)
            if ack.sent_item is not None:
                return True
        return False

    def _ack_timeout_ns(self, profile: DeviceProfile) -> int:
        timeout_s = self.settings.confirmed_downlink_timeout_s or 2 * profile.uplink_interval_s
        return int(timeout_s * 1_000_000_000)

    async def rearm_confirmations(self) -> int:
        """After a start: wait again for the ACKs of the confirmed downlinks sent before it
        (their timers lived in memory), each for a whole timeout from now, so a device that
        stays silent still gets its downlink reported unacknowledged. How many there were."""
        awaited = await self.store.awaited_acks()
        for dev_eui, f_cnt_down in awaited:
            device = await self.store.device_settings(dev_eui)
            profile = None if device is None else await self.store.profile(device.profile_id)
            if profile is not None:
                deadline_ns = self.clock() + self._ack_timeout_ns(profile)
                self.ack_timers.arm(dev_eui, f_cnt_down, deadline_ns)
        return len(awaited)

    async def confirmations_timed_out(self, expired: Sequence[AwaitedAck]) -> None:
        """Report confirmed downlinks whose ACK did not come in time (``ack_timers.due``) as
        unacknowledged, unless an uplink settled them meanwhile."""
        for awaited in expired:
            # The DevEUI lock keeps a join out, the DevAddr lock the device's uplinks.
            async with self._locks.hold(bytes(awaited.dev_eui)):
                await self._expire_confirmation(awaited.dev_eui, awaited.f_cnt_down)

    async def _expire_confirmation(self, dev_eui: EUI64, f_cnt_down: int) -> None:
        device = await self.store.device(dev_eui)
        session = None if device is None else device.session
        if session is None:
            return
        async with self._locks.hold(bytes(session.dev_addr)):
            device = await self.store.device(dev_eui)  # an uplink may have settled it meanwhile
            session = None if device is None else device.session
            if session is None or session.conf_f_cnt != f_cnt_down or session.conf_f_cnt_timed_out:
                return
            session.conf_f_cnt_timed_out = True
            await self.store.save_session(dev_eui, session, urgent=False)
            await self.store.queue_item_acknowledged(dev_eui, f_cnt_down)
            self.metrics.ack_timeouts += 1
            self.emit(data_flow.AckEvent(dev_eui, f_cnt_down, acknowledged=False))

    def _report_tx(
        self,
        dev_eui: EUI64,
        frame: DownlinkFrame,
        ack: DownlinkTxAck,
        f_cnt_down: int,
        queue_item_id: uuid.UUID | None,
    ) -> None:
        sent = ack.sent_item
        status = (
            ack.items[sent]
            if sent is not None
            else (ack.items[-1] if ack.items else TxAckStatus.INTERNAL_ERROR)
        )
        self.metrics.downlinks[status.name] += 1
        tx_info = (
            frame.items[sent].tx_info if sent is not None and sent < len(frame.items) else None
        )
        self.emit(
            TxAckEvent(
                dev_eui,
                frame.downlink_id,
                f_cnt_down,
                frame.gateway_id,
                status,
                queue_item_id=queue_item_id,
                tx_info=tx_info,
            )
        )
