"""Property: whatever the radio metadata and the codec's object, the JSON parses back
strictly into the very message it was printed from."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chirpstack_api import integration
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st

from appliance.app.events import message_to_json, uplink_event
from appliance.lorawan.identifiers import EUI64
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import CRCStatus, Location, LocationSource, UplinkRxInfo
from tests.app.events import samples


def _float32(value: float) -> float:
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


float32s = st.floats(-1e6, 1e6, allow_nan=False).map(_float32)
times_ns = st.integers(0, 253_402_300_799 * 10**9)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

receptions = st.builds(
    UplinkRxInfo,
    gateway_id=st.integers(0, 2**64 - 1).map(EUI64),
    uplink_id=st.integers(0, 2**32 - 1),
    rssi=st.integers(-(2**31), 2**31 - 1),
    snr=float32s,
    channel=st.integers(0, 2**32 - 1),
    rf_chain=st.integers(0, 1),
    board=st.integers(0, 3),
    antenna=st.integers(0, 3),
    context=st.binary(max_size=16),
    crc_status=st.sampled_from(CRCStatus),
    gw_time_ns=st.none() | times_ns,
    ns_time_ns=st.none() | times_ns,
    time_since_gps_epoch_ns=st.none() | st.integers(0, 10**18),
    fine_time_since_gps_epoch_ns=st.none() | st.integers(0, 10**18),
    location=st.none()
    | st.builds(
        Location,
        st.floats(-90, 90),
        st.floats(-180, 180),
        st.floats(-500, 9000),
        st.sampled_from(LocationSource),
        st.floats(0, 1000).map(_float32),
    ),
    metadata=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)


@given(
    rx=st.lists(receptions, min_size=1, max_size=3),
    decoded=st.none() | st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    f_cnt=st.integers(0, 2**32 - 1),
    data=st.binary(max_size=64),
    microseconds=st.integers(0, 10**15),
    tags=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)
def test_uplink_json_round_trips(
    *,
    rx: list[UplinkRxInfo],
    decoded: dict[str, Any] | None,
    f_cnt: int,
    data: bytes,
    microseconds: int,
    tags: dict[str, str],
) -> None:
    base = samples.data_uplink()
    uplink = DeduplicatedUplink(base.uplink.phy_payload, samples.TX_EU868, tuple(rx), 0)
    event = UplinkEvent(samples.DEV_EUI, f_cnt, 84, data, True, False, 3, uplink)
    message = uplink_event(
        event,
        samples.device(**tags),
        time=datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=microseconds),
        deduplication_id=uuid.uuid4(),
        region_config_id="eu868",
        decoded=decoded,
    )
    text = message_to_json(message)
    assert (
        json_format.Parse(text, integration.UplinkEvent(), ignore_unknown_fields=False) == message
    )
