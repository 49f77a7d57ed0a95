"""Property tests: whatever a station sends, the parsers count it and never raise."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.errors import FrameError, InvalidValueError
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import get_region
from hal.basic_station import (
    Reply,
    SessionConfig,
    StationDataRates,
    StationMessageError,
    StationSession,
    format_id6,
    message_from_phy_payload,
    parse_eui,
    phy_payload_from_message,
    region_channels,
)
from hal.basic_station.discovery import answer_router_info
from hal.basic_station.emulator import uplink_message
from hal.model import DownlinkTxAck, UplinkFrame

RATES = StationDataRates(get_region("EU868"))
MESSAGE_TYPES = ["updf", "jreq", "rejoin", "propdf", "version", "dntxed", "timesync", "dndf", "x"]
FIELDS = [
    "MHdr",
    "DevAddr",
    "FCtrl",
    "FCnt",
    "FOpts",
    "FPort",
    "FRMPayload",
    "MIC",
    "JoinEui",
    "DevEui",
    "DevNonce",
    "DR",
    "Freq",
    "upinfo",
    "diid",
    "seqno",
    "txtime",
    "protocol",
    "features",
    "xtime",
    "rctx",
    "gpstime",
    "fts",
    "rssi",
    "snr",
    "rxtime",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.text(alphabet="0123456789abcdefABCDEF-:", max_size=24)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {"msgtype": st.sampled_from(MESSAGE_TYPES)},
    optional=dict.fromkeys(FIELDS, values),
)
VALID_UPDF = uplink_message(
    bytes.fromhex("40abcdefff01f3f4ff202122a0a1a2a3"), data_rate=5, frequency_hz=868_100_000
)


def _session() -> StationSession:
    config = SessionConfig(RATES, region_channels(RATES.region), rate_limit_per_s=1e9)
    return StationSession(EUI64(1), config, now_ns=0)


def _check(outputs: list[Any]) -> None:
    for output in outputs:
        assert isinstance(output, Reply | UplinkFrame | DownlinkTxAck)
        if isinstance(output, Reply):
            json.loads(output.text)


@given(messages)
def test_session_never_raises_on_messages(message: dict[str, Any]) -> None:
    session = _session()
    _check(session.receive_text(json.dumps(message), 0, 0))


@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=4))
def test_session_never_raises_on_damaged_uplinks(damage: dict[str, Any]) -> None:
    session = _session()
    outputs = session.receive_text(json.dumps(VALID_UPDF | damage), 0, 0)
    _check(outputs)
    assert len(outputs) + sum(session.drops.values()) == 1


@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_session_never_raises_on_text(text: str) -> None:
    _check(_session().receive_text(text, 0, 0))


@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
def test_uplink_rebuild_raises_only_station_errors(fields: dict[str, Any]) -> None:
    for msgtype in ("updf", "jreq", "rejoin", "propdf"):
        with contextlib.suppress(StationMessageError):
            phy_payload_from_message({"msgtype": msgtype, **fields})


@given(st.binary(min_size=0, max_size=255))
def test_every_frame_station_forwards_is_rebuilt_exactly(frame: bytes) -> None:
    try:
        message = message_from_phy_payload(frame)
    except FrameError:
        return
    if message["msgtype"] in ("jacc", "dndf"):
        return
    assert phy_payload_from_message(json.loads(json.dumps(message))) == frame


@given(scalars | values)
def test_eui_parser_raises_only_value_errors(value: object) -> None:
    with contextlib.suppress(InvalidValueError):
        parse_eui(value)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_eui_forms_round_trip(value: int) -> None:
    eui = EUI64(value)
    for form in (format_id6(eui), eui.dashed(), str(eui), value):
        assert parse_eui(form) == eui


@given(values | st.text(max_size=60))
def test_router_info_never_raises(request: Any) -> None:
    text = request if isinstance(request, str) else json.dumps({"router": request})
    answer = answer_router_info(text, base_uri="ws://h:1", refuse=lambda _: None)
    json.loads(answer.text)
