"""How the network server's SQLite store is tuned, and what it reports of its work.

Kept apart from ``sqlite_store`` (which re-exports both) so the trade-offs read on their own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoreTuning:
    """Trade-offs between speed, memory, latency and disk writes (defaults suit a Pi 4)."""

    # Devices whose decoded session and settings stay in memory; beyond that the least
    # recently used are read again. About 1.8 KiB a device with a full ADR history
    # (``python -m bench.ns sessions``): 10,240 devices take about 18 MB, within the 40 MB
    # the appliance gives this cache (150 MB in all with 100,000 devices).
    cache_sessions: int = 10_240
    # Under steady load a group commit starts at most this long after the previous one:
    # fewer, larger commits (each costs at least one 4 KiB flash page rewrite), for at most
    # this much extra latency per durable write. An idle server commits at once.
    commit_interval_s: float = 0.003
    # The same for batches no downlink waits for (their events wait up to this long).
    relaxed_commit_interval_s: float = 0.020
    # WAL written between checkpoints into the database file: the larger, the more updates
    # of the same page a checkpoint writes once (and the more disk the WAL takes meanwhile).
    checkpoint_wal_bytes: int = 16 * 1024 * 1024
    # Deflate a session that would not fit its database page otherwise (False: never).
    deflate_sessions: bool = True


@dataclass(frozen=True, slots=True)
class StoreStats:
    commits: int  # durable transactions of the hot path (one WAL fsync each)
    checkpoints: int
    session_cache_hits: int
    session_cache_misses: int
