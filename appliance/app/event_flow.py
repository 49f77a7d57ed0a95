"""From network-server events to application events: device information, payload decoding,
the ChirpStack-format records, and their consumers (event log, live stream, integrations).

Runs in the application server's worker, in event order; a codec failure becomes a ``log``
event next to the undecoded ``up``, never a lost uplink.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
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
)
from appliance.app.events.device_info import DeviceBlock
from appliance.app.events.uplink_records import (
    DeduplicationIds,
    Receptions,
    up_record,
    uplink_frame_record,
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
# Devices whose information (and its ready-made deviceInfo block: about 2 KB, 96 µs to make)
# stays in memory; the least recently heard go first. As many as the network server's session
# cache, so a network that fits one fits the other; unbounded, 100,000 devices took 200 MB.
DEVICE_CACHE_SIZE = 10_240

RecordSink = Callable[[list[EventRecord]], Awaitable[None]]


class _Cached:
    """A device's information, valid until ``expires``; ``block`` is its ``deviceInfo`` as
    events carry it, kept across refreshes while the information stays the same."""

    __slots__ = ("block", "codec", "expires", "variables")

    def __init__(
        self, block: DeviceBlock, codec: CodecSpec, variables: dict[str, str], expires: float
    ) -> None:
        self.block = block
        self.codec = codec
        self.variables = variables
        self.expires = expires

    @property
    def info(self) -> DeviceInfo:
        return self.block.info


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
        self._devices: OrderedDict[EUI64, _Cached] = OrderedDict()
        # Shared by many devices, read through the repository (SQL) at most once per TTL:
        # application names, and each profile's codec. Each value: (value, expiry).
        self._application_names: dict[uuid.UUID, tuple[str, float]] = {}
        self._codecs: dict[uuid.UUID, tuple[CodecSpec, float]] = {}
        self._deduplication_ids = DeduplicationIds()
        self._receptions = Receptions()  # made for the frame log, taken by the ``up``
        self.decode_errors = 0

    def forget(self, dev_eui: EUI64) -> None:
        self._devices.pop(dev_eui, None)

    async def _device(self, dev_eui: EUI64) -> _Cached | None:
        now = self.monotonic()
        cached = self._devices.get(dev_eui)
        if cached is not None and now < cached.expires:
            self._devices.move_to_end(dev_eui)
            return cached
        device = await self.store.device_settings(dev_eui)
        if device is None:
            self._devices.pop(dev_eui, None)
            return None
        profile = await self.store.profile(device.profile_id)
        app_name, app_expires = self._application_name(device.application_id, now)
        codec, codec_expires = self._codec(device.profile_id, now)
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
        # Unchanged (the usual case): its deviceInfo block is still good.
        block = cached.block if cached is not None and cached.info == info else DeviceBlock(info)
        # Whatever part was read longest ago says when to look again, so nothing shown is
        # older than the TTL.
        expires = min(now + DEVICE_INFO_TTL_S, app_expires, codec_expires)
        entry = _Cached(block, codec, dict(device.variables), expires)
        self._devices[dev_eui] = entry
        self._devices.move_to_end(dev_eui)
        if len(self._devices) > DEVICE_CACHE_SIZE:
            self._devices.popitem(last=False)
        return entry

    def _application_name(self, app_id: uuid.UUID, now: float) -> tuple[str, float]:
        known = self._application_names.get(app_id)
        if known is not None and now < known[1]:
            return known
        try:
            name = self.repository.application(app_id).name
        except NotFoundError:
            name = ""
        known = self._application_names[app_id] = (name, now + DEVICE_INFO_TTL_S)
        return known

    def _codec(self, profile_id: uuid.UUID, now: float) -> tuple[CodecSpec, float]:
        known = self._codecs.get(profile_id)
        if known is not None and now < known[1]:
            return known
        runtime, script = self.repository.codec(profile_id)
        try:
            codec = CodecSpec(runtime, script)  # type: ignore[arg-type]
        except CodecError:
            codec = CodecSpec("none")
        known = self._codecs[profile_id] = (codec, now + DEVICE_INFO_TTL_S)
        return known

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
        device = self._devices.get(dev_eui)
        if device is None or self.monotonic() >= device.expires:
            device = await self._device(dev_eui)
            if device is None:
                return []  # removed meanwhile
        if isinstance(event, UplinkEvent):
            return await self._uplink_records(event, device, at)
        tx_ack = event if isinstance(event, TxAckEvent) else None
        context = EventContext(
            time=at,
            deduplication_id=uuid.uuid4(),
            region_config_id=self.region_config_id,
            queue_item_id=None if tx_ack is None else tx_ack.queue_item_id,
            downlink_tx_info=None if tx_ack is None else tx_ack.tx_info,
        )
        return application_events(event, device.info, context)

    async def _uplink_records(
        self, event: UplinkEvent, device: _Cached, at: datetime
    ) -> list[EventRecord]:
        """What ``application_events`` gives for an uplink (and its codec's problem), by the
        cheaper path every uplink takes."""
        if not event.f_port:
            return []  # no application payload, no ``up`` (and nothing to decode)
        decoded, problem = None, None
        if self.codecs is not None and device.codec.runtime != "none":
            decoded, problem = await self._decode(event, device, at)
        deduplication_id = self._deduplication_ids()
        records = [
            up_record(
                event,
                device.block,
                time=at,
                deduplication_id=deduplication_id,
                region_config_id=self.region_config_id,
                decoded=decoded,
                receptions=self._receptions,
            )
        ]
        if problem is not None:
            context = EventContext(at, uuid.UUID(deduplication_id), self.region_config_id)
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
        if self.event_log is None and (self.broker is None or not self.broker.subscriber_count):
            return
        try:
            record = uplink_frame_record(frame, at, self._receptions)
        except Exception as error:
            log.debug("frame not logged: %s", error)
            return
        self._log_frame(record)

    def downlink_frame(self, frame: DownlinkFrame, ack: DownlinkTxAck | None, at: datetime) -> None:
        if self.event_log is None and (self.broker is None or not self.broker.subscriber_count):
            return
        try:
            record = downlink_frame_log(frame, ack, time=at)
        except Exception as error:
            log.debug("frame not logged: %s", error)
            return
        self._log_frame(record)

    def _log_frame(self, record: FrameRecord) -> None:
        if self.event_log is not None:
            self.event_log.append_frame(record)
        if self.broker is not None:
            self.broker.publish(record)
