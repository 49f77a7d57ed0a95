"""From network-server events to application events: device information, payload decoding,
the ChirpStack-format records, and their consumers (event log, live stream, integrations).

Runs in the application server's worker, in event order; a codec failure becomes a ``log``
event next to the undecoded ``up``, never a lost uplink.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appliance.app.events import (
    DeviceClass,
    DeviceInfo,
    EventBroker,
    EventContext,
    EventLog,
    EventRecord,
    FrameRecord,
    application_events,
    downlink_frame_log,
    uplink_frame_log,
)
from appliance.app.repository import NotFoundError, Repository
from appliance.codecs import CodecError, CodecRunner, CodecSpec
from appliance.lorawan.identifiers import EUI64
from appliance.ns.events import LogEvent, NSEvent, TxAckEvent
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import DownlinkFrame, DownlinkTxAck, UplinkFrame

log = logging.getLogger("appliance.app")
DEVICE_INFO_TTL_S = 10.0  # names and tags changed through the API show within this time

RecordSink = Callable[[list[EventRecord]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Cached:
    info: DeviceInfo
    codec: CodecSpec
    variables: dict[str, str]
    at: float


class EventFlow:
    def __init__(
        self,
        store: SQLiteStore,
        repository: Repository,
        *,
        region_config_id: str,
        monotonic: Callable[[], float],
        codecs: CodecRunner | None = None,
        event_log: EventLog | None = None,
        broker: EventBroker | None = None,
    ) -> None:
        self.store = store
        self.repository = repository
        self.region_config_id = region_config_id
        self.monotonic = monotonic
        self.codecs = codecs
        self.event_log = event_log
        self.broker = broker
        self.sinks: list[RecordSink] = []  # the integrations' outbox, when running
        self._devices: dict[EUI64, _Cached] = {}
        self.decode_errors = 0

    def forget(self, dev_eui: EUI64) -> None:
        self._devices.pop(dev_eui, None)

    async def _device(self, dev_eui: EUI64) -> _Cached | None:
        now = self.monotonic()
        cached = self._devices.get(dev_eui)
        if cached is not None and now - cached.at < DEVICE_INFO_TTL_S:
            return cached
        device = await self.store.device_settings(dev_eui)
        if device is None:
            self._devices.pop(dev_eui, None)
            return None
        profile = await self.store.profile(device.profile_id)
        try:
            app_name = self.repository.application(device.application_id).name
        except NotFoundError:
            app_name = ""
        runtime, script = self.repository.codec(device.profile_id)
        try:
            codec = CodecSpec(runtime, script)  # type: ignore[arg-type]
        except CodecError:
            codec = CodecSpec("none")
        info = DeviceInfo(
            application_id=device.application_id,
            application_name=app_name,
            device_profile_id=device.profile_id,
            device_profile_name="" if profile is None else profile.name,
            device_name=device.name,
            dev_eui=device.dev_eui,
            device_class=DeviceClass.CLASS_A,
            tags={**({} if profile is None else profile.tags), **device.tags},
        )
        entry = _Cached(info, codec, dict(device.variables), now)
        self._devices[dev_eui] = entry
        return entry

    async def _decode(
        self, event: UplinkEvent, device: _Cached, at: datetime
    ) -> tuple[dict[str, Any] | None, LogEvent | None]:
        if self.codecs is None or device.codec.runtime == "none" or not event.f_port:
            return None, None
        try:
            result = await self.codecs.decode_uplink(
                device.codec,
                f_port=event.f_port,
                data=event.data,
                recv_time=at,
                variables=device.variables,
            )
        except (CodecError, ValueError) as error:
            self.decode_errors += 1
            problem = LogEvent(event.dev_eui, "error", "uplink_codec", f"payload codec: {error}")
            return None, problem
        return (None if result is None else result.object), None

    async def handle_batch(self, batch: list[tuple[NSEvent, datetime]]) -> None:
        """The records of a batch of events, published together (one outbox commit)."""
        records: list[EventRecord] = []
        for event, at in batch:
            try:
                records += await self.records_of(event, at)
            except Exception:
                log.exception("no application event for %s", type(event).__name__)
        await self.publish(records)

    async def handle(self, event: NSEvent, at: datetime) -> None:
        await self.publish(await self.records_of(event, at))

    async def records_of(self, event: NSEvent, at: datetime) -> list[EventRecord]:
        dev_eui: EUI64 = event.dev_eui
        device = await self._device(dev_eui)
        if device is None:
            return []  # removed meanwhile
        decoded, problem = None, None
        if isinstance(event, UplinkEvent):
            decoded, problem = await self._decode(event, device, at)
        tx_ack = event if isinstance(event, TxAckEvent) else None
        context = EventContext(
            time=at,
            deduplication_id=uuid.uuid4(),
            region_config_id=self.region_config_id,
            decoded=decoded,
            queue_item_id=None if tx_ack is None else tx_ack.queue_item_id,
            downlink_tx_info=None if tx_ack is None else tx_ack.tx_info,
        )
        records = application_events(event, device.info, context)
        if problem is not None:
            records += application_events(problem, device.info, context)
        return records

    async def publish(self, records: list[EventRecord]) -> None:
        if not records:
            return
        # Integrations first: their outbox makes the events durable before anyone sees them.
        for sink in self.sinks:
            await sink(records)
        for record in records:
            if self.event_log is not None:
                self.event_log.append_event(record)
            if self.broker is not None:
                self.broker.publish(record)

    # --- frames (the network server's tap: every reception and every downlink) --------------

    def uplink_frame(self, frame: UplinkFrame, at: datetime) -> None:
        self._frame(lambda: uplink_frame_log(frame, time=at))

    def downlink_frame(self, frame: DownlinkFrame, ack: DownlinkTxAck | None, at: datetime) -> None:
        self._frame(lambda: downlink_frame_log(frame, ack, time=at))

    def _frame(self, build: Callable[[], FrameRecord]) -> None:
        if self.event_log is None and (self.broker is None or not self.broker.subscriber_count):
            return
        try:
            record = build()
        except Exception as error:
            log.debug("frame not logged: %s", error)
            return
        if self.event_log is not None:
            self.event_log.append_frame(record)
        if self.broker is not None:
            self.broker.publish(record)
