"""Frame-log entries: the MHDR type, DevAddr/DevEUI when the frame says, the gateway's
verdict on a downlink, and ChirpStack's stream JSON."""

from __future__ import annotations

import json

import pytest
from chirpstack_api import stream
from google.protobuf import json_format

from appliance.app.events import (
    EventBuildError,
    FrameKind,
    downlink_frame_log,
    message_to_json,
    uplink_frame_log,
)
from appliance.lorawan import security
from appliance.lorawan.frames import JoinRequest, RejoinRequest02
from appliance.lorawan.identifiers import EUI64, AESKey, NetID
from appliance.lorawan.mhdr import MType
from hal.model import (
    CRCStatus,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
)
from tests.app.events.samples import (
    APP_ID,
    DEV_ADDR,
    DEV_EUI,
    DOWNLINK_TX,
    GW1,
    KEYS,
    TIME,
    TX_EU868,
    receptions,
)


def _uplink(phy_payload: bytes, rx: UplinkRxInfo | None = None) -> UplinkFrame:
    return UplinkFrame(phy_payload, TX_EU868, rx or receptions(GW1)[0])


def _strict(record_json: str, message_type: type) -> object:
    return json_format.Parse(record_json, message_type(), ignore_unknown_fields=False)


def test_data_uplink_frame() -> None:
    phy = security.build_data_frame(
        MType.CONFIRMED_DATA_UP, DEV_ADDR, KEYS, 7, f_port=1, payload=b"\x01"
    ).encode()
    record = uplink_frame_log(_uplink(phy), time=TIME, dev_eui=DEV_EUI, application_id=APP_ID)
    assert record.kind is FrameKind.UPLINK
    assert (record.gateway_id, record.dev_addr, record.dev_eui) == (GW1, DEV_ADDR, DEV_EUI)
    assert (record.application_id, record.tx_status) == (APP_ID, None)
    assert _strict(record.json(), stream.UplinkFrameLog) == record.message
    body = json.loads(record.json())
    assert body["fType"] == "CONFIRMED_DATA_UP"
    assert (body["devAddr"], body["devEui"]) == (str(DEV_ADDR), str(DEV_EUI))
    assert body["time"] == "2025-06-13T12:44:52.670509+00:00"
    assert [rx["gatewayId"] for rx in body["rxInfo"]] == [str(GW1)]
    assert body["txInfo"]["frequency"] == 867_300_000
    assert (body["plaintextFOpts"], body["plaintextFrmPayload"]) == (False, False)  # encrypted


def test_join_request_frame_names_its_device() -> None:
    request = security.sign_join_request(
        JoinRequest(EUI64("70b3d57ed0000000"), DEV_EUI, 3), AESKey(bytes(16))
    )
    record = uplink_frame_log(_uplink(request.encode()), time=TIME)
    assert (record.dev_eui, record.dev_addr) == (DEV_EUI, None)
    body = json.loads(record.json())
    assert (body["fType"], body["devEui"]) == ("JOIN_REQUEST", str(DEV_EUI))
    assert body["devAddr"] == ""


def test_rejoin_request_frame_names_its_device() -> None:
    rejoin = security.sign_rejoin_request(
        RejoinRequest02(0, NetID("000013"), DEV_EUI, 1), AESKey(bytes(16))
    )
    record = uplink_frame_log(_uplink(rejoin.encode()), time=TIME)
    assert record.dev_eui == DEV_EUI
    assert json.loads(record.json())["fType"] == "REJOIN_REQUEST"


def test_a_frame_that_does_not_decode_is_still_logged() -> None:
    rx = UplinkRxInfo(GW1, rssi=-120, snr=-21.5, crc_status=CRCStatus.BAD_CRC)
    record = uplink_frame_log(_uplink(b"\x40\x01\x02", rx), time=TIME)
    assert (record.dev_eui, record.dev_addr) == (None, None)
    body = json.loads(record.json())
    assert body["fType"] == "UNCONFIRMED_DATA_UP"
    assert body["rxInfo"][0]["crcStatus"] == "BAD_CRC"
    assert _strict(record.json(), stream.UplinkFrameLog) == record.message


def _downlink() -> DownlinkFrame:
    rx1 = security.build_data_frame(
        MType.UNCONFIRMED_DATA_DOWN, DEV_ADDR, KEYS, 4, f_port=10, payload=b"\x05"
    ).encode()
    rx2_tx = DOWNLINK_TX.__class__(
        869_525_000, 27, DOWNLINK_TX.modulation, DOWNLINK_TX.timing, context=b"\x01"
    )
    return DownlinkFrame(0x42, GW1, (DownlinkItem(rx1, DOWNLINK_TX), DownlinkItem(rx1, rx2_tx)))


@pytest.mark.parametrize(
    ("statuses", "index", "status"),
    [
        ((TxAckStatus.OK, TxAckStatus.IGNORED), 0, TxAckStatus.OK),
        ((TxAckStatus.TOO_LATE, TxAckStatus.OK), 1, TxAckStatus.OK),
        ((TxAckStatus.TOO_LATE, TxAckStatus.TX_FREQ), 1, TxAckStatus.TX_FREQ),
        ((TxAckStatus.COLLISION_PACKET,), 0, TxAckStatus.COLLISION_PACKET),
        ((TxAckStatus.OK,) * 5, 0, TxAckStatus.OK),  # a gateway that answers too much
        ((TxAckStatus.TOO_LATE,) * 5, 1, TxAckStatus.TOO_LATE),
    ],
)
def test_downlink_logs_the_item_that_went_out_or_was_tried_last(
    statuses: tuple[TxAckStatus, ...], index: int, status: TxAckStatus
) -> None:
    frame = _downlink()
    record = downlink_frame_log(frame, DownlinkTxAck(GW1, 0x42, statuses), time=TIME)
    assert record.kind is FrameKind.DOWNLINK
    assert (record.tx_status, record.gateway_id, record.dev_addr) == (status, GW1, DEV_ADDR)
    assert record.message.tx_info.frequency == frame.items[index].tx_info.frequency
    assert _strict(record.json(), stream.DownlinkFrameLog) == record.message
    body = json.loads(record.json())
    assert (body["downlinkId"], body["gatewayId"], body["fType"]) == (
        0x42,
        str(GW1),
        "UNCONFIRMED_DATA_DOWN",
    )


def test_downlink_without_an_answer_yet() -> None:
    record = downlink_frame_log(_downlink(), None, time=TIME, dev_eui=DEV_EUI)
    assert (record.tx_status, record.dev_eui) == (None, DEV_EUI)
    assert json.loads(message_to_json(record.message))["txInfo"]["power"] == 14


def test_an_ack_of_another_downlink_is_refused() -> None:
    with pytest.raises(EventBuildError, match="TX ack for downlink 7"):
        downlink_frame_log(_downlink(), DownlinkTxAck(GW1, 7, (TxAckStatus.OK,)), time=TIME)
