"""The application server's event flow on a real SQLite store and event log: uplinks handed
in as the network server emits them come out as ChirpStack events (to the integrations'
sink, the log, the live stream) equal to what the generic builders make; device information
follows changes within its TTL; the frame log is written."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chirpstack_api import integration
from google.protobuf import json_format

from appliance.app import event_flow
from appliance.app.bootstrap import ensure_application
from appliance.app.event_flow import DEVICE_INFO_TTL_S, EventFlow
from appliance.app.events import (
    DeviceInfo,
    EventBroker,
    EventKind,
    EventLog,
    EventRecord,
    FrameKind,
    uplink_event,
)
from appliance.app.model import Application
from appliance.app.repository import Repository
from appliance.app.service import ApplicationServer
from appliance.app.status import StatusTracker
from appliance.codecs import CodecRunner
from appliance.lorawan.identifiers import EUI64
from appliance.ns.device import Device
from appliance.ns.profile import DeviceProfile
from appliance.ns.sqlite_store import SQLiteStore
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import UplinkFrame
from tests.app.events import samples

APPLICATION = samples.APP_ID
START = datetime(2026, 11, 21, 12, 0, 0, 250_000, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    store: SQLiteStore
    repository: Repository
    profile: DeviceProfile
    clock: Clock
    event_log: EventLog
    broker: EventBroker
    flow: EventFlow
    server: ApplicationServer
    recorded: list[EventRecord]

    async def uplinks(self, *events: UplinkEvent) -> None:
        """As the runtime runs it: each reception to the frame log, then the event."""
        for event in events:
            uplink = event.uplink
            for rx in uplink.rx_info:
                self.flow.uplink_frame(UplinkFrame(uplink.phy_payload, uplink.tx_info, rx), START)
            self.server.handle(event)
        await self.server.drain()


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    store = SQLiteStore.open(tmp_path)
    profile = DeviceProfile("sensors", "EU868", tags={"site": "north", "floor": "1"})
    await store.add_profile(profile)
    await store.add_device(
        Device(samples.DEV_EUI, EUI64(0), "sensor-1", profile.id, APPLICATION, tags={"floor": "2"})
    )
    repository = Repository(store.connection)
    ensure_application(repository, APPLICATION, "Test", "", START)
    clock = Clock()
    event_log = EventLog.open(tmp_path)
    broker = EventBroker()
    flow = EventFlow(
        store,
        repository,
        region_config_id="eu868",
        monotonic=clock,
        codecs=CodecRunner(workers=1),
        event_log=event_log,
        broker=broker,
    )
    recorded: list[EventRecord] = []

    async def sink(records: list[EventRecord]) -> None:
        recorded.extend(records)

    flow.sinks.append(sink)
    server = ApplicationServer(
        repository, StatusTracker(repository), now=lambda: START, monotonic=clock
    )
    server.consumers.append(flow.handle_batch)
    yield Site(store, repository, profile, clock, event_log, broker, flow, server, recorded)
    assert flow.codecs is not None
    await flow.codecs.close()
    event_log.close()
    await store.aclose()


def _info(site: Site, **changes: object) -> DeviceInfo:
    info = DeviceInfo(
        APPLICATION,
        "Test",
        site.profile.id,
        "sensors",
        "sensor-1",
        samples.DEV_EUI,
        tags={"site": "north", "floor": "2"},
    )
    return replace(info, **changes)  # type: ignore[arg-type]


def _generic(record: EventRecord, event: UplinkEvent, info: DeviceInfo) -> EventRecord:
    """What the generic builders make of ``event`` with the record's deduplication ID."""
    body = json.loads(record.json())
    message = uplink_event(
        event,
        info,
        time=START,
        deduplication_id=uuid.UUID(body["deduplicationId"]),
        region_config_id="eu868",
        decoded=body.get("object"),
    )
    return EventRecord(message)


async def test_uplinks_become_the_generic_up_events(site: Site) -> None:
    subscription = site.broker.subscribe()
    first = samples.data_uplink(10, gateways=(samples.GW1, samples.GW2))
    second = samples.data_uplink(11)
    no_port = samples.data_uplink(12, f_port=0, payload=b"")
    await site.uplinks(first, second, no_port)

    assert [r.kind for r in site.recorded] == [EventKind.UP, EventKind.UP]  # FPort 0: none
    for record, event in zip(site.recorded, (first, second), strict=True):
        generic = _generic(record, event, _info(site))
        assert record.message == generic.message
        assert json.loads(record.json()) == json.loads(generic.json())
        assert (record.dev_eui, record.application_id) == (samples.DEV_EUI, APPLICATION)
        assert record.gateway_ids == generic.gateway_ids
        parsed = json_format.Parse(record.json(), integration.UplinkEvent())
        assert parsed == generic.message
    ids = {json.loads(r.json())["deduplicationId"] for r in site.recorded}
    assert len(ids) == 2

    # The same records went to the live stream and the log: four receptions, two events.
    streamed = [subscription.get_nowait() for _ in range(7)]
    assert [getattr(item, "kind", None) for item in streamed] == [
        *[FrameKind.UPLINK] * 4,
        EventKind.UP,
        EventKind.UP,
        None,
    ]
    logged = site.event_log.events(dev_eui=samples.DEV_EUI).items
    assert [r.message for r in reversed(logged)] == [r.message for r in site.recorded]
    frames = site.event_log.frames().items
    assert len(frames) == 4  # every reception, the uplink without FPort too
    assert {f.dev_addr for f in frames} == {samples.DEV_ADDR}
    assert {f.gateway_id for f in frames} == {samples.GW1, samples.GW2}


async def test_device_information_follows_changes_within_its_ttl(site: Site) -> None:
    await site.uplinks(samples.data_uplink(1))
    block = site.flow._devices[samples.DEV_EUI].block

    site.repository.update_application(Application(APPLICATION, "Renamed"), START)
    site.clock.now += DEVICE_INFO_TTL_S / 2
    await site.uplinks(samples.data_uplink(2))  # still the name read before
    site.clock.now += DEVICE_INFO_TTL_S / 2
    await site.uplinks(samples.data_uplink(3))  # looked up again: the new name

    names = [json.loads(r.json())["deviceInfo"]["applicationName"] for r in site.recorded]
    assert names == ["Test", "Test", "Renamed"]
    assert (
        site.recorded[2].message
        == _generic(
            site.recorded[2], samples.data_uplink(3), _info(site, application_name="Renamed")
        ).message
    )
    assert site.flow._devices[samples.DEV_EUI].block is not block

    # Looked up again with nothing changed: the deviceInfo made before is kept.
    block = site.flow._devices[samples.DEV_EUI].block
    site.clock.now += DEVICE_INFO_TTL_S
    await site.uplinks(samples.data_uplink(4))
    assert site.flow._devices[samples.DEV_EUI].block is block


async def test_a_removed_device_has_no_events(site: Site) -> None:
    await site.uplinks(samples.data_uplink(1))
    other = replace(samples.data_uplink(2), dev_eui=EUI64(0x99))
    await site.uplinks(other)
    assert len(site.recorded) == 1


async def test_a_codec_failure_is_logged_with_the_uplinks_deduplication_id(site: Site) -> None:
    site.repository.set_codec(site.profile.id, "cayenne_lpp", "")
    # Cayenne LPP: channel 1, temperature (0x67) 27.2 °C; then a type it does not know.
    good = samples.data_uplink(1, payload=bytes.fromhex("016701 10"))
    bad = samples.data_uplink(2, payload=bytes.fromhex("01ff01"))
    await site.uplinks(good, bad)

    assert [r.kind for r in site.recorded] == [EventKind.UP, EventKind.UP, EventKind.LOG]
    decoded = json.loads(site.recorded[0].json())["object"]
    assert decoded == {"temperatureSensor": {"1": 27.2}}
    generic = _generic(site.recorded[0], good, _info(site))
    assert site.recorded[0].json() == generic.json()
    up, problem = (json.loads(r.json()) for r in site.recorded[1:])
    assert "object" not in up
    assert problem["context"]["deduplication_id"] == up["deduplicationId"]
    # (as before: the network server's reason is not among the codes mapped to ChirpStack's)
    assert (problem["code"], problem["context"]["reason"]) == ("UNKNOWN", "uplink_codec")
    assert site.flow.decode_errors == 1


async def test_frames_are_not_made_without_a_log_or_a_subscriber(site: Site) -> None:
    site.flow.event_log = None
    await site.uplinks(samples.data_uplink(1))
    assert len(site.flow._receptions) == 0
    assert site.event_log.frames().items == []
    assert len(site.recorded) == 1  # the event itself is unaffected


async def test_status_and_time(site: Site) -> None:
    await site.uplinks(samples.data_uplink(7))
    (record,) = site.recorded
    assert (
        record.time_ns
        == (START - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
    )
    assert json.loads(record.json())["time"] == "2026-11-21T12:00:00.250+00:00"


async def test_the_device_cache_is_bounded(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    await site.uplinks(samples.data_uplink(1))
    assert len(site.flow._devices) == 1
    monkeypatch.setattr(event_flow, "DEVICE_CACHE_SIZE", 0)
    site.clock.now += DEVICE_INFO_TTL_S  # looked up again
    # Beyond the bound the least recently heard device goes (here: every one at once), and
    # its uplinks are still described from the store.
    await site.uplinks(samples.data_uplink(2), samples.data_uplink(3))
    assert len(site.flow._devices) == 0
    names = [json.loads(r.json())["deviceInfo"]["deviceName"] for r in site.recorded]
    assert names == ["sensor-1"] * 3
