"""Entries of the event log waiting for their write, already turned into table rows.

A row is built (protobuf bytes, deflated against its kind's dictionary) when the entry is
appended, not when the batch is written: a flush of 200 entries used to stop the event loop
for about 6 ms, the longest wait a confirmed uplink's ACK met at 1,000 uplinks/s; spread
over the appends it is a few microseconds each. Only the first entry of a kind the file has
no dictionary for yet waits as it is: its dictionary is made and stored with the batch's
transaction (``BodyCodec.store_new``), so it is packed then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.app.events.body_codec import BodyCodec
from appliance.app.events.log_rows import key_bytes
from appliance.app.events.records import EventRecord, FrameRecord


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A body still to pack, with the batch that stores its kind's new dictionary."""

    kind: str
    body: bytes


Row = tuple[Any, ...]  # the table's columns in order, the body last (bytes or ``Unpacked``)


def _body(codec: BodyCodec, kind: str, body: bytes) -> bytes | Unpacked:
    packed = codec.pack_known(kind, body)
    return Unpacked(kind, body) if packed is None else packed


def event_row(codec: BodyCodec, e: EventRecord) -> Row:
    kind = e.kind.value
    return (
        e.time_ns,
        kind,
        bytes(e.dev_eui),
        e.application_id.bytes,
        _body(codec, kind, e.to_bytes()),
    )


def frame_row(codec: BodyCodec, f: FrameRecord) -> Row:
    kind = f.kind.value
    return (
        f.time_ns,
        kind,
        bytes(f.gateway_id),
        key_bytes(f.dev_eui),
        key_bytes(f.dev_addr),
        key_bytes(f.application_id),
        None if f.tx_status is None else int(f.tx_status),
        _body(codec, kind, f.to_bytes()),
    )


def finished(codec: BodyCodec, rows: list[Row]) -> list[Row]:
    """The rows with every body packed (inside the transaction that stores new dictionaries)."""
    return [
        (*row[:-1], codec.pack(row[-1].kind, row[-1].body))
        if isinstance(row[-1], Unpacked)
        else row
        for row in rows
    ]
