"""``application_events``: which ChirpStack event each network-server event becomes."""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format

from appliance.app.events import EVENT_MESSAGES, EventKind, application_events
from appliance.ns.events import DeviceMACEvent, LogEvent
from appliance.ns.mac.events import (
    DeviceClassChanged,
    DeviceStatus,
    LogLevel,
    MACLog,
    MACLogCode,
    RequestAcknowledged,
)
from hal.model import TxAckStatus
from tests.app.events import samples
from tests.app.events.samples import DEDUP_ID, DEV_EUI, DOWNLINK_TX, GW1, GW2, QUEUE_ITEM_ID


def _body(record: object) -> dict[str, object]:
    text = record.json()  # type: ignore[attr-defined]
    kind = record.kind  # type: ignore[attr-defined]
    json_format.Parse(text, EVENT_MESSAGES[kind](), ignore_unknown_fields=False)
    return json.loads(text)  # type: ignore[no-any-return]


def test_uplink_with_payload_is_up_and_carries_the_decoded_object() -> None:
    (record,) = application_events(
        samples.data_uplink(gateways=(GW1, GW2)),
        samples.device(),
        samples.context(decoded={"temperature": 21.5}),
    )
    assert record.kind is EventKind.UP
    assert (record.dev_eui, record.application_id) == (DEV_EUI, samples.APP_ID)
    assert record.gateway_ids == (GW1, GW2)
    assert record.time_ns == 1_749_818_692_670_509_000
    assert _body(record)["object"] == {"temperature": 21.5}


def test_an_uplink_without_application_payload_is_no_event() -> None:
    assert (
        application_events(samples.data_uplink(f_port=0), samples.device(), samples.context()) == []
    )


def test_join_names_the_gateways_that_heard_it() -> None:
    (record,) = application_events(samples.join(), samples.device(), samples.context())
    assert record.kind is EventKind.JOIN
    assert record.gateway_ids == (GW1, GW2)
    body = _body(record)
    assert (body["devAddr"], body["regionConfigId"]) == ("00189440", "eu868")


def test_ack_and_its_queue_item() -> None:
    (record,) = application_events(
        samples.ack(False), samples.device(), samples.context(queue_item_id=QUEUE_ITEM_ID)
    )
    body = _body(record)
    assert record.kind is EventKind.ACK
    assert (body["acknowledged"], body["fCntDown"], body["queueItemId"]) == (
        False,
        12,
        str(QUEUE_ITEM_ID),
    )
    assert body["deduplicationId"] == str(DEDUP_ID)


def test_txack_when_the_gateway_sent_it() -> None:
    (record,) = application_events(
        samples.tx_ack(),
        samples.device(),
        samples.context(downlink_tx_info=DOWNLINK_TX, queue_item_id=QUEUE_ITEM_ID),
    )
    assert record.kind is EventKind.TXACK
    assert record.gateway_ids == (GW1,)
    assert _body(record)["txInfo"]["frequency"] == 867_300_000  # type: ignore[index]


def test_no_txack_for_a_downlink_without_application_payload() -> None:
    # A join-accept or MAC commands only: ChirpStack reports nothing either.
    context = samples.context(downlink_tx_info=DOWNLINK_TX)
    assert application_events(samples.tx_ack(), samples.device(), context) == []


@pytest.mark.parametrize("status", [s for s in TxAckStatus if s is not TxAckStatus.OK])
def test_a_refused_downlink_is_an_error_log(status: TxAckStatus) -> None:
    (record,) = application_events(samples.tx_ack(status), samples.device(), samples.context())
    assert record.kind is EventKind.LOG
    assert record.gateway_ids == (GW1,)
    body = _body(record)
    assert (body["level"], body["code"], body["description"]) == (
        "ERROR",
        "DOWNLINK_GATEWAY",
        status.name,
    )
    assert body["context"] == {
        "deduplication_id": str(DEDUP_ID),
        "downlink_id": str(0x1234),
        "gateway_id": str(GW1),
    }


@pytest.mark.parametrize(
    ("ns_code", "level", "code"),
    [
        ("f_cnt_replay", "warning", "UPLINK_F_CNT_RETRANSMISSION"),
        ("mic_failed", "warning", "UPLINK_MIC"),
        ("payload_too_large", "error", "DOWNLINK_PAYLOAD_SIZE"),
        ("dev_nonce_reused", "warning", "OTAA"),
        ("rejoin_count_not_increasing", "warning", "OTAA"),
        ("f_cnt_gap_too_large", "warning", "UNKNOWN"),
        ("downlink_window_missed", "warning", "UNKNOWN"),
        ("something_new", "info", "UNKNOWN"),
    ],
)
def test_network_server_logs_map_to_chirpstack_codes(ns_code: str, level: str, code: str) -> None:
    event = LogEvent(DEV_EUI, level, ns_code, "what happened")
    (record,) = application_events(event, samples.device(), samples.context())
    body = _body(record)
    assert (body["level"], body["code"], body["description"]) == (
        level.upper(),
        code,
        "what happened",
    )
    assert body["context"] == {"deduplication_id": str(DEDUP_ID), "reason": ns_code}


def test_log_context_from_the_caller_is_added() -> None:
    event = LogEvent(DEV_EUI, "warning", "f_cnt_replay", "seen before")
    (record,) = application_events(
        event, samples.device(), samples.context(log_context={"f_cnt": "153"})
    )
    assert _body(record)["context"] == {
        "deduplication_id": str(DEDUP_ID),
        "reason": "f_cnt_replay",
        "f_cnt": "153",
    }


def test_device_status_is_status() -> None:
    status = DeviceStatus(battery=254, margin=7, external_power=False, battery_level_percent=100.0)
    (record,) = application_events(
        DeviceMACEvent(DEV_EUI, status), samples.device(), samples.context()
    )
    assert record.kind is EventKind.STATUS
    body = _body(record)
    assert (body["margin"], body["batteryLevel"], body["externalPowerSource"]) == (7, 100.0, False)


def test_mac_problems_and_class_changes_are_logs() -> None:
    problem = MACLog(LogLevel.WARNING, MACLogCode.REJECTED, 0x03, "LinkADRReq refused")
    (record,) = application_events(
        DeviceMACEvent(DEV_EUI, problem), samples.device(), samples.context()
    )
    body = _body(record)
    assert (body["level"], body["code"], body["description"]) == (
        "WARNING",
        "UNKNOWN",
        "LinkADRReq refused",
    )
    assert body["context"] == {
        "deduplication_id": str(DEDUP_ID),
        "reason": "rejected",
        "cid": "0x03",
    }
    (record,) = application_events(
        DeviceMACEvent(DEV_EUI, DeviceClassChanged("C")), samples.device(), samples.context()
    )
    body = _body(record)
    assert (body["level"], body["description"]) == ("INFO", "the device switched to Class C")
    assert body["context"]["device_class"] == "C"  # type: ignore[index]


def test_acknowledged_requests_are_no_event() -> None:
    event = DeviceMACEvent(DEV_EUI, RequestAcknowledged(0x0A, ()))
    assert application_events(event, samples.device(), samples.context()) == []
