"""Golden checks of the JSON rules: integration messages print every field, nested gateway
objects leave defaults out, and the value formats are ChirpStack's."""

from __future__ import annotations

import json
import math
import uuid

import pytest
from chirpstack_api import common, gw, integration, stream
from google.protobuf import json_format

from appliance.app.events import (
    DeviceInfo,
    EventBuildError,
    message_from_json,
    message_to_dict,
    message_to_json,
    uplink_event,
)
from appliance.app.events.json_mapping import duration_text, float32_json, timestamp_text
from appliance.lorawan.identifiers import EUI64
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import LoRaModulation, UplinkRxInfo, UplinkTxInfo
from tests.app.events import samples

# The example ``up`` of the reference (as ChirpStack v4.19 emits it), minus the empty
# ``location`` its gateway happened to send: rebuilt here from the network server's types.
EXAMPLE_UP = (
    '{"deduplicationId":"3ac7e3c4-4401-4b8d-9386-a5c902f9202d",'
    '"time":"2025-06-13T12:44:52.670509+00:00",'
    '"deviceInfo":{"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242","tenantName":"ChirpStack",'
    '"applicationId":"17c82e96-be03-4f38-aef3-f83d48582d97","applicationName":"Test",'
    '"deviceProfileId":"14855bf7-d10d-4aee-b618-ebfcb64dc7ad","deviceProfileName":"EU868 A",'
    '"deviceName":"sensor-1","devEui":"0101010101010101","deviceClassEnabled":"CLASS_A",'
    '"tags":{}},'
    '"devAddr":"00189440","adr":true,"dr":5,"fCnt":153,"fPort":84,"confirmed":false,'
    '"data":"qg==",'
    '"rxInfo":[{"gatewayId":"0016c001f153a14c","uplinkId":25127,'
    '"nsTime":"2025-06-13T12:44:52.670509+00:00","rssi":-68,"snr":13.2,"channel":4,'
    '"context":"Hw9+zQ==","crcStatus":"CRC_OK"}],'
    '"txInfo":{"frequency":867300000,"modulation":{"lora":{"bandwidth":125000,'
    '"spreadingFactor":7,"codeRate":"CR_4_5"}}},'
    '"regionConfigId":"eu868"}'
)


def test_the_reference_example_is_reproduced_byte_for_byte() -> None:
    rx = UplinkRxInfo(
        EUI64("0016c001f153a14c"),
        uplink_id=25127,
        rssi=-68,
        snr=13.2,
        channel=4,
        context=bytes.fromhex("1f0f7ecd"),
        ns_time_ns=1_749_818_692_670_509_000,
    )
    tx = UplinkTxInfo(867_300_000, LoRaModulation(125_000, 7))
    # MHDR, DevAddr 00189440, FCtrl ADR, FCnt 153, FPort 84, one (encrypted) byte, MIC.
    phy = bytes.fromhex("40409418008099005400") + bytes(4)
    event = UplinkEvent(
        EUI64("0101010101010101"),
        153,
        84,
        b"\xaa",
        False,
        True,
        5,
        DeduplicatedUplink(phy, tx, (rx,), 0),
    )
    device = DeviceInfo(
        application_id=uuid.UUID("17c82e96-be03-4f38-aef3-f83d48582d97"),
        application_name="Test",
        device_profile_id=uuid.UUID("14855bf7-d10d-4aee-b618-ebfcb64dc7ad"),
        device_profile_name="EU868 A",
        device_name="sensor-1",
        dev_eui=EUI64("0101010101010101"),
        tenant_id=uuid.UUID("52f14cd4-c6f1-4fbd-8f87-4025e1d49242"),
        tenant_name="ChirpStack",
    )
    message = uplink_event(
        event,
        device,
        time=samples.TIME,
        deduplication_id=uuid.UUID("3ac7e3c4-4401-4b8d-9386-a5c902f9202d"),
        region_config_id="eu868",
    )
    assert message_to_json(message) == EXAMPLE_UP


def test_an_empty_integration_message_prints_every_field() -> None:
    assert message_to_json(integration.AckEvent()) == (
        '{"deduplicationId":"","queueItemId":"","acknowledged":false,"fCntDown":0}'
    )
    assert message_to_json(integration.LogEvent()) == (
        '{"level":"INFO","code":"UNKNOWN","description":"","context":{}}'
    )
    assert message_to_json(integration.StatusEvent()) == (
        '{"deduplicationId":"","margin":0,"externalPowerSource":false,'
        '"batteryLevelUnavailable":false,"batteryLevel":0.0}'
    )
    # Sub-messages (time, deviceInfo, object, txInfo, relayRxInfo...) have presence: unset,
    # they are left out; repeated fields print as [] and maps as {}.
    assert message_to_dict(integration.UplinkEvent()) == {
        "deduplicationId": "",
        "devAddr": "",
        "adr": False,
        "dr": 0,
        "fCnt": 0,
        "fPort": 0,
        "confirmed": False,
        "data": "",
        "rxInfo": [],
        "regionConfigId": "",
    }


def test_device_info_prints_every_field_even_at_default() -> None:
    message = integration.JoinEvent()
    message.device_info.SetInParent()
    assert message_to_dict(message)["deviceInfo"] == {
        "tenantId": "",
        "tenantName": "",
        "applicationId": "",
        "applicationName": "",
        "deviceProfileId": "",
        "deviceProfileName": "",
        "deviceName": "",
        "devEui": "",
        "deviceClassEnabled": "CLASS_A",
        "tags": {},
    }


def test_nested_gateway_objects_leave_defaults_out() -> None:
    message = integration.UplinkEvent()
    rx = message.rx_info.add()
    rx.gateway_id = "0016c001f153a14c"
    message.tx_info.frequency = 868_100_000
    message.tx_info.modulation.lora.spreading_factor = 12
    message.relay_rx_info.SetInParent()
    body = message_to_dict(message)
    assert body["rxInfo"] == [{"gatewayId": "0016c001f153a14c"}]
    assert body["txInfo"] == {
        "frequency": 868100000,
        "modulation": {"lora": {"spreadingFactor": 12}},
    }
    # relayRxInfo is an integration message: every field, once it is set at all.
    assert body["relayRxInfo"] == {
        "devEui": "",
        "frequency": 0,
        "dr": 0,
        "snr": 0,
        "rssi": 0,
        "worChannel": 0,
    }
    location = integration.LocationEvent()
    location.location.latitude = 1.5
    assert message_to_dict(location)["location"] == {"latitude": 1.5}
    empty = integration.UplinkEvent()
    empty.rx_info.add().location.SetInParent()
    assert message_to_dict(empty)["rxInfo"] == [{"location": {}}]


def test_frame_logs_print_every_field_but_their_gateway_objects_do_not() -> None:
    log = stream.UplinkFrameLog()
    log.phy_payload = b"\x40"
    log.f_type = common.JOIN_REQUEST
    log.rx_info.add().gateway_id = "0016c001f153a14c"
    assert message_to_json(log) == (
        '{"phyPayload":"QA==","rxInfo":[{"gatewayId":"0016c001f153a14c"}],'
        '"fType":"JOIN_REQUEST","devAddr":"","devEui":"","plaintextFOpts":false,'
        '"plaintextFrmPayload":false}'
    )


@pytest.mark.parametrize(
    ("seconds", "nanos", "text"),
    [
        (0, 0, "1970-01-01T00:00:00+00:00"),
        (1_749_818_692, 670_000_000, "2025-06-13T12:44:52.670+00:00"),
        (1_749_818_692, 670_509_000, "2025-06-13T12:44:52.670509+00:00"),
        (1_749_818_692, 670_509_001, "2025-06-13T12:44:52.670509001+00:00"),
        (-62_135_596_800, 0, "0001-01-01T00:00:00+00:00"),
        (253_402_300_799, 999_999_999, "9999-12-31T23:59:59.999999999+00:00"),
    ],
)
def test_timestamps_are_chrono_rfc3339(seconds: int, nanos: int, text: str) -> None:
    assert timestamp_text(seconds, nanos) == text
    message = integration.AckEvent()
    message.time.seconds, message.time.nanos = seconds, nanos
    parsed = json_format.Parse(message_to_json(message), integration.AckEvent())
    assert (parsed.time.seconds, parsed.time.nanos) == (seconds, nanos)


@pytest.mark.parametrize(
    ("seconds", "nanos", "text"),
    [
        (0, 0, "0s"),
        (1, 500_000_000, "1.500s"),
        (0, 123, "0.000000123s"),
        (121, 3_454, "121.000003454s"),
        (-90, -2_456_301, "-90.002456301s"),
        (0, -67_088, "-0.000067088s"),
    ],
)
def test_durations(seconds: int, nanos: int, text: str) -> None:
    assert duration_text(seconds, nanos) == text


@pytest.mark.parametrize(
    ("snr", "text"), [(13.2, "13.2"), (-7.5, "-7.5"), (9.8, "9.8"), (7.0, "7.0"), (0.1, "0.1")]
)
def test_float32_prints_the_shortest_decimal(snr: float, text: str) -> None:
    message = gw.UplinkRxInfo()
    message.snr = snr
    assert message_to_json(message) == f'{{"snr":{text}}}'


def test_the_largest_float32_prints_too() -> None:
    message = gw.UplinkRxInfo()
    message.snr = 3.4028234663852886e38  # fewer digits round past it: parsers refuse those
    text = message_to_json(message)
    assert text == '{"snr":3.4028234663852886e+38}'
    assert json_format.Parse(text, gw.UplinkRxInfo()) == message


def test_float32_texts_are_remembered_apart_from_zeros() -> None:
    assert [float32_json(v) for v in (-0.0, 0.0, 13.2, 13.2, float("nan"))] == [
        "-0.0",
        "0.0",
        "13.2",
        "13.2",
        '"NaN"',
    ]


def test_timestamps_of_one_second_share_its_date() -> None:
    assert [timestamp_text(1_749_818_692, n) for n in (0, 670_000_000, 670_509_000, 5)] == [
        "2025-06-13T12:44:52+00:00",
        "2025-06-13T12:44:52.670+00:00",
        "2025-06-13T12:44:52.670509+00:00",
        "2025-06-13T12:44:52.000000005+00:00",
    ]
    assert timestamp_text(-1, 0) == "1969-12-31T23:59:59+00:00"


def test_special_floats_print_as_proto3_json_strings() -> None:
    message = gw.UplinkRxInfo()
    message.snr = math.inf
    assert message_to_dict(message) == {"snr": "Infinity"}
    message.snr = math.nan
    text = message_to_json(message)
    assert text == '{"snr":"NaN"}'
    assert math.isnan(json_format.Parse(text, gw.UplinkRxInfo()).snr)


def test_enums_by_name_and_unknown_numbers_as_numbers() -> None:
    message = gw.UplinkRxInfo()
    message.crc_status = gw.CRC_OK
    assert message_to_dict(message) == {"crcStatus": "CRC_OK"}
    message.crc_status = 42  # open enum: a newer peer's value
    assert message_to_dict(message) == {"crcStatus": 42}


def test_integer_map_keys_print_as_strings() -> None:
    stats = gw.GatewayStats()
    stats.rx_packets_per_frequency[868_100_000] = 3
    assert message_to_dict(stats)["rxPacketsPerFrequency"] == {"868100000": 3}


def test_object_keys_are_sorted_and_numbers_are_doubles() -> None:
    message = integration.UplinkEvent()
    message.object.update({"b": 1, "a": {"z": [True, None], "y": "text"}})
    assert json.dumps(message_to_dict(message)["object"]) == (
        '{"a": {"y": "text", "z": [true, null]}, "b": 1.0}'
    )


def test_non_ascii_is_written_as_utf8() -> None:
    message = integration.LogEvent()
    message.description = "température élevée"
    assert '"description":"température élevée"' in message_to_json(message)


def test_strict_parsing_refuses_unknown_fields() -> None:
    with pytest.raises(EventBuildError, match=r"integration.AckEvent: cannot parse"):
        message_from_json('{"acknowledged":true,"surprise":1}', integration.AckEvent)
    parsed = message_from_json('{"acknowledged":true,"fCntDown":3}', integration.AckEvent)
    assert (parsed.acknowledged, parsed.f_cnt_down) == (True, 3)
