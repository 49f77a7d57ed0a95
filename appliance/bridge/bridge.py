"""``UpstreamBridge``: the appliance's gateways, as seen by one central network server.

The runtime offers it the uplinks the routing policy sends upstream and the gateways' statistics;
the bridge keeps the link (MQTT forwarder or Semtech UDP) up with exponential backoff, sends in
reception order, spools while the link is down, replays when it returns, and hands the server's
downlinks to ``transmit`` (the local backend) and their acknowledgements back upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Final

from appliance.bridge.config import BridgeConfig, BridgeConfigError, Encoding, Transport
from appliance.bridge.counters import BridgeCounters, EventSink, Reporter
from appliance.bridge.link import Link, LinkError, LinkSession, first_to_finish
from appliance.bridge.mqtt_link import MQTTLink
from appliance.bridge.outbox import Entry, Outbox, UpstreamUplink
from appliance.bridge.spool import Spool
from appliance.bridge.udp_link import SemtechUDPLink
from appliance.lorawan.identifiers import EUI64
from hal.model import (
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConfiguration,
    GatewayStats,
    TxAckStatus,
    UplinkFrame,
)
from hal.proto import ProtoConversionError, serialize_uplink

logger = logging.getLogger("appliance.bridge")

Transmit = Callable[[DownlinkFrame], Awaitable[DownlinkTxAck]]
Configure = Callable[[GatewayConfiguration], Awaitable[None]]
Wait = Callable[[float], Awaitable[None]]

BATCH: Final = 32  # uplinks per send_uplinks call
BATCHES_IN_FLIGHT: Final = 8  # links keep their order across calls (MQTT: one TCP stream)
_STATS_QUEUE: Final = 16  # statistics are periodic: a newer report replaces a lost one
_GOODBYE_TIMEOUT_S: Final = 2.0
_REPORTED_UNKNOWN: Final = 64  # unknown gateway IDs logged (each once), bounded


class UpstreamBridge:
    def __init__(
        self,
        config: BridgeConfig,
        *,
        data_dir: Path,
        gateway_ids: Sequence[EUI64] = (),
        transmit: Transmit,
        configure: Configure | None = None,
        events: EventSink | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
        reconnect_wait: Wait = asyncio.sleep,
    ) -> None:
        self.config = config
        self.gateway_ids = tuple(dict.fromkeys((*gateway_ids, *config.gateway_ids)))
        if not self.gateway_ids:
            raise BridgeConfigError("bridge.gateway_ids: no gateway ID to represent upstream")
        self.spool_path = data_dir / config.store.file
        self.counters = BridgeCounters()
        self._transmit = transmit
        self._configure = configure
        self._clock = clock
        self._wall_clock = wall_clock
        self._reconnect_wait = reconnect_wait
        self.reporter = Reporter(_describe(config), events, clock=clock)
        self.link: Link = self._make_link(config)
        self._known = frozenset(self.gateway_ids)
        # Semtech UDP and MQTT-JSON write from the model; protobuf MQTT sends the bytes as stored.
        self._needs_model = (
            config.transport is Transport.SEMTECH_UDP or config.mqtt.encoding is Encoding.JSON
        )
        self._unknown_reported: set[EUI64] = set()
        self._outbox: Outbox | None = None
        self._stats: deque[GatewayStats] = deque()
        self._work = asyncio.Event()
        self._session: LinkSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False

    def _make_link(self, config: BridgeConfig) -> Link:
        if config.transport is Transport.MQTT:
            return MQTTLink(
                config.mqtt, self.gateway_ids, counters=self.counters, reporter=self.reporter
            )
        return SemtechUDPLink(
            config.semtech_udp,
            self.gateway_ids,
            counters=self.counters,
            reporter=self.reporter,
            clock=self._clock,
            wall_clock=self._wall_clock,
        )

    # -- state -------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.counters.connected

    @property
    def backlog(self) -> int:
        """Uplinks not yet acknowledged upstream (memory and spool)."""
        return 0 if self._outbox is None else self._outbox.backlog

    @property
    def in_flight(self) -> int:
        """Uplinks sent and awaiting the acknowledgement of the broker or server."""
        return 0 if self._outbox is None else self._outbox.in_flight

    @property
    def spool_bytes(self) -> int:
        return 0 if self._outbox is None else self._outbox.spool.size_bytes

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the spool and start connecting; returns at once (the link comes up later).

        Raises ``SpoolError`` when the spool file cannot be used.
        """
        if self._outbox is not None or self._stopped:
            raise RuntimeError("an UpstreamBridge can be started once")
        spool = Spool.open(self.spool_path)
        self._outbox = Outbox(
            spool,
            self.config.store,
            counters=self.counters,
            reporter=self.reporter,
            wall_clock=self._wall_clock,
        )
        if spool.count:
            self.reporter.report(
                "info", "spool_loaded", f"{spool.count} spooled uplinks wait for the link"
            )
        self._tasks = [
            asyncio.create_task(self._run(), name="bridge link"),
            asyncio.create_task(self._flush_periodically(), name="bridge spool flush"),
        ]

    async def stop(self) -> None:
        """Say goodbye upstream, disconnect, and keep every unsent uplink in the spool."""
        if self._stopped:
            return
        self._stopped = True
        session = self._session
        if session is not None:
            with contextlib.suppress(TimeoutError, LinkError):
                async with asyncio.timeout(_GOODBYE_TIMEOUT_S):
                    await session.say_goodbye()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._outbox is not None:
            backlog = self._outbox.backlog
            self._outbox.close()
            if backlog:
                self.reporter.report("info", "stopped", f"stopped with {backlog} uplinks spooled")
        self.counters.connected = False

    # -- in ----------------------------------------------------------------------------------

    def offer_uplink(self, frame: UplinkFrame) -> None:
        """Send ``frame`` upstream (now, or from the spool when the link is back)."""
        outbox = self._outbox
        if outbox is None or self._stopped:
            self.counters.dropped["not_running"] += 1
            return
        gateway_id = frame.rx_info.gateway_id
        if gateway_id not in self._known:
            self._unknown_gateway(gateway_id)
            return
        try:
            data = serialize_uplink(frame)
        except ProtoConversionError as error:
            self.counters.dropped["unencodable"] += 1
            self.reporter.report("warning", "unencodable", f"uplink not forwarded: {error}")
            return
        outbox.offer(frame, data)
        self._work.set()

    def offer_stats(self, stats: GatewayStats) -> None:
        """Send a statistics report upstream if the link is up (they are not spooled)."""
        if stats.gateway_id not in self._known:
            self.counters.dropped["stats_unknown_gateway"] += 1
            return
        if not self.counters.connected:
            self.counters.dropped["stats_link_down"] += 1
            return
        if len(self._stats) >= _STATS_QUEUE:
            self._stats.popleft()
            self.counters.dropped["stats_overflow"] += 1
        self._stats.append(stats)
        self._work.set()

    def _unknown_gateway(self, gateway_id: EUI64) -> None:
        self.counters.dropped["unknown_gateway"] += 1
        if gateway_id not in self._unknown_reported and len(self._unknown_reported) < (
            _REPORTED_UNKNOWN
        ):
            self._unknown_reported.add(gateway_id)
            self.reporter.report(
                "warning",
                "unknown_gateway",
                f"uplinks of gateway {gateway_id} are not forwarded: it is not one of "
                f"{', '.join(map(str, self.gateway_ids))}",
            )

    # -- CommandSink -------------------------------------------------------------------------

    async def downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        if frame.gateway_id not in self._known:
            self.counters.commands_rejected["unknown_gateway"] += 1
            ack = _refused(frame, TxAckStatus.INTERNAL_ERROR)
        else:
            try:
                ack = await self._transmit(frame)
            except Exception as error:  # the local backend must not take the link down
                self.reporter.report(
                    "error", "transmit_failed", f"downlink {frame.downlink_id} failed: {error!r}"
                )
                ack = _refused(frame, TxAckStatus.INTERNAL_ERROR)
        self.counters.downlinks[_outcome(ack).name] += 1
        return ack

    async def configure(self, configuration: GatewayConfiguration) -> None:
        if self._configure is None:
            self.reporter.report(
                "info",
                "configuration_ignored",
                f"configuration {configuration.version!r} for {configuration.gateway_id} "
                "ignored (no local backend takes it)",
            )
            return
        try:
            await self._configure(configuration)
        except Exception as error:
            self.reporter.report(
                "error", "configure_failed", f"configuration {configuration.version!r}: {error!r}"
            )

    # -- the link ----------------------------------------------------------------------------

    def _backoff_s(self, attempt: int) -> float:
        config = self.config
        return min(config.reconnect_max_s, config.reconnect_min_s * float(2 ** min(attempt, 30)))

    async def _run(self) -> None:
        assert self._outbox is not None
        outbox = self._outbox
        attempt = 0
        while True:
            was_up = False
            try:
                async with self.link.session(self) as session:
                    self._session = session
                    was_up = True
                    attempt = 0
                    self._link_up(outbox)
                    await first_to_finish(session.serve(), self._pump(session, outbox))
            except LinkError as error:
                self._link_failed(error, was_up, attempt)
            except Exception as error:  # a bug must not end the bridge: count, log, reconnect
                logger.exception("bridge: link failed unexpectedly")
                self._link_failed(LinkError("internal", repr(error)), was_up, attempt)
            finally:
                self._session = None
                if was_up:
                    self.counters.connected = False
                    outbox.link_lost()
            await self._reconnect_wait(self._backoff_s(attempt))
            attempt += 1

    def _link_up(self, outbox: Outbox) -> None:
        self.counters.connects += 1
        self.counters.connected = True
        outbox.link_restored()
        backlog = outbox.backlog
        note = f"; replaying {backlog} uplinks" if backlog else ""
        self.reporter.report("info", "link_up", f"connected{note}")
        self._work.set()

    def _link_failed(self, error: LinkError, was_up: bool, attempt: int) -> None:
        self.counters.link_errors[error.kind] += 1
        what = "link lost" if was_up else "cannot connect"
        retry = self._backoff_s(0 if was_up else attempt)
        self.reporter.report(
            "warning", f"link_{error.kind}", f"{what}: {error}; retrying in {retry:g} s"
        )

    async def _pump(self, session: LinkSession, outbox: Outbox) -> None:
        """Keep up to ``BATCHES_IN_FLIGHT`` batches on the wire: waiting for each batch's
        acknowledgements before sending the next would leave the link idle for a round trip
        (and, with Nagle and delayed ACKs, for tens of milliseconds) per batch."""
        sending: set[asyncio.Task[None]] = set()
        try:
            while True:
                for task in [task for task in sending if task.done()]:
                    sending.discard(task)
                    task.result()  # a failed batch: the link is gone (raises LinkError)
                while self._stats:
                    await session.send_stats(self._stats[0])
                    self._stats.popleft()
                    self.counters.stats_sent += 1
                if len(sending) < BATCHES_IN_FLIGHT:
                    batch = outbox.take(BATCH)
                    if batch:
                        sending.add(asyncio.create_task(self._send(session, outbox, batch)))
                        continue
                self._work.clear()
                if len(sending) < BATCHES_IN_FLIGHT and (outbox.has_work() or self._stats):
                    continue
                work = asyncio.create_task(self._work.wait())
                try:
                    await asyncio.wait({work, *sending}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    work.cancel()
        finally:
            for task in sending:
                task.cancel()
            for task in sending:
                with contextlib.suppress(asyncio.CancelledError, LinkError):
                    await task

    async def _send(self, session: LinkSession, outbox: Outbox, batch: list[Entry]) -> None:
        uplinks: list[UpstreamUplink] = []
        for entry in batch:
            try:
                uplink = outbox.prepare(entry)
                if self._needs_model:
                    uplink.frame  # noqa: B018 - decode now: a frame that cannot is dropped here
                uplinks.append(uplink)
            except ProtoConversionError as error:
                outbox.discard([entry], "unencodable")
                self.reporter.report("warning", "unencodable", f"uplink dropped: {error}")
        await session.send_uplinks(uplinks)
        outbox.acknowledge(batch)
        self.counters.uplinks_sent += len(uplinks)
        self.counters.uplinks_replayed += sum(1 for uplink in uplinks if uplink.delayed)

    async def _flush_periodically(self) -> None:
        # Checked at least once a second; the wall clock (an input) decides when it is due.
        interval_s = min(max(self.config.store.flush_interval_ms, 100) / 1000, 1.0)
        while True:
            await asyncio.sleep(interval_s)
            outbox = self._outbox
            if outbox is not None and not outbox.link_up and outbox.flush_due(self._wall_clock()):
                outbox.flush()


def _describe(config: BridgeConfig) -> str:
    if config.transport is Transport.MQTT:
        return f"mqtt {config.mqtt.host}:{config.mqtt.port}"
    return f"semtech-udp {config.semtech_udp.server}"


def _refused(frame: DownlinkFrame, status: TxAckStatus) -> DownlinkTxAck:
    return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (status,) * len(frame.items))


def _outcome(ack: DownlinkTxAck) -> TxAckStatus:
    """OK when an item was sent, else the last refusal."""
    if ack.sent_item is not None:
        return TxAckStatus.OK
    refusals = [status for status in ack.items if status is not TxAckStatus.IGNORED]
    return refusals[-1] if refusals else TxAckStatus.IGNORED
