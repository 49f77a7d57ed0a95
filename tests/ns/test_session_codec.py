"""The stored form of sessions: lossless for whatever ``to_dict`` gives, old JSON still read."""

from __future__ import annotations

import json
import random
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings

from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns import session_codec
from appliance.ns.profile import MACVersion
from appliance.ns.session import DeviceSession, UplinkHistoryEntry
from tests.ns.test_session_model import sessions


def _full_session() -> DeviceSession:
    session = DeviceSession(
        DevAddr("26011bda"),
        SessionKeys.for_1_0(AESKey(bytes(range(16))), AESKey(bytes(range(1, 17)))),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        f_cnt_up=123_456,
    )
    for f_cnt in range(30):
        session.add_uplink_history(UplinkHistoryEntry(f_cnt, 7.25 - f_cnt / 10, -80, 0, 2))
    return session


@settings(max_examples=60)
@given(sessions())
def test_every_session_round_trips(session: DeviceSession) -> None:
    data = session.to_dict()
    for deflate in (True, False):
        blob = session_codec.encode(data, deflate=deflate)
        assert blob[0] == (session_codec.MSGPACK_DEFLATED if deflate else session_codec.MSGPACK)
        assert session_codec.decode(blob) == data
        assert DeviceSession.from_dict(session_codec.decode(blob)) == session


def test_json_written_by_earlier_versions_is_read() -> None:
    session = _full_session()
    stored = json.dumps(session.to_dict()).encode()  # what the first releases wrote
    assert DeviceSession.from_dict(session_codec.decode(stored)) == session


def test_a_full_session_fits_a_small_page() -> None:
    data = _full_session().to_dict()
    deflated = session_codec.encode(data)
    assert len(deflated) < 400  # with the 28 bytes of AES-GCM, far below a 1 KiB page
    assert len(session_codec.encode(data, deflate=False)) < len(json.dumps(data)) / 2


def test_fields_it_does_not_know_are_kept() -> None:
    # Another version of DeviceSession may add fields: they must survive unchanged.
    data: dict[str, Any] = _full_session().to_dict()
    data["a_field_from_the_future"] = {"nested": [1, 2.5, None, "x"], "7": True}
    data["keys"]["another_key"] = "00" * 16
    assert session_codec.decode(session_codec.encode(data)) == data


def test_what_msgpack_cannot_hold_falls_back_to_json() -> None:
    data: dict[str, Any] = {"counter": 1 << 70, "list": [1, 2]}
    blob = session_codec.encode(data)
    assert blob.startswith(b"{")
    assert session_codec.decode(blob) == data


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "empty"),
        (b"\x09rest", "unknown format"),
        (b"\x02not deflate data", "damaged"),
        (b"\x01\xc1", "damaged"),
        (b"\x01\x92\x01\x02", "not a mapping"),
        (b"{not json", "damaged"),
        (b"\x01\x81\xcd\x10\x00\x01", "newer version"),
    ],
)
def test_bad_bytes_give_a_clear_error(blob: bytes, message: str) -> None:
    with pytest.raises(session_codec.SessionCodecError, match=message):
        session_codec.decode(blob)


# --- the record formats (0x03, 0x04): what is written now ------------------------------------


@settings(max_examples=100)
@given(sessions())
def test_every_session_round_trips_as_a_record(session: DeviceSession) -> None:
    for deflate_above in (None, 0):
        blob = session_codec.encode_session(session, deflate_above=deflate_above)
        assert blob[0] in (session_codec.RECORD, session_codec.RECORD_DEFLATED)
        assert session_codec.decode_session(blob) == session


def test_a_full_session_fits_a_small_page_without_deflate() -> None:
    session = _full_session()
    assert session.uplink_history.packed is not None  # radio SNR steps stay packed
    blob = session_codec.encode_session(session, deflate_above=430)
    assert blob[0] == session_codec.RECORD
    # With the 28 bytes of AES-GCM, the DevEUI and SQLite's own bytes: one 512-byte page.
    assert len(blob) < 430
    old = session_codec.encode(session.to_dict(), deflate=False)
    assert len(blob) < len(old) * 0.6


def test_deflate_only_above_the_limit_and_only_when_it_helps() -> None:
    session = _full_session()
    plain = session_codec.encode_session(session)
    deflated = session_codec.encode_session(session, deflate_above=len(plain) - 1)
    assert deflated[0] == session_codec.RECORD_DEFLATED and len(deflated) < len(plain)
    assert session_codec.decode_session(deflated) == session
    assert session_codec.encode_session(session, deflate_above=len(plain)) == plain
    noise = DeviceSession.from_record(session.to_record())
    draw = random.Random(1)
    noise.keys = SessionKeys(*(AESKey(draw.randbytes(16)) for _ in range(4)))
    noise.uplink_history.clear()  # random keys and little else: deflate cannot shorten it
    assert session_codec.encode_session(noise, deflate_above=0)[0] == session_codec.RECORD


def test_every_format_is_read_as_a_session() -> None:
    session = _full_session()
    data = session.to_dict()
    for blob in (
        json.dumps(data).encode(),
        session_codec.encode(data, deflate=False),
        session_codec.encode(data, deflate=True),
        session_codec.encode_session(session),
    ):
        assert session_codec.decode_session(blob) == session


def test_a_history_the_packed_form_cannot_hold_is_stored_as_a_list() -> None:
    session = _full_session()
    session.add_uplink_history(UplinkHistoryEntry(1000, 7.83, -80, 0, 2))
    assert session.uplink_history.packed is None
    assert session_codec.decode_session(session_codec.encode_session(session)) == session


def test_a_record_too_large_for_msgpack_falls_back_to_json() -> None:
    session = _full_session()
    session.last_device_status_request_ns = 1 << 70
    blob = session_codec.encode_session(session)
    assert blob.startswith(b"{")
    assert session_codec.decode_session(blob) == session


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "empty"),
        (b"\x03", "damaged"),
        (b"\x03\x92\x01\x02", "2 fields where 47 are known"),
        (b"\x03" + msgpack.packb([0] * 48), "newer version"),
        (b"\x03\x81\x01\x02", "not a sequence"),
        (b"\x04not deflate data", "damaged"),
        (b"\x03" + msgpack.packb([None] * 47), "damaged"),
        (b"{}", "damaged"),
    ],
)
def test_bad_records_give_a_clear_error(blob: bytes, message: str) -> None:
    with pytest.raises(session_codec.SessionCodecError, match=message):
        session_codec.decode_session(blob)
