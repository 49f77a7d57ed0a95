"""The live stream: filters, a slow subscriber that loses the oldest items and is told, many
subscribers, and subscriptions that end cleanly."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from appliance.app.events import (
    EventBroker,
    EventKind,
    EventRecord,
    FrameKind,
    Missed,
    StreamFilter,
    SubscriberLimitError,
    application_events,
    uplink_frame_log,
)
from appliance.lorawan.identifiers import EUI64
from hal.model import UplinkFrame
from tests.app.events import samples
from tests.app.events.samples import APP_ID, DEV_EUI, GW1, GW2, OTHER_APP_ID, OTHER_DEV_EUI, TIME


def up(f_cnt: int, dev_eui: EUI64 = DEV_EUI, gateways: tuple[EUI64, ...] = (GW1,)) -> EventRecord:
    app = APP_ID if dev_eui == DEV_EUI else OTHER_APP_ID
    (record,) = application_events(
        samples.data_uplink(f_cnt, gateways=gateways),
        samples.device(dev_eui, app),
        samples.context(),
    )
    return record


def status_log() -> EventRecord:
    (record,) = application_events(samples.tx_ack_refused(), samples.device(), samples.context())
    return record


def test_filters() -> None:
    broker = EventBroker()
    everything = broker.subscribe()
    by_device = broker.subscribe(StreamFilter.of(dev_eui=OTHER_DEV_EUI))
    by_application = broker.subscribe(StreamFilter.of(application_id=APP_ID))
    by_gateway = broker.subscribe(StreamFilter.of(gateway_id=GW2))
    logs_and_frames = broker.subscribe(StreamFilter.of(kinds={EventKind.LOG, FrameKind.UPLINK}))
    device_and_gateway = broker.subscribe(StreamFilter.of(dev_eui=DEV_EUI, gateway_id=GW2))
    frame = uplink_frame_log(
        UplinkFrame(b"\x40\x01\x02\x03\x04", samples.TX_EU868, samples.receptions(GW2)[0]),
        time=TIME,
    )
    items = [up(1), up(2, OTHER_DEV_EUI), up(3, gateways=(GW1, GW2)), status_log(), frame]
    assert [broker.publish(item) for item in items] == [2, 2, 4, 3, 3]

    def taken(subscription: object) -> list[object]:
        out = []
        while (item := subscription.get_nowait()) is not None:  # type: ignore[attr-defined]
            out.append(item)
        return out

    assert taken(everything) == items
    assert taken(by_device) == [items[1]]
    assert taken(by_application) == [items[0], items[2], items[3]]  # frames name no application
    assert taken(by_gateway) == [items[2], frame]
    assert taken(logs_and_frames) == [items[3], frame]
    assert taken(device_and_gateway) == [items[2]]


def test_a_slow_subscriber_loses_the_oldest_and_is_told_how_many() -> None:
    broker = EventBroker()
    slow = broker.subscribe(max_queue=3)
    records = [up(n) for n in range(10)]
    for record in records:
        broker.publish(record)  # never waits for the subscriber
    assert len(slow) == 3
    assert slow.get_nowait() == Missed(7)
    assert [slow.get_nowait() for _ in range(3)] == records[7:]
    assert slow.get_nowait() is None
    broker.publish(records[0])
    assert slow.get_nowait() is records[0]  # no gap this time: nothing to report
    assert slow.missed_total == 7


async def test_async_iteration_delivers_in_order_and_unsubscribes_on_exit() -> None:
    broker = EventBroker()
    records = [up(n) for n in range(50)]
    received: list[object] = []

    async def consume() -> None:
        async with broker.subscribe() as subscription:
            async for item in subscription:
                received.append(item)
                if len(received) == len(records):
                    break

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    assert broker.subscriber_count == 1
    for index, record in enumerate(records):
        broker.publish(record)
        if index % 7 == 0:
            await asyncio.sleep(0)  # let the consumer take some while more arrive
    async with asyncio.timeout(10):
        await consumer
    assert received == records
    assert broker.subscriber_count == 0
    assert broker.publish(records[0]) == 0


async def test_a_waiting_subscriber_is_woken_and_a_gap_is_reported_in_the_stream() -> None:
    broker = EventBroker()
    subscription = broker.subscribe(max_queue=2)
    waiting = asyncio.create_task(anext(subscription))
    await asyncio.sleep(0)
    assert not waiting.done()
    first = up(1)
    broker.publish(first)
    async with asyncio.timeout(10):
        assert await waiting is first
    for n in range(2, 7):
        broker.publish(up(n))
    async with asyncio.timeout(10):
        assert await anext(subscription) == Missed(3)
        assert [
            r.message.f_cnt for r in [await anext(subscription), await anext(subscription)]
        ] == [5, 6]  # type: ignore[union-attr]


async def test_closing_ends_every_subscription_after_what_is_queued() -> None:
    broker = EventBroker()
    first, second = broker.subscribe(), broker.subscribe()
    idle = asyncio.create_task(anext(second))
    await asyncio.sleep(0)
    record = up(1)
    broker.publish(record)
    async with asyncio.timeout(10):
        assert await idle is record
    broker.publish(record)
    broker.close()
    assert broker.subscriber_count == 0
    async with asyncio.timeout(10):
        assert [item async for item in first] == [record, record]
        assert [item async for item in second] == [record]


def test_many_subscribers_each_get_their_own() -> None:
    broker = EventBroker(max_subscribers=200)
    devices = [EUI64(0x1000 + n) for n in range(100)]
    subscriptions = [broker.subscribe(StreamFilter.of(dev_eui=d), max_queue=10) for d in devices]
    everything = broker.subscribe(max_queue=10)
    for round_ in range(5):
        for device in devices:
            broker.publish(up(round_, device))
    for device, subscription in zip(devices, subscriptions, strict=True):
        items = [subscription.get_nowait() for _ in range(5)]
        assert [i.dev_eui for i in items] == [device] * 5  # type: ignore[union-attr]
        assert subscription.get_nowait() is None
    assert everything.get_nowait() == Missed(490)
    assert len(everything) == 10


def test_limits() -> None:
    broker = EventBroker(max_subscribers=2)
    broker.subscribe()
    kept = broker.subscribe()
    with pytest.raises(SubscriberLimitError, match="maximum of 2 subscribers"):
        broker.subscribe()
    kept.close()
    broker.subscribe()
    with pytest.raises(ValueError, match="max_queue"):
        EventBroker().subscribe(max_queue=0)


def test_filter_on_an_application_that_has_no_events() -> None:
    broker = EventBroker()
    subscription = broker.subscribe(StreamFilter.of(application_id=uuid.uuid4()))
    assert broker.publish(up(1)) == 0
    assert subscription.get_nowait() is None
