"""Stored event bodies deflated against a dictionary per kind, kept in the same SQLite file
(the event log's and the integration outbox's).

A stored body is either the message's protobuf bytes as they are (every row written before
this existed, and bodies that would not shrink), or a packed body: a zero byte (no protobuf
message starts with one: there is no field number 0), the dictionary's id as a varint, then
raw deflate (level 1) of the protobuf bytes with that dictionary as its preset window.

A kind's dictionary is the first body of that kind the file stores. The events of one site
share most of their bytes (tenant, application and profile ids and names, gateway ids,
region, the field layout), so an ``up`` event of about 470 bytes packs into about 100 and a
frame-log entry of 140 into 75, where deflate alone leaves 290 and 130; and deflating
against a dictionary is faster than without one (less left to encode). Dictionaries are
never changed or deleted (one per kind), so every row stays readable.

A dictionary made while writing a batch is stored in the batch's own transaction
(``store_new``) and only used for later batches once that transaction committed
(``settle``): a batch that failed leaves nothing that would refer to a dictionary the file
does not have.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable
from typing import Final

DICTIONARIES_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS dictionaries "
    "(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, data BLOB NOT NULL)"
)
_MARK: Final = 0
_LEVEL: Final = 3  # as fast as 1 here (the dictionary does most of the work), 5 % smaller
# An 8 KiB window and a small hash table: setting up zlib's default state (32 KiB window,
# memLevel 8, about 260 KiB to allocate and clear) cost about 55 of the 63 µs a 600-byte
# body took to pack on the test machine, twice or three times per uplink (frame log, event
# log, outbox). A body and its dictionary are a few hundred bytes, so the output is the same
# size (8 µs). Inflating with the default 32 KiB window reads it, and every older row.
_WINDOW_BITS: Final = -13  # raw deflate
_MEM_LEVEL: Final = 5


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class BodyCodec:
    def __init__(self, dictionaries: Iterable[tuple[int, str, bytes]] = ()) -> None:
        self._by_id: dict[int, bytes] = {}
        self._by_kind: dict[str, tuple[bytes, bytes]] = {}  # kind -> (prefix, dictionary)
        self._new: dict[str, tuple[int, bytes]] = {}  # made in the current transaction
        self._next_id = 1
        for ident, kind, data in sorted(dictionaries):
            self._add(ident, kind, data)

    @classmethod
    def load(cls, db: sqlite3.Connection) -> BodyCodec:
        """The dictionaries stored in ``db`` (its ``dictionaries`` table must exist)."""
        rows = db.execute("SELECT id, kind, data FROM dictionaries").fetchall()
        return cls((int(ident), str(kind), bytes(data)) for ident, kind, data in rows)

    def _add(self, ident: int, kind: str, data: bytes) -> None:
        self._by_id[ident] = data
        self._by_kind[kind] = (bytes([_MARK]) + _varint(ident), data)
        self._next_id = max(self._next_id, ident + 1)

    @property
    def dictionaries(self) -> int:
        return len(self._by_id)

    def pack(self, kind: str, body: bytes) -> bytes:
        """What to store for ``body`` of event or frame kind ``kind``."""
        known = self._by_kind.get(kind)
        if known is None:
            new = self._new.get(kind)
            if new is None:  # the first of its kind: it becomes the dictionary
                new = self._new[kind] = (self._next_id + len(self._new), body)
            prefix, dictionary = bytes([_MARK]) + _varint(new[0]), new[1]
        else:
            prefix, dictionary = known
        deflate = zlib.compressobj(
            _LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEM_LEVEL, zdict=dictionary
        )
        packed = prefix + deflate.compress(body) + deflate.flush()
        # As it is when that is shorter, unless it would read as packed (never a protobuf).
        return body if len(body) <= len(packed) and body[:1] != bytes([_MARK]) else packed

    def pack_known(self, kind: str, body: bytes) -> bytes | None:
        """``pack`` when ``kind`` has a stored dictionary; None when the next batch makes it
        (then ``pack`` within that batch's transaction)."""
        if kind not in self._by_kind:
            return None
        return self.pack(kind, body)

    def store_new(self, db: sqlite3.Connection) -> None:
        """Write the dictionaries ``pack`` made since the last ``settle``; call it inside the
        transaction that writes the rows packed with them."""
        if self._new:
            db.executemany(
                "INSERT INTO dictionaries (id, kind, data) VALUES (?, ?, ?)",
                [(ident, kind, data) for kind, (ident, data) in self._new.items()],
            )

    def settle(self, *, committed: bool) -> None:
        """The transaction ended: its new dictionaries are stored (or were rolled back)."""
        if committed:
            for kind, (ident, data) in self._new.items():
                self._add(ident, kind, data)
        self._new.clear()

    def unpack(self, stored: bytes) -> bytes:
        """The protobuf bytes of a stored body; ``ValueError`` when it cannot be unpacked."""
        if not stored or stored[0] != _MARK:
            return stored
        ident, shift, at = 0, 0, 1
        while True:
            if at >= len(stored) or shift > 28:
                raise ValueError("packed body: truncated dictionary id")
            byte = stored[at]
            ident |= (byte & 0x7F) << shift
            at += 1
            if byte < 0x80:
                break
            shift += 7
        dictionary = self._by_id.get(ident)
        if dictionary is None:
            raise ValueError(f"packed body: no dictionary {ident} in the file")
        inflate = zlib.decompressobj(-15, zdict=dictionary)
        try:
            body = inflate.decompress(stored[at:]) + inflate.flush()
        except zlib.error as error:
            raise ValueError(f"packed body: {error}") from None
        if not inflate.eof:
            raise ValueError("packed body: truncated")
        return body
