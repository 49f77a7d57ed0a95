"""Frame-log entries (``chirpstack_api.stream``) from the radio's frames, as the console's
"LoRaWAN frames" view shows them: one entry per gateway reception and per downlink.

The message type comes from the MHDR; the DevAddr (data frames) and DevEUI (join and rejoin
requests) from the frame when it decodes. Payloads stay encrypted: the ``plaintext_*`` flags
are false. A caller that knows more (the device a data frame matched, the device a
join-accept is for) passes ``dev_eui`` and ``application_id``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from chirpstack_api import stream

from appliance.app.events.errors import EventBuildError
from appliance.app.events.kinds import FrameKind
from appliance.app.events.proto_fields import set_downlink_tx_info, set_receptions, set_time
from appliance.app.events.records import FrameRecord
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import FrameError
from appliance.lorawan.frames import DataFrame, JoinRequest, RejoinRequest02, RejoinRequest1
from appliance.lorawan.identifiers import EUI64
from hal.model import DownlinkFrame, DownlinkTxAck, UplinkFrame


def _set_frame_identity(message: Any, phy_payload: bytes, dev_eui: EUI64 | None) -> None:
    if phy_payload:
        message.f_type = phy_payload[0] >> 5  # common.FType numbers the MTypes as LoRaWAN does
    try:
        frame = decode_phy_payload(phy_payload)
    except FrameError:
        frame = None
    if isinstance(frame, DataFrame):
        message.dev_addr = str(frame.dev_addr)
    elif isinstance(frame, JoinRequest | RejoinRequest02 | RejoinRequest1) and dev_eui is None:
        dev_eui = frame.dev_eui
    if dev_eui is not None:
        message.dev_eui = str(dev_eui)


def uplink_frame_log(
    frame: UplinkFrame,
    *,
    time: datetime,
    dev_eui: EUI64 | None = None,
    application_id: uuid.UUID | None = None,
) -> FrameRecord:
    """The log entry of one gateway's reception of a frame (CRC errors included)."""
    message = stream.UplinkFrameLog()
    message.phy_payload = frame.phy_payload
    set_receptions(message, frame.phy_payload, frame.tx_info, (frame.rx_info,))
    _set_frame_identity(message, frame.phy_payload, dev_eui)
    set_time(message.time, time)
    return FrameRecord(
        FrameKind.UPLINK,
        message,
        gateway_id=frame.rx_info.gateway_id,
        application_id=application_id,
    )


def downlink_frame_log(
    frame: DownlinkFrame,
    ack: DownlinkTxAck | None,
    *,
    time: datetime,
    dev_eui: EUI64 | None = None,
    application_id: uuid.UUID | None = None,
) -> FrameRecord:
    """The log entry of a downlink: the item the gateway sent, or when it refused them all
    the last one it tried (the first when there is no answer yet), with the gateway's status."""
    if ack is not None and ack.downlink_id != frame.downlink_id:
        raise EventBuildError(
            f"TX ack for downlink {ack.downlink_id} given with downlink {frame.downlink_id}"
        )
    index, status = 0, None
    if ack is not None and ack.items:
        tried = min(len(ack.items), len(frame.items))
        sent = ack.sent_item
        index = sent if sent is not None and sent < tried else tried - 1
        status = ack.items[index]
    item = frame.items[index]
    message = stream.DownlinkFrameLog()
    set_time(message.time, time)
    message.phy_payload = item.phy_payload
    set_downlink_tx_info(message.tx_info, item.tx_info, frame.gateway_id)
    message.downlink_id = frame.downlink_id
    message.gateway_id = str(frame.gateway_id)
    _set_frame_identity(message, item.phy_payload, dev_eui)
    return FrameRecord(
        FrameKind.DOWNLINK,
        message,
        gateway_id=frame.gateway_id,
        tx_status=status,
        application_id=application_id,
    )
