"""Start-up checks every page of appliance.db only when the last stop was not clean, or the
file changed since: a clean stop's stamp vouches for an unchanged file (a 100,000-device
database is 90 MB to read from an SD card at every boot otherwise)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from appliance.ns import clean_stop
from appliance.ns.sqlite_store import SQLiteStore, StoreError
from bench.system.fleet import FleetSpec, provision
from bench.system.processes import start_appliance, write_config

PAGE = 512


def _damage_quietly(path: Path) -> None:
    """Damage a page in the middle and put the size and times back as they were: what a
    stamp cannot see (bit rot on the card)."""
    info = path.stat()
    with open(path, "r+b") as file:
        file.seek(info.st_size // PAGE // 2 * PAGE)
        file.write(b"\xa5" * PAGE)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _stamp(data_dir: Path) -> Path:
    return data_dir / ("appliance.db" + clean_stop.SUFFIX)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    provision(data_dir, FleetSpec(300))
    return data_dir


def test_a_clean_close_vouches_and_the_next_open_takes_the_stamp_away(data_dir: Path) -> None:
    assert _stamp(data_dir).exists()  # provisioning closed its store cleanly
    store = SQLiteStore.open(data_dir)
    try:
        assert not _stamp(data_dir).exists()  # a crash from here on leaves none
    finally:
        store.close()
    assert _stamp(data_dir).exists()


def test_a_file_changed_since_the_clean_stop_is_checked(data_dir: Path) -> None:
    path = data_dir / "appliance.db"
    data = bytearray(path.read_bytes())
    middle = len(data) // PAGE // 2 * PAGE
    data[middle : middle + PAGE] = b"\xa5" * PAGE
    path.write_bytes(bytes(data))  # a new modification time
    with pytest.raises(StoreError, match="damaged"):
        SQLiteStore.open(data_dir)


def test_without_a_stamp_every_page_is_checked(data_dir: Path) -> None:
    _stamp(data_dir).unlink()  # as after a kill or a power cut
    _damage_quietly(data_dir / "appliance.db")
    with pytest.raises(StoreError, match="damaged"):
        SQLiteStore.open(data_dir)


def test_damage_behind_unchanged_metadata_passes_unless_a_check_is_asked_for(
    data_dir: Path,
) -> None:
    # The documented limit of the stamp, and the option that covers it.
    _damage_quietly(data_dir / "appliance.db")
    store = SQLiteStore.open(data_dir)
    store.close()  # vouched for: not read (a stamp again: the file is as it was)
    with pytest.raises(StoreError, match="damaged"):
        SQLiteStore.open(data_dir, check=True)


def test_a_stamp_with_a_write_ahead_log_beside_it_does_not_vouch(data_dir: Path) -> None:
    _damage_quietly(data_dir / "appliance.db")
    (data_dir / "appliance.db-wal").write_bytes(b"\0" * 32)  # left by another connection
    with pytest.raises(StoreError, match="not a usable database"):
        SQLiteStore.open(data_dir)


def test_a_malformed_stamp_does_not_vouch(data_dir: Path) -> None:
    _damage_quietly(data_dir / "appliance.db")
    _stamp(data_dir).write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="damaged"):
        SQLiteStore.open(data_dir)
    assert not _stamp(data_dir).exists()


def test_no_stamp_while_another_connection_keeps_a_log(data_dir: Path) -> None:
    store = SQLiteStore.open(data_dir)
    other = sqlite3.connect(data_dir / "appliance.db")
    try:
        other.execute("SELECT count(*) FROM devices").fetchone()
        store.close()  # the other connection keeps the write-ahead log
        assert not _stamp(data_dir).exists()
    finally:
        other.close()


@pytest.mark.slow
def test_the_appliance_stamps_at_a_clean_stop_and_not_at_a_kill(data_dir: Path) -> None:
    write_config(data_dir, {"log_level": "info"})
    running = start_appliance(data_dir)
    try:
        assert not _stamp(data_dir).exists()
    finally:
        assert running.stop() == 0
    assert _stamp(data_dir).exists()
    running = start_appliance(data_dir)
    running.kill()
    assert not _stamp(data_dir).exists()  # so the next start reads every page
