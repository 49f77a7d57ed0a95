"""The parts the hot path's records are made of: a reception's message and JSON (as the
generic conversion and printer make them), the DevAddr read from a frame's header (as the
decoder reads it), and the deduplication IDs."""

from __future__ import annotations

import os
import uuid
from typing import Any

from chirpstack_api import common, gw
from hypothesis import example, given
from hypothesis import strategies as st

from appliance.app.events import message_to_json, uplink_frame_log
from appliance.app.events.build import dev_addr_of
from appliance.app.events.json_printers import location_json, rx_info_json
from appliance.app.events.uplink_records import DeduplicationIds, data_frame_dev_addr, rx_message
from hal.model import UplinkFrame, UplinkRxInfo
from tests.app.events import samples
from tests.app.events.test_json_properties import receptions

# --- receptions, their JSON, the DevAddr -----------------------------------------------------


@given(rx=receptions)
def test_a_reception_converts_as_hal_proto_does(rx: UplinkRxInfo) -> None:
    generic = uplink_frame_log(UplinkFrame(b"", samples.TX_EU868, rx), time=samples.TIME)
    assert rx_message(rx) == generic.message.rx_info[0]


rx_messages = st.builds(
    gw.UplinkRxInfo,
    gateway_id=st.text(max_size=17),
    uplink_id=st.integers(0, 2**32 - 1),
    rssi=st.integers(-(2**31), 2**31 - 1),
    snr=st.floats(width=32),
    channel=st.integers(0, 3),
    rf_chain=st.integers(0, 2),
    board=st.integers(0, 2),
    antenna=st.integers(0, 2),
    context=st.binary(max_size=5),
    metadata=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4),
    crc_status=st.integers(0, 4),
)


@given(
    message=rx_messages,
    times=st.lists(st.none() | st.integers(-(10**18), 10**18), min_size=4, max_size=4),
    location=st.none()
    | st.builds(
        common.Location,
        latitude=st.floats(),
        longitude=st.floats(),
        altitude=st.floats(),
        source=st.integers(0, 8),
        accuracy=st.floats(width=32),
    ),
)
def test_reception_json_is_the_generic_printers(
    message: Any, times: list[int | None], location: Any
) -> None:
    names = ("gw_time", "ns_time", "time_since_gps_epoch", "fine_time_since_gps_epoch")
    for name, value in zip(names, times, strict=True):
        if value is not None:
            target = getattr(message, name)
            target.seconds, target.nanos = divmod(value, 10**9)
            target.SetInParent()
    if location is not None:
        message.location.CopyFrom(location)
    assert rx_info_json(message) == message_to_json(message)


def test_an_empty_location_prints_as_an_empty_object() -> None:
    assert location_json(common.Location()) == "{}" == message_to_json(common.Location())


@given(phy=st.binary(max_size=30))
@example(phy=bytes.fromhex("40 01020304 05 0100 010203040506 00 aabbccdd".replace(" ", "")))
@example(phy=bytes.fromhex("40 01020304 00 0100 00 aabbccdd".replace(" ", "")))
@example(phy=bytes.fromhex("41 01020304 00 0100 01 aabbccdd".replace(" ", "")))
@example(phy=bytes.fromhex("a0 01020304 0f 0100 aabbccdd".replace(" ", "")))
def test_dev_addr_from_the_header_is_the_decoders(phy: bytes) -> None:
    assert data_frame_dev_addr(phy) == dev_addr_of(phy)


def test_dev_addr_of_every_data_type_and_f_opts_length() -> None:
    for mhdr in range(256):
        for f_ctrl in (0x00, 0x03, 0x0F, 0xF5):
            for tail in (b"", b"\x00", b"\x01\x02", bytes(20)):
                phy = bytes([mhdr]) + b"\x01\x02\x03\x04" + bytes([f_ctrl]) + b"\x00\x01"
                phy += tail + b"\xaa\xbb\xcc\xdd"
                assert data_frame_dev_addr(phy) == dev_addr_of(phy), phy.hex()


# --- deduplication IDs -----------------------------------------------------------------------


def test_deduplication_ids_are_random_version_4_uuids() -> None:
    ids = DeduplicationIds()
    made = [ids() for _ in range(3_000)]  # several pools
    assert len(set(made)) == len(made)
    for text in made:
        value = uuid.UUID(text)
        assert (value.version, value.variant) == (4, uuid.RFC_4122)
        assert str(value) == text


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    ids = DeduplicationIds()
    ids()  # the pool is drawn
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ID and leave at once
        os.write(write, ids().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    assert child != ids()
