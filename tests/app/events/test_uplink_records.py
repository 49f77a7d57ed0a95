"""The hot path's records (``uplink_records``) are the generic path's: the same message, the
same JSON text, the same keys, over generated uplinks and receptions; and where the generic
path refuses an input, the hot path refuses it the same way."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from chirpstack_api import integration, stream
from google.protobuf import json_format
from hypothesis import example, given
from hypothesis import strategies as st

from appliance.app.events import (
    DeviceInfo,
    EventKind,
    EventRecord,
    FrameKind,
    FrameRecord,
    uplink_event,
    uplink_frame_log,
)
from appliance.app.events.device_info import DeviceBlock
from appliance.app.events.json_printers import reception_json, rx_info_json
from appliance.app.events.uplink_records import (
    Receptions,
    rx_message,
    up_record,
    uplink_frame_record,
)
from appliance.lorawan import security
from appliance.lorawan.frames import FCtrl, JoinRequest
from appliance.lorawan.identifiers import EUI64, AESKey
from appliance.lorawan.mhdr import MType
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.uplink.data_flow import UplinkEvent
from hal.model import (
    CRCStatus,
    FSKModulation,
    Location,
    LocationSource,
    LoRaModulation,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from tests.app.events import samples
from tests.app.events.test_json_properties import json_values, receptions

DEDUP_TEXT = str(samples.DEDUP_ID)

# Receptions the generic conversion refuses too, or that only it handles: values out of a
# field's range, floats a float32 cannot hold, times beyond year 9999.
wild_receptions = st.builds(
    UplinkRxInfo,
    gateway_id=st.integers(0, 2**64 - 1).map(EUI64),
    uplink_id=st.integers(-1, 2**32),
    rssi=st.integers(-(2**31) - 1, 2**31),
    snr=st.floats(allow_nan=True, allow_infinity=True),
    channel=st.integers(-1, 2**32),
    context=st.binary(max_size=4),
    crc_status=st.sampled_from(CRCStatus),
    gw_time_ns=st.none() | st.integers(-(10**20), 10**21),
    time_since_gps_epoch_ns=st.none() | st.integers(-(10**21), 10**21),
    location=st.none()
    | st.builds(
        Location,
        st.floats(allow_nan=True),
        st.floats(-180, 180),
        st.floats(allow_infinity=True, allow_nan=False),
        st.sampled_from(LocationSource),
        st.floats(),
    ),
    metadata=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
)
times = st.integers(0, 10**15).map(
    lambda us: datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
)
modulations = st.sampled_from(
    [LoRaModulation(125_000, 7), LoRaModulation(500_000, 12, code_rate=3), FSKModulation(50_000)]
)


def _device(tags: dict[str, str]) -> DeviceInfo:
    return samples.device(**tags)


def _generic(
    event: UplinkEvent, info: DeviceInfo, at: datetime, decoded: dict[str, Any] | None
) -> EventRecord:
    message = uplink_event(
        event,
        info,
        time=at,
        deduplication_id=samples.DEDUP_ID,
        region_config_id="eu868",
        decoded=decoded,
    )
    return EventRecord(message)


def _outcome(make: Any) -> Any:
    try:
        return make()
    except Exception as error:  # the error's type is what must match
        return type(error)


# Protobuf maps (``tags``, ``metadata``) have no order of their own: the generic printer
# prints a map in the order its message happens to iterate it, which changes with a copy or
# a parse, so only the order of these entries may differ.
_MAPS = frozenset({"tags", "metadata"})


def _layout(value: Any) -> Any:
    """The JSON value with the entries of maps sorted, every other order kept."""
    if isinstance(value, dict):
        return [(k, sorted(v.items()) if k in _MAPS else _layout(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_layout(item) for item in value]
    return value


def _same_json(fast: str, generic: str) -> None:
    if fast != generic:
        assert _layout(json.loads(fast)) == _layout(json.loads(generic))


def _same_event(fast: Any, generic: Any) -> None:
    if not isinstance(generic, EventRecord):
        assert fast is generic, (fast, generic)
        return
    assert isinstance(fast, EventRecord)
    assert fast.message == generic.message
    _same_json(fast.json(), generic.json())
    assert integration.UplinkEvent.FromString(fast.to_bytes()) == generic.message
    keys = ("kind", "dev_eui", "application_id", "gateway_ids", "time_ns", "id")
    assert [getattr(fast, k) for k in keys] == [getattr(generic, k) for k in keys]
    parsed = json_format.Parse(fast.json(), integration.UplinkEvent(), ignore_unknown_fields=False)
    assert parsed == generic.message


def _event(rx: tuple[UplinkRxInfo, ...], tx: UplinkTxInfo, **changes: Any) -> UplinkEvent:
    base = samples.data_uplink()
    uplink = DeduplicatedUplink(changes.pop("phy", base.uplink.phy_payload), tx, rx, 0)
    fields = {
        "f_cnt": 153,
        "f_port": 84,
        "data": b"\xaa",
        "confirmed": False,
        "adr": True,
        "dr": 5,
    } | changes
    return UplinkEvent(samples.DEV_EUI, uplink=uplink, **fields)


@given(
    rx=st.lists(receptions, max_size=3),
    decoded=st.none() | st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    f_cnt=st.integers(0, 2**32 - 1),
    f_port=st.integers(1, 255),
    data=st.binary(max_size=64),
    flags=st.tuples(st.booleans(), st.booleans()),
    at=times,
    tags=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
    modulation=modulations,
)
def test_up_record_is_the_generic_one(
    *,
    rx: list[UplinkRxInfo],
    decoded: dict[str, Any] | None,
    f_cnt: int,
    f_port: int,
    data: bytes,
    flags: tuple[bool, bool],
    at: datetime,
    tags: dict[str, str],
    modulation: LoRaModulation | FSKModulation,
) -> None:
    tx = UplinkTxInfo(868_100_000, modulation)
    event = _event(
        tuple(rx), tx, f_cnt=f_cnt, f_port=f_port, data=data, confirmed=flags[0], adr=flags[1]
    )
    info = _device(tags)
    fast = up_record(
        event,
        DeviceBlock(info),
        time=at,
        deduplication_id=DEDUP_TEXT,
        region_config_id="eu868",
        decoded=decoded,
    )
    _same_event(fast, _generic(event, info, at, decoded))


@given(rx=st.lists(wild_receptions, min_size=1, max_size=2), dr=st.integers(-1, 2**32))
@example(rx=[UplinkRxInfo(EUI64(1), snr=float("nan"))], dr=0)
@example(rx=[UplinkRxInfo(EUI64(1), uplink_id=2**32)], dr=0)
@example(rx=[UplinkRxInfo(EUI64(1), gw_time_ns=10**20)], dr=0)
@example(rx=[UplinkRxInfo(EUI64(1), location=Location(math.inf, 0.0))], dr=0)
@example(rx=[UplinkRxInfo(EUI64(1), snr=-0.0, location=Location(-0.0, -0.0, -0.0))], dr=0)
def test_what_the_generic_path_refuses_is_refused_alike(rx: list[UplinkRxInfo], dr: int) -> None:
    event = _event(tuple(rx), samples.TX_EU868, dr=dr)
    info = samples.device()
    fast = _outcome(
        lambda: up_record(
            event,
            DeviceBlock(info),
            time=samples.TIME,
            deduplication_id=DEDUP_TEXT,
            region_config_id="eu868",
        )
    )
    _same_event(fast, _outcome(lambda: _generic(event, info, samples.TIME, None)))


@pytest.mark.parametrize(
    "at",
    [
        samples.TIME.replace(tzinfo=None),  # refused: no time zone
        samples.TIME.astimezone(timezone(timedelta(hours=2))),
        samples.TIME.astimezone(timezone(timedelta(hours=-3, microseconds=7))),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
def test_times_of_any_zone(at: datetime) -> None:
    event, info = samples.data_uplink(), samples.device()
    fast = _outcome(
        lambda: up_record(
            event, DeviceBlock(info), time=at, deduplication_id=DEDUP_TEXT, region_config_id="x"
        )
    )
    generic = _outcome(
        lambda: EventRecord(
            uplink_event(
                event, info, time=at, deduplication_id=samples.DEDUP_ID, region_config_id="x"
            )
        )
    )
    _same_event(fast, generic)


def _deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "decoded",
    [
        {},
        {"b": 1, "a": {"z": [1, 2.5, None, True, "x"], "y": {}}},
        {"tuple": (1, 2)},  # not plain JSON types: read back from the Struct
        {"big": 2**70, "negative zero": -0.0},
        {"bad": float("nan")},
        {"bad": b"bytes"},
        {1: "a key that is not text"},
        {"nested": [{"inf": float("inf")}]},
        {"deep": _deep(5_000)},  # deeper than the interpreter's recursion limit
        {"set": {1, 2}},
        {"sub": OrderedDict(b=1, a=2)},
    ],
    ids=lambda value: ",".join(map(str, value)) or "empty",
)
def test_decoded_objects(decoded: dict[Any, Any]) -> None:
    event, info = samples.data_uplink(), samples.device()
    fast = _outcome(
        lambda: up_record(
            event,
            DeviceBlock(info),
            time=samples.TIME,
            deduplication_id=DEDUP_TEXT,
            region_config_id="eu868",
            decoded=decoded,
        )
    )
    _same_event(fast, _outcome(lambda: _generic(event, info, samples.TIME, decoded)))


def test_an_uplink_without_receptions_has_no_tx_info() -> None:
    event, info = _event((), samples.TX_EU868), samples.device()
    fast = up_record(
        event,
        DeviceBlock(info),
        time=samples.TIME,
        deduplication_id=DEDUP_TEXT,
        region_config_id="eu868",
    )
    _same_event(fast, _generic(event, info, samples.TIME, None))
    assert "txInfo" not in json.loads(fast.json())


def test_the_reference_uplink() -> None:
    event = samples.data_uplink(gateways=(samples.GW1, samples.GW2))
    info = samples.device(building="north", floor="2")
    fast = up_record(
        event,
        DeviceBlock(info),
        time=samples.TIME,
        deduplication_id=DEDUP_TEXT,
        region_config_id="eu868",
        decoded={"temperature": 21.5},
    )
    assert fast.kind is EventKind.UP
    assert fast.gateway_ids == (samples.GW1, samples.GW2)
    assert fast.json() == _generic(event, info, samples.TIME, {"temperature": 21.5}).json()
    assert fast.to_bytes() is fast.to_bytes()  # made once: the outbox and the log share it


# --- frame logs ------------------------------------------------------------------------------


def _data_phy(f_cnt: int) -> bytes:
    frame = security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        samples.DEV_ADDR,
        samples.KEYS,
        f_cnt,
        f_ctrl=FCtrl(adr=True),
        f_port=2,
        payload=b"\x01",
    )
    return frame.encode()


JOIN_PHY = security.sign_join_request(
    JoinRequest(EUI64("70b3d57ed0000000"), samples.DEV_EUI, 7), AESKey(bytes(16))
).encode()
phys = st.one_of(st.integers(0, 0xFFFF).map(_data_phy), st.just(JOIN_PHY), st.binary(max_size=30))


def _same_frame(fast: Any, generic: Any) -> None:
    if not isinstance(generic, FrameRecord):
        assert fast is generic, (fast, generic)
        return
    assert isinstance(fast, FrameRecord)
    assert fast.message == generic.message
    _same_json(fast.json(), generic.json())
    assert stream.UplinkFrameLog.FromString(fast.to_bytes()) == generic.message
    keys = ("kind", "gateway_id", "gateway_ids", "dev_eui", "dev_addr", "tx_status",
            "application_id", "time_ns", "id")  # fmt: skip
    assert [getattr(fast, k) for k in keys] == [getattr(generic, k) for k in keys]


@given(phy=phys, rx=receptions | wild_receptions, at=times, modulation=modulations)
def test_uplink_frame_record_is_the_generic_one(
    phy: bytes, rx: UplinkRxInfo, at: datetime, modulation: LoRaModulation | FSKModulation
) -> None:
    frame = UplinkFrame(phy, UplinkTxInfo(867_100_000, modulation), rx)
    fast = _outcome(lambda: uplink_frame_record(frame, at))
    _same_frame(fast, _outcome(lambda: uplink_frame_log(frame, time=at)))
    if isinstance(fast, FrameRecord):
        assert fast.kind is FrameKind.UPLINK


def test_a_frame_log_hands_its_reception_to_the_up_event() -> None:
    event = samples.data_uplink(gateways=(samples.GW1, samples.GW2))
    kept = Receptions()
    first = event.uplink.rx_info[0]
    uplink_frame_record(UplinkFrame(event.uplink.phy_payload, event.uplink.tx_info, first),
                        samples.TIME, kept)  # fmt: skip
    assert len(kept) == 1
    info = samples.device()
    fast = up_record(
        event,
        DeviceBlock(info),
        time=samples.TIME,
        deduplication_id=DEDUP_TEXT,
        region_config_id="eu868",
        receptions=kept,
    )
    assert len(kept) == 0  # taken; the second reception (no frame log seen) made anew
    _same_event(fast, _generic(event, info, samples.TIME, None))


def test_kept_receptions_are_bounded_and_matched_by_identity() -> None:
    kept = Receptions(limit=3)
    rxs = [UplinkRxInfo(EUI64(n), rssi=-n) for n in range(5)]
    messages = [kept.made(rx) for rx in rxs]
    assert len(kept) == 3  # the two oldest went
    assert kept.take(rxs[4]) is messages[4]
    twin = UplinkRxInfo(EUI64(3), rssi=-3)  # equal, but not the same reception
    assert kept.take(twin) is not messages[3]
    assert kept.take(twin) == messages[3]
    assert kept.take(rxs[0]) == messages[0]  # evicted: made again, the same content


@given(rx=receptions | wild_receptions)
@example(rx=UplinkRxInfo(EUI64(0), gw_time_ns=0, crc_status=CRCStatus.NO_CRC, metadata={"k": "v"}))
def test_reception_json_is_the_message_printer(rx: UplinkRxInfo) -> None:
    """The ``up`` event's rxInfo text, written from the reception, is the printer's."""
    try:
        message = rx_message(rx)
    except Exception:  # what the fast path leaves to the generic one (tested above)
        return
    assert reception_json(rx, message) == rx_info_json(message)
