"""The event log's rows: the WHERE clause of a query, a row back into a record, and a page of
results. Pure functions over what ``sqlite3`` returns; ``event_log`` runs the SQL."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from appliance.app.events.json_mapping import message_from_bytes
from appliance.app.events.kinds import EVENT_MESSAGES, FRAME_MESSAGES, EventKind, FrameKind
from appliance.app.events.records import EventRecord, FrameRecord
from appliance.lorawan.identifiers import EUI64, DevAddr
from hal.model import TxAckStatus

EVENT_COLUMNS = "id, kind, body"
FRAME_COLUMNS = "id, kind, body, gateway_id, tx_status, application_id"

_R = TypeVar("_R", EventRecord, FrameRecord)


@dataclass(frozen=True, slots=True)
class Page(Generic[_R]):
    items: list[_R]
    next_cursor: int | None  # pass as ``before`` for older entries; None: there are none


def key_bytes(value: EUI64 | DevAddr | uuid.UUID | None) -> bytes | None:
    """How an identifier is stored (and compared) in a key column."""
    if value is None:
        return None
    return value.bytes if isinstance(value, uuid.UUID) else bytes(value)


def where_clause(
    equal: tuple[tuple[str, bytes | None], ...],
    kinds: Collection[EventKind] | Collection[FrameKind] | None,
    before: int | None,
) -> tuple[str, list[object]]:
    """`` WHERE ...`` (or nothing) and its arguments: each column equal to its value when one
    is given, ``kind`` among ``kinds``, ``id`` below ``before``."""
    clauses: list[str] = []
    args: list[object] = []
    for column, value in equal:
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    if kinds is not None:
        names = sorted({str(kind) for kind in kinds})
        clauses.append(f"kind IN ({', '.join('?' * len(names))})" if names else "0")
        args.extend(names)
    if before is not None:
        clauses.append("id < ?")
        args.append(before)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def event_of_row(row: tuple[Any, ...]) -> EventRecord:
    """Raises ``ValueError`` (``EventBuildError`` included) for a row that does not decode."""
    record_id, kind, body = row
    message = message_from_bytes(bytes(body), EVENT_MESSAGES[EventKind(str(kind))])
    return EventRecord(message, record_id=int(record_id))


def frame_of_row(row: tuple[Any, ...]) -> FrameRecord:
    """Raises ``ValueError`` (``EventBuildError`` included) for a row that does not decode."""
    record_id, kind, body, gateway_id, tx_status, application_id = row
    frame_kind = FrameKind(str(kind))
    return FrameRecord(
        frame_kind,
        message_from_bytes(bytes(body), FRAME_MESSAGES[frame_kind]),
        gateway_id=EUI64(bytes(gateway_id)),
        tx_status=None if tx_status is None else TxAckStatus(int(tx_status)),
        application_id=None if application_id is None else uuid.UUID(bytes=bytes(application_id)),
        record_id=int(record_id),
    )


def page_of(items: list[_R], rows: list[tuple[Any, ...]], limit: int) -> Page[_R]:
    """``items`` decoded from ``rows`` (``limit`` + 1 were asked for, to know whether older
    ones exist; unreadable rows are missing from ``items``)."""
    if len(rows) <= limit:
        return Page(items, None)
    kept_ids = {row[0] for row in rows[:limit]}
    return Page([item for item in items if item.id in kept_ids], int(rows[limit - 1][0]))
