"""Every event kind, built from the network server's own event types, parses back with the
chirpstack-api protobuf JSON parser (unknown fields refused) into the very same message."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from chirpstack_api import integration
from google.protobuf import json_format

from appliance.app.events import (
    EventBuildError,
    EventKind,
    LogCode,
    LogLevel,
    ack_event,
    join_event,
    location_event,
    log_event,
    message_from_bytes,
    message_to_bytes,
    message_to_json,
    status_event,
    tx_ack_event,
    uplink_event,
)
from appliance.app.events.kinds import EVENT_MESSAGES, event_kind_of
from appliance.ns.mac.events import DeviceStatus
from hal.model import Location, LocationSource
from tests.app.events import samples
from tests.app.events.samples import DEDUP_ID, DOWNLINK_TX, QUEUE_ITEM_ID, TIME


def _every_event() -> list[Any]:
    device = samples.device(building="north", floor="2")
    return [
        uplink_event(
            samples.data_uplink(gateways=(samples.GW1, samples.GW2)),
            device,
            time=TIME,
            deduplication_id=DEDUP_ID,
            region_config_id="eu868",
            decoded={"temperature": 21.5, "open": False, "readings": [1, 2, None], "unit": "°C"},
        ),
        uplink_event(
            samples.data_uplink(f_cnt=0, payload=b""),
            device,
            time=TIME,
            deduplication_id=DEDUP_ID,
            region_config_id="eu868",
        ),
        join_event(
            samples.join(), device, time=TIME, deduplication_id=DEDUP_ID, region_config_id="eu868"
        ),
        ack_event(
            samples.ack(), device, time=TIME, deduplication_id=DEDUP_ID, queue_item_id=QUEUE_ITEM_ID
        ),
        ack_event(samples.ack(False), device, time=TIME, deduplication_id=DEDUP_ID),
        tx_ack_event(
            samples.tx_ack(), device, time=TIME, tx_info=DOWNLINK_TX, queue_item_id=QUEUE_ITEM_ID
        ),
        tx_ack_event(samples.tx_ack(), device, time=TIME, tx_info=None),
        log_event(
            device,
            time=TIME,
            level=LogLevel.WARNING,
            code=LogCode.UPLINK_F_CNT_RETRANSMISSION,
            description="frame counter 153 seen before",
            context={"deduplication_id": str(DEDUP_ID)},
        ),
        status_event(
            DeviceStatus(battery=127, margin=-5, external_power=False, battery_level_percent=50.0),
            device,
            time=TIME,
            deduplication_id=DEDUP_ID,
        ),
        status_event(
            DeviceStatus(battery=0, margin=12, external_power=True, battery_level_percent=None),
            device,
            time=TIME,
            deduplication_id=DEDUP_ID,
        ),
        location_event(
            Location(52.3702, 4.8952, 12.5, LocationSource.GPS, accuracy=4.5),
            device,
            time=TIME,
            deduplication_id=DEDUP_ID,
        ),
    ]


EVENTS = _every_event()


def test_every_kind_is_covered() -> None:
    assert {event_kind_of(message) for message in EVENTS} == set(EventKind)


@pytest.mark.parametrize("message", EVENTS, ids=lambda m: type(m).__name__)
def test_json_parses_back_strictly_into_the_same_message(message: Any) -> None:
    text = message_to_json(message)
    parsed = json_format.Parse(text, type(message)(), ignore_unknown_fields=False)
    assert parsed == message
    # And the protobuf library's own printing of it parses to the same, so nothing is lost
    # to our printer's ChirpStack-specific choices (timestamps, float32, field order).
    again = json_format.Parse(json_format.MessageToJson(parsed), type(message)())
    assert again == message


@pytest.mark.parametrize("message", EVENTS, ids=lambda m: type(m).__name__)
def test_binary_round_trip(message: Any) -> None:
    assert message_from_bytes(message_to_bytes(message), type(message)) == message


def test_uplink_fields() -> None:
    body = json.loads(message_to_json(EVENTS[0]))
    assert body["deduplicationId"] == str(DEDUP_ID)
    assert body["time"] == "2025-06-13T12:44:52.670509+00:00"
    assert body["devAddr"] == "00189440"
    assert (body["adr"], body["dr"], body["fCnt"], body["fPort"]) == (True, 5, 153, 84)
    assert body["data"] == "qg=="
    assert body["object"] == {
        "open": False,
        "readings": [1.0, 2.0, None],
        "temperature": 21.5,
        "unit": "°C",
    }
    assert [rx["gatewayId"] for rx in body["rxInfo"]] == [str(samples.GW1), str(samples.GW2)]
    assert body["rxInfo"][0]["location"] == {
        "latitude": 52.37,
        "longitude": 4.89,
        "altitude": 3.5,
        "source": "CONFIG",
    }
    assert body["rxInfo"][0]["gwTime"] == "2025-06-13T12:44:52.670000123+00:00"
    assert body["rxInfo"][0]["timeSinceGpsEpoch"] == "1433853910.670s"
    assert body["txInfo"] == {
        "frequency": 867300000,
        "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}},
    }
    assert body["deviceInfo"]["tags"] == {"building": "north", "floor": "2"}
    assert body["regionConfigId"] == "eu868"


def test_txack_carries_the_item_that_was_sent() -> None:
    body = json.loads(message_to_json(EVENTS[5]))
    assert body["downlinkId"] == 0x1234
    assert body["queueItemId"] == str(QUEUE_ITEM_ID)
    assert body["fCntDown"] == 12
    assert body["gatewayId"] == str(samples.GW1)
    assert body["txInfo"] == {
        "frequency": 867300000,
        "power": 14,
        "modulation": {
            "lora": {
                "bandwidth": 125000,
                "spreadingFactor": 7,
                "codeRate": "CR_4_5",
                "polarizationInversion": True,
            }
        },
        "timing": {"delay": {"delay": "1s"}},
        "context": "Hw9+zQ==",
    }


def test_status_battery_fields() -> None:
    measured, external = (json.loads(message_to_json(m)) for m in EVENTS[8:10])
    assert (measured["margin"], measured["batteryLevel"]) == (-5, 50.0)
    assert (measured["externalPowerSource"], measured["batteryLevelUnavailable"]) == (False, False)
    assert (external["externalPowerSource"], external["batteryLevel"]) == (True, 0.0)
    unavailable = status_event(
        DeviceStatus(battery=255, margin=3, external_power=False, battery_level_percent=None),
        samples.device(),
        time=TIME,
        deduplication_id=DEDUP_ID,
    )
    assert json.loads(message_to_json(unavailable))["batteryLevelUnavailable"] is True


def test_location_prints_its_fields() -> None:
    body = json.loads(message_to_json(EVENTS[10]))
    assert body["location"] == {
        "latitude": 52.3702,
        "longitude": 4.8952,
        "altitude": 12.5,
        "source": "GPS",
        "accuracy": 4.5,
    }


@pytest.mark.parametrize(
    "decoded",
    [{"bad": float("nan")}, {"bad": float("inf")}, {"bad": b"bytes"}, {"bad": {1, 2}}],
    ids=["nan", "infinity", "bytes", "set"],
)
def test_a_decoded_object_that_is_not_json_is_refused(decoded: dict[str, Any]) -> None:
    with pytest.raises(EventBuildError, match="not plain JSON"):
        uplink_event(
            samples.data_uplink(),
            samples.device(),
            time=TIME,
            deduplication_id=uuid.uuid4(),
            region_config_id="eu868",
            decoded=decoded,
        )


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(EventBuildError, match="time zone"):
        ack_event(
            samples.ack(),
            samples.device(),
            time=TIME.replace(tzinfo=None),
            deduplication_id=DEDUP_ID,
        )


def test_message_types_match_the_kinds() -> None:
    for kind, message_type in EVENT_MESSAGES.items():
        assert event_kind_of(message_type()) is kind
    with pytest.raises(TypeError, match="not a ChirpStack integration event"):
        event_kind_of(integration.DeviceInfo())
