"""Realistic inputs for the event tests: network-server events built with the network server's
own types from real, encrypted LoRaWAN frames, and the device they belong to."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

from appliance.app.events import DeviceClass, DeviceInfo, EventContext
from appliance.lorawan import security
from appliance.lorawan.frames import FCtrl, JoinRequest
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.events import JoinEvent, TxAckEvent
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from hal.model import (
    Delay,
    DownlinkTxInfo,
    Location,
    LocationSource,
    LoRaModulation,
    TxAckStatus,
    UplinkRxInfo,
    UplinkTxInfo,
)

DEV_EUI: Final = EUI64("0101010101010101")
OTHER_DEV_EUI: Final = EUI64("0202020202020202")
DEV_ADDR: Final = DevAddr("00189440")
GW1: Final = EUI64("0016c001f153a14c")
GW2: Final = EUI64("0016c001f153a14d")
APP_ID: Final = uuid.UUID("17c82e96-1b8a-4f34-9b2b-6b1f1c3d0a11")
OTHER_APP_ID: Final = uuid.UUID("28d93fa7-2c9b-4045-8c3c-7c2a2d4e1b22")
PROFILE_ID: Final = uuid.UUID("14855bf7-d10d-4aee-b618-ebfcb64dc7ad")
DEDUP_ID: Final = uuid.UUID("3ac7e3c4-4401-4b8d-9386-a5c902f9202d")
QUEUE_ITEM_ID: Final = uuid.UUID("5b2c6a1e-9f3d-4c8b-a7e6-0d1f2e3c4b5a")
TIME: Final = datetime(2025, 6, 13, 12, 44, 52, 670509, tzinfo=UTC)
KEYS: Final = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
TX_EU868: Final = UplinkTxInfo(867_300_000, LoRaModulation(125_000, 7))
DOWNLINK_TX: Final = DownlinkTxInfo(
    frequency=867_300_000,
    power=14,
    modulation=LoRaModulation(125_000, 7, polarization_inversion=True),
    timing=Delay(1_000_000_000),
    context=bytes.fromhex("1f0f7ecd"),
)


def device(dev_eui: EUI64 = DEV_EUI, application_id: uuid.UUID = APP_ID, **tags: str) -> DeviceInfo:
    return DeviceInfo(
        application_id=application_id,
        application_name="Test",
        device_profile_id=PROFILE_ID,
        device_profile_name="EU868 A",
        device_name=f"sensor-{dev_eui}",
        dev_eui=dev_eui,
        device_class=DeviceClass.CLASS_A,
        tags=tags,
    )


def context(**changes: Any) -> EventContext:
    return replace(EventContext(TIME, DEDUP_ID, "eu868"), **changes)


def receptions(*gateways: EUI64) -> tuple[UplinkRxInfo, ...]:
    """Receptions as a Semtech UDP or Basics Station backend reports them, best first."""
    return tuple(
        UplinkRxInfo(
            gateway,
            uplink_id=25127 + index,
            rssi=-68 - 10 * index,
            snr=13.2 - 5 * index,
            channel=4,
            context=bytes.fromhex("1f0f7ecd"),
            ns_time_ns=1_749_818_692_670_509_000,
            gw_time_ns=1_749_818_692_670_000_123 if index == 0 else None,
            time_since_gps_epoch_ns=1_433_853_910_670_000_000 if index == 0 else None,
            location=Location(52.37, 4.89, 3.5, LocationSource.CONFIG) if index == 0 else None,
        )
        for index, gateway in enumerate(gateways or (GW1,))
    )


def data_uplink(
    f_cnt: int = 153,
    *,
    f_port: int = 84,
    payload: bytes = b"\xaa",
    confirmed: bool = False,
    gateways: tuple[EUI64, ...] = (GW1,),
) -> UplinkEvent:
    mtype = MType.CONFIRMED_DATA_UP if confirmed else MType.UNCONFIRMED_DATA_UP
    frame = security.build_data_frame(
        mtype, DEV_ADDR, KEYS, f_cnt, f_ctrl=FCtrl(adr=True), f_port=f_port, payload=payload
    )
    uplink = DeduplicatedUplink(frame.encode(), TX_EU868, receptions(*gateways), 0)
    return UplinkEvent(DEV_EUI, f_cnt, f_port, payload, confirmed, True, 5, uplink)


def join(gateways: tuple[EUI64, ...] = (GW1, GW2)) -> JoinEvent:
    request = security.sign_join_request(
        JoinRequest(EUI64("70b3d57ed0000000"), DEV_EUI, 7), AESKey(bytes(range(16)))
    )
    uplink = DeduplicatedUplink(request.encode(), TX_EU868, receptions(*gateways), 0)
    return JoinEvent(DEV_EUI, DEV_ADDR, uplink)


def ack(acknowledged: bool = True) -> AckEvent:
    return AckEvent(DEV_EUI, 12, acknowledged)


def tx_ack(status: TxAckStatus = TxAckStatus.OK) -> TxAckEvent:
    return TxAckEvent(DEV_EUI, 0x1234, 12, GW1, status)


def tx_ack_refused() -> TxAckEvent:
    return tx_ack(TxAckStatus.TOO_LATE)
