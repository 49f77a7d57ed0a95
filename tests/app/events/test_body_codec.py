"""Stored bodies deflated against a dictionary per kind: what is written, what reads back
(from the same codec and from one loaded from the file later), bodies stored as they are,
and bodies that cannot be unpacked."""

from __future__ import annotations

import os
import sqlite3
import zlib
from pathlib import Path

import pytest

from appliance.app.events.body_codec import DICTIONARIES_TABLE, BodyCodec
from tests.app.events.test_event_log import up, uplink_frame


def _database(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(DICTIONARIES_TABLE)
    return db


def _commit(codec: BodyCodec, db: sqlite3.Connection) -> None:
    db.execute("BEGIN")
    codec.store_new(db)
    db.execute("COMMIT")
    codec.settle(committed=True)


def test_bodies_pack_against_the_first_of_their_kind_and_read_back(tmp_path: Path) -> None:
    db = _database(tmp_path / "x.db")
    codec = BodyCodec.load(db)
    ups = [up(f_cnt).to_bytes() for f_cnt in range(1, 6)]
    frames = [uplink_frame(f_cnt).to_bytes() for f_cnt in range(1, 6)]
    packed = [codec.pack("up", body) for body in ups] + [
        codec.pack("uplink_frame", body) for body in frames
    ]
    _commit(codec, db)
    assert all(stored[0] == 0 for stored in packed)
    assert sum(map(len, packed)) < sum(map(len, ups + frames)) / 3
    assert [codec.unpack(stored) for stored in packed] == ups + frames
    # Another codec on the same file (a restart) reads them, and packs with the same
    # dictionaries rather than making new ones.
    later = BodyCodec.load(db)
    assert later.dictionaries == 2
    assert [later.unpack(stored) for stored in packed] == ups + frames
    assert later.pack("up", ups[0]) == packed[0]
    db.close()


def test_a_dictionary_of_a_rolled_back_transaction_is_forgotten(tmp_path: Path) -> None:
    db = _database(tmp_path / "x.db")
    codec = BodyCodec.load(db)
    first = codec.pack("up", up(1).to_bytes())
    db.execute("BEGIN")
    codec.store_new(db)
    db.execute("ROLLBACK")
    codec.settle(committed=False)
    assert codec.dictionaries == 0
    with pytest.raises(ValueError, match="no dictionary 1 in the file"):
        codec.unpack(first)
    # The next write makes the kind's dictionary again (and stores it this time).
    body = up(2).to_bytes()
    second = codec.pack("up", body)
    _commit(codec, db)
    assert BodyCodec.load(db).unpack(second) == body
    db.close()


def test_bodies_stored_as_they_are_read_back_as_they_are(tmp_path: Path) -> None:
    db = _database(tmp_path / "x.db")
    codec = BodyCodec.load(db)
    codec.pack("up", up(1).to_bytes())
    _commit(codec, db)
    old_row = up(7).to_bytes()  # written before bodies were packed
    assert codec.unpack(old_row) == old_row
    noise = b"\x12" + os.urandom(300)  # does not deflate: kept as it is
    assert codec.pack("up", noise) == noise
    assert codec.unpack(noise) == noise
    odd = b"\x00" + os.urandom(300)  # would read as packed: packed even if longer
    assert codec.unpack(codec.pack("up", odd)) == odd
    assert codec.pack("up", b"") == b"" and codec.unpack(b"") == b""
    db.close()


def test_bodies_that_cannot_be_unpacked_say_why(tmp_path: Path) -> None:
    db = _database(tmp_path / "x.db")
    codec = BodyCodec.load(db)
    body = up(1).to_bytes()
    packed = codec.pack("up", body)
    _commit(codec, db)
    with pytest.raises(ValueError, match="no dictionary 99"):
        codec.unpack(b"\x00\x63" + packed[2:])
    with pytest.raises(ValueError, match="truncated"):
        codec.unpack(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="truncated dictionary id"):
        codec.unpack(b"\x00\xff\xff")
    with pytest.raises(ValueError, match=r"^packed body: "):
        codec.unpack(packed[:2] + b"\xff" * 20)
    # What a packed body is: the mark, the dictionary's id, raw deflate against it.
    (dictionary,) = db.execute("SELECT data FROM dictionaries WHERE id = 1").fetchone()
    inflate = zlib.decompressobj(-15, zdict=dictionary)
    assert inflate.decompress(packed[2:]) == body
    db.close()


def test_rows_packed_with_the_full_window_of_earlier_versions_still_read(tmp_path: Path) -> None:
    """Earlier versions deflated with zlib's default 32 KiB window; bodies are now packed with
    a small one (far cheaper to set up) and both read back, also bodies and dictionaries
    larger than the small window."""
    db = _database(tmp_path / "x.db")
    codec = BodyCodec.load(db)
    first = up(1).to_bytes() + os.urandom(9_000) + up(2).to_bytes()
    codec.pack("up", first)  # the dictionary: larger than the 8 KiB window
    _commit(codec, db)
    dictionary_id = 1
    later_bodies = [up(f_cnt).to_bytes() + first[-12_000:] for f_cnt in (3, 4)]
    for body in later_bodies:
        stored = codec.pack("up", body)
        assert len(stored) <= len(body)  # packed, or as it is when that is not shorter
        assert codec.unpack(stored) == body
        deflate = zlib.compressobj(3, zlib.DEFLATED, -15, zdict=first)
        older = bytes([0, dictionary_id]) + deflate.compress(body) + deflate.flush()
        assert codec.unpack(older) == body
    db.close()
