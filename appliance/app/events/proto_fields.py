"""Small conversions into protobuf fields shared by the event and frame-log builders: wall
times, decoded objects, and the gateway messages (reusing ``hal.proto``'s lossless code)."""

from __future__ import annotations

import calendar
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from appliance.app.events.errors import EventBuildError
from appliance.lorawan.identifiers import EUI64
from hal.model import (
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.proto import ProtoConversionError, downlink_to_proto, uplink_to_proto


def set_time(target: Any, value: datetime) -> None:
    """Fill a ``google.protobuf.Timestamp`` from an aware datetime (microseconds kept)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise EventBuildError(f"event time must carry a time zone, got {value.isoformat()}")
    target.seconds = calendar.timegm(value.utctimetuple())
    target.nanos = value.microsecond * 1_000


def set_object(target: Any, decoded: Mapping[str, Any]) -> None:
    """Fill a ``google.protobuf.Struct`` with a codec's output; refuse what JSON cannot hold."""
    try:
        json.dumps(decoded, allow_nan=False)
        target.update(decoded)
    except (ValueError, TypeError, RecursionError) as error:
        raise EventBuildError(f"the decoded object is not plain JSON: {error}") from None


def set_receptions(
    message: Any, phy_payload: bytes, tx_info: UplinkTxInfo, receptions: Sequence[UplinkRxInfo]
) -> None:
    """Fill ``message.rx_info`` (one ``gw.UplinkRxInfo`` per reception) and ``message.tx_info``
    (a ``gw.UplinkTxInfo``) of an event or frame log."""
    for index, reception in enumerate(receptions):
        converted = _uplink(phy_payload, tx_info, reception)
        target = message.rx_info.add()
        target.CopyFrom(converted.rx_info)
        positive_zeros(target, "snr")
        if target.HasField("location"):
            positive_zeros(target.location, *_LOCATION_FLOATS)
        if index == 0:
            message.tx_info.CopyFrom(converted.tx_info)


_LOCATION_FLOATS = ("latitude", "longitude", "altitude", "accuracy")


def positive_zeros(target: Any, *names: str) -> None:
    """Turn -0.0 into 0.0: ChirpStack's JSON leaves out a float equal to zero, -0.0
    included, so it would come back as 0.0 and the binary and JSON forms would differ."""
    for name in names:
        if getattr(target, name) == 0:
            setattr(target, name, 0.0)


def set_downlink_tx_info(target: Any, tx_info: DownlinkTxInfo, gateway_id: EUI64) -> None:
    """Fill a ``gw.DownlinkTxInfo`` (the gateway only makes the frame valid; it is not copied)."""
    try:
        frame = DownlinkFrame(0, gateway_id, (DownlinkItem(b"", tx_info),))
        target.CopyFrom(downlink_to_proto(frame).items[0].tx_info)
    except ProtoConversionError as error:
        raise EventBuildError(f"downlink tx_info: {error}") from None


def _uplink(phy_payload: bytes, tx_info: UplinkTxInfo, reception: UplinkRxInfo) -> Any:
    try:
        return uplink_to_proto(UplinkFrame(phy_payload, tx_info, reception))
    except ProtoConversionError as error:
        raise EventBuildError(f"uplink metadata: {error}") from None
