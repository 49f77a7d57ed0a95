"""The network server's state in one SQLite file: devices, profiles, sessions, nonces, queue.

WAL mode with ``synchronous=FULL``: when a coroutine that writes returns, the change survives
a crash or a power cut. The hot path's writes (sessions, JoinNonces, activations) go through
``group_commit`` so one fsync serves many uplinks; the rest are their own transactions.

Root keys and sessions are encrypted with the data directory's secret key
(``appliance.ns.secrets``), bound to their device; sessions are stored in the compact form of
``session_codec`` in a narrow table of their own (``sessions``), so an uplink rewrites a small
page. Decoded sessions and device settings are kept in bounded caches in front of the tables:
a session read from the cache is handed over (the caller owns it until it saves it, so a
half-processed session is never seen by the next reader), and every management write
invalidates what it changed. Management writes live in ``sqlite_management``, the downlink
queue in ``sqlite_queue``, the row formats in ``sqlite_rows``.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from appliance.lorawan.identifiers import EUI64, DevAddr
from appliance.ns import clean_stop, root_keys, session_codec
from appliance.ns.device import Device
from appliance.ns.group_commit import GroupCommitter
from appliance.ns.handouts import Handouts
from appliance.ns.migrations import SCHEMA_VERSION, migrate
from appliance.ns.profile import DeviceProfile
from appliance.ns.root_keys import root_keys_from, sealed_root_keys
from appliance.ns.secrets import SecretBox, SecretsError
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_management import ManagementMixin
from appliance.ns.sqlite_queue import QueueMixin
from appliance.ns.sqlite_rows import (
    DEV_EUIS_BY_ADDR,
    DEVICES_BY_ADDR,
    Bounded,
    connect_store,
    device_to_json,
    holds_secrets,
    profile_from_json,
    settings_from_row,
    settings_of,
)
from appliance.ns.store_tuning import StoreStats, StoreTuning
from appliance.ns.uplink.join import DevNonceHistory

# What a sessions row holds besides the encoded session, and what SQLite keeps of a page for
# itself: a row longer than the page size less this spills into an overflow page (SQLite's
# largest local payload of a table leaf is the usable size - 35; then the record header, the
# DevEUI as text and AES-GCM's nonce and tag).
_ROW_OVERHEAD: Final = 35 + 3 + 16 + 28

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used (the message says which file and why)."""


class DuplicateError(StoreError):
    """A record with that identity exists already."""


class SQLiteStore(ManagementMixin, QueueMixin):
    """``NSStore`` on one SQLite file. Reads run on the caller's thread; the hot path's
    writes are group-committed in a worker thread."""

    def __init__(
        self,
        path: Path,
        secrets: SecretBox,
        tuning: StoreTuning | None = None,
        *,
        check: bool = False,
        vouched: bool = False,
    ) -> None:
        """``check``: read every page at start even if a clean stop vouches for the file
        (``vouched``: its stamp was taken already, see ``open``)."""
        self.path = path
        # Taken before connecting: from here on only this store's clean stop may vouch.
        self._vouched = (clean_stop.take(path) or vouched) and not check
        self._secrets = secrets
        self.tuning = tuning = tuning or StoreTuning()
        # Profiles change rarely and are read on every uplink.
        self._profiles: dict[uuid.UUID, DeviceProfile] = {}
        self._settings: Bounded[str, Device] = Bounded(tuning.cache_sessions)
        self._cached_sessions: Bounded[str, DeviceSession] = Bounded(tuning.cache_sessions)
        # The stored DevAddr of each session handed out and not saved back yet: a session
        # saved with the same one leaves the devices row (and its index) untouched.
        self._handed_addr: dict[str, str] = {}
        # Which devices each DevAddr names (also none: a foreign network's device heard by
        # our gateways), as the devices table says: one indexed query per uplink saved.
        # Forgotten whole on any management write and whenever the group committer moves a
        # device to another DevAddr (``addr_epoch``); not filled while it does.
        self._addr_devices: dict[str, tuple[str, ...]] = {}
        self._addr_epoch = 0
        self._device_count: int | None = None  # see count_devices
        self._handouts = Handouts(tuning.cache_sessions)  # an activation beats older sessions
        self._hits = self._misses = self._direct_commits = 0
        self._miss_rate = 0.0  # of recent session lookups (a moving average)
        try:
            self._db, page_size = connect_store(path)
            # A session update writes about one page (plus its WAL frame header).
            checkpoint_rows = max(tuning.checkpoint_wal_bytes // (page_size + 24), 100)
            # Deflate (7 us) only a session that would otherwise spill out of its page.
            self._deflate_above = page_size - _ROW_OVERHEAD if tuning.deflate_sessions else None
            # The group committer checkpoints; this connection only when the WAL grows far
            # beyond that (no session traffic at all), and it keeps the file from staying big.
            self._db.execute(f"PRAGMA wal_autocheckpoint={4 * checkpoint_rows}")
            self._db.execute(f"PRAGMA journal_size_limit={2 * tuning.checkpoint_wal_bytes}")
            self._migrate()
            self._load_queued()
            self._sessions = GroupCommitter(
                path,
                self._seal_plain,
                interval_s=tuning.commit_interval_s,
                relaxed_interval_s=tuning.relaxed_commit_interval_s,
                checkpoint_rows=checkpoint_rows,
            )
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path}: not a usable database ({exc}); restore it from a "
                "backup or move it away to start empty"
            ) from None

    @classmethod
    def open(
        cls, data_dir: Path, tuning: StoreTuning | None = None, *, check: bool = False
    ) -> SQLiteStore:
        """The store of a data directory with its secret key (created on first start)."""
        path = data_dir / "appliance.db"
        vouched = clean_stop.take(path)  # before holds_secrets leaves a log file behind
        try:
            secrets = SecretBox.open_or_create(data_dir, must_exist=holds_secrets(path))
        except SecretsError as exc:
            raise StoreError(str(exc)) from None
        return cls(path, secrets, tuning, check=check, vouched=vouched)

    def close(self) -> None:
        """Close the connections; every write that returned is durable already."""
        self._sessions.close()
        self._db.close()
        clean_stop.stamp(self.path)

    async def aclose(self) -> None:
        await self._sessions.idle()
        self.close()

    async def flush(self) -> None:
        """Wait until every write handed to the group committer is durable."""
        await self._sessions.flush()

    @property
    def stats(self) -> StoreStats:
        committed = self._sessions.stats
        return StoreStats(
            committed.commits + self._direct_commits,
            committed.checkpoints,
            self._hits,
            self._misses,
        )

    # --- caches ------------------------------------------------------------------------------

    def _invalidate_device(self, dev_eui: EUI64) -> None:
        """A management write changed this device's row, session or nonces."""
        key = str(dev_eui)
        self._settings.take(key)
        self._cached_sessions.take(key)
        self._handed_addr.pop(key, None)
        self._addr_devices.clear()  # its DevAddr may have changed (or it is gone)
        self._device_count = None  # it may be new, or gone

    def clear_caches(self) -> None:
        """Forget every cached session and device setting (they are read again as needed)."""
        self._cached_sessions.clear()
        self._settings.clear()
        self._handed_addr.clear()
        self._addr_devices.clear()
        self._device_count = None

    def _invalidate_profile(self, profile_id: uuid.UUID) -> None:
        """A management write changed or removed this profile."""
        self._profiles.pop(profile_id, None)

    def _hand_over(
        self,
        dev_eui: str,
        sealed: bytes | None,
        stored_addr: str | None,
        *,
        read_stored: bool = False,
    ) -> DeviceSession | None:
        """The newest session of a device, owned by the caller from now on: the cached one
        (taken out of the cache; ``save_session`` puts it back), else the one waiting for
        its commit, else ``sealed`` as read from the table (or read now: ``read_stored``)."""
        session = self._cached_sessions.take(dev_eui)
        if session is not None:
            self._hits += 1
            self._miss_rate -= self._miss_rate / 64
        else:
            self._misses += 1
            self._miss_rate += (1.0 - self._miss_rate) / 64
            pending = self._sessions.pending.get(dev_eui)
            if pending is not None and pending.session is not None:
                session = self._decode(pending.session)
                stored_addr = None  # the stored row may still have another DevAddr
            else:
                if read_stored:
                    sealed = self._stored_session(dev_eui)
                if sealed is not None:
                    session = self._decode(self._unseal(sealed, f"session:{dev_eui}"))
        if session is not None:
            self._handouts.handed(dev_eui)
        if session is not None and stored_addr is not None:
            if len(self._handed_addr) >= self.tuning.cache_sessions:
                self._handed_addr.clear()  # sessions read and never saved; forgetting is safe
            self._handed_addr[dev_eui] = stored_addr
        return session

    # --- secrets and encodings ---------------------------------------------------------------

    def _encode(self, session: DeviceSession) -> bytes:
        return session_codec.encode_session(session, deflate_above=self._deflate_above)

    def _decode(self, plain: bytes) -> DeviceSession:
        try:
            return session_codec.decode_session(plain)
        except session_codec.SessionCodecError as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    def _seal_plain(self, dev_eui: str, plain: bytes) -> bytes:
        # Runs in the group committer's worker thread (AESGCM is safe to share).
        return self._secrets.seal(plain, f"session:{dev_eui}")

    def _seal_session(self, dev_eui: EUI64, session: DeviceSession) -> bytes:
        return self._seal_plain(str(dev_eui), self._encode(session))

    def _unseal(self, blob: bytes, context: str) -> bytes:
        try:
            return self._secrets.unseal(bytes(blob), context)
        except SecretsError as exc:
            raise StoreError(str(exc)) from None

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version (schema {version})")
        # Check before migrating: a damaged file must be left exactly as it was found.
        first = clean_stop.damage(self._db, self.path, vouched=self._vouched)
        if first is not None:
            raise StoreError(
                f"{self.path}: not a usable database (damaged: {first}); restore it from a "
                "backup or move it away to start empty"
            )
        migrate(self._db, version)

    # --- management (used by the application server and tests) ------------------------------

    async def add_device(self, device: Device) -> None:
        await self.add_devices((device,))

    async def add_devices(self, devices: Iterable[Device]) -> None:
        """Add devices (with their sessions, if any) in one transaction: all or none."""
        await self._sessions.flush()  # a pending update of a deleted namesake must not win
        rows, sessions = [], []
        for device in devices:
            dev_eui = str(device.dev_eui)
            rows.append(
                (
                    dev_eui,
                    str(device.join_eui),
                    device_to_json(device),
                    sealed_root_keys(self._secrets, device),
                    None if device.session is None else str(device.session.dev_addr),
                )
            )
            if device.session is not None:
                sessions.append((dev_eui, self._seal_session(device.dev_eui, device.session)))
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO devices (dev_eui, join_eui, data, root_keys, dev_addr) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.executemany("INSERT INTO sessions VALUES (?, ?)", sessions)
        except sqlite3.IntegrityError:
            taken = self._db.execute(
                f"SELECT dev_eui FROM devices WHERE dev_eui IN ({','.join('?' * len(rows))})",
                [row[0] for row in rows],
            ).fetchone()
            what = f"device {taken[0]}" if taken else "a device"
            raise DuplicateError(f"{what} exists already") from None
        self._direct_commits += 1
        for row in rows:
            self._invalidate_device(EUI64(row[0]))

    # --- NSStore -----------------------------------------------------------------------------

    async def sessions_by_dev_addr(self, dev_addr: DevAddr) -> list[tuple[EUI64, DeviceSession]]:
        addr = str(dev_addr)
        pending = self._sessions.pending
        found = []
        if self._miss_rate < 0.5:
            # Most sessions are cached: the DevAddr index alone names the devices.
            for dev_eui in self._devices_of_addr(addr):
                write = pending.get(dev_eui)
                if write is not None and write.session is not None:
                    continue  # a newer session waits for its commit: found below by DevAddr
                session = self._hand_over(dev_eui, None, addr, read_stored=True)
                if session is not None:
                    found.append((EUI64(bytes.fromhex(dev_eui)), session))
        else:
            # Most are not (more devices than the cache holds): one query brings the stored
            # sessions and the settings the uplink asks for next.
            for dev_eui, join_eui, data, sealed in self._db.execute(
                DEVICES_BY_ADDR, (addr,)
            ).fetchall():
                write = pending.get(dev_eui)
                if write is not None and write.session is not None:
                    continue
                self._prime_settings(dev_eui, join_eui, data)
                session = self._hand_over(dev_eui, sealed, addr)
                if session is not None:
                    found.append((EUI64(bytes.fromhex(dev_eui)), session))
        for dev_eui in self._sessions.pending_for_addr(addr):
            session = self._hand_over(dev_eui, None, None)
            if session is not None:
                found.append((EUI64(bytes.fromhex(dev_eui)), session))
        return found

    def _devices_of_addr(self, addr: str) -> tuple[str, ...]:
        committer = self._sessions
        if self._addr_epoch != committer.addr_epoch:
            self._addr_devices.clear()
            self._addr_epoch = committer.addr_epoch
        devices = self._addr_devices.get(addr)
        if devices is None:
            devices = tuple(row[0] for row in self._db.execute(DEV_EUIS_BY_ADDR, (addr,)))
            if not committer.addr_moving:
                if len(self._addr_devices) >= self.tuning.cache_sessions:
                    self._addr_devices.clear()
                self._addr_devices[addr] = devices
        return devices

    def _stored_session(self, dev_eui: str) -> bytes | None:
        """The sealed session as stored. The device's settings come along in the same query
        and fill their cache: the uplink that needed this session asks for them next."""
        row = self._db.execute(
            "SELECT s.session, d.join_eui, d.data FROM sessions s "
            "JOIN devices d ON d.dev_eui = s.dev_eui WHERE s.dev_eui = ?",
            (dev_eui,),
        ).fetchone()
        if row is None:
            return None
        self._prime_settings(dev_eui, row[1], row[2])
        return bytes(row[0])

    def _prime_settings(self, dev_eui: str, join_eui: str, data: str) -> None:
        if self._settings.get(dev_eui) is None:
            self._settings.put(dev_eui, settings_of(dev_eui, join_eui, data))

    async def device(self, dev_eui: EUI64) -> Device | None:
        """The device with its root keys and its session (handed over, see ``_hand_over``)."""
        key = str(dev_eui)
        row = self._db.execute(
            "SELECT d.dev_eui, d.join_eui, d.data, d.root_keys, d.dev_addr, s.session AS sealed "
            "FROM devices d LEFT JOIN sessions s ON s.dev_eui = d.dev_eui WHERE d.dev_eui = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        device = settings_from_row(row)
        keys = row["root_keys"]
        if keys is not None:
            device.root_keys = root_keys_from(self._unseal(keys, root_keys.context(key)))
        device.session = self._hand_over(key, row["sealed"], row["dev_addr"])
        return device

    async def device_settings(self, dev_eui: EUI64) -> Device | None:
        key = str(dev_eui)
        cached = self._settings.get(key)
        if cached is not None:
            return cached
        row = self._db.execute(
            "SELECT dev_eui, join_eui, data FROM devices WHERE dev_eui = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        device = settings_from_row(row)
        self._settings.put(key, device)
        return device

    async def profile(self, profile_id: uuid.UUID) -> DeviceProfile | None:
        cached = self._profiles.get(profile_id)
        if cached is not None:
            return cached
        row = self._db.execute(
            "SELECT data FROM profiles WHERE id = ?", (str(profile_id),)
        ).fetchone()
        if row is None:
            return None
        profile = self._profiles[profile_id] = profile_from_json(row["data"])
        return profile

    async def dev_nonce_history(self, dev_eui: EUI64, dev_nonce: int) -> DevNonceHistory:
        key = str(dev_eui)
        row = self._db.execute(
            "SELECT last_dev_nonce FROM devices WHERE dev_eui = ?", (key,)
        ).fetchone()
        seen = self._db.execute(
            "SELECT 1 FROM dev_nonces WHERE dev_eui = ? AND nonce = ?", (key, dev_nonce)
        ).fetchone()
        last = None if row is None else row["last_dev_nonce"]
        pending = self._sessions.pending.get(key)
        if pending is not None and pending.dev_nonces:
            last = pending.dev_nonces[-1]
            seen = seen or dev_nonce in pending.dev_nonces
        return DevNonceHistory(last, bool(seen))

    async def next_join_nonce(self, dev_eui: EUI64) -> int:
        key = str(dev_eui)
        pending = self._sessions.pending.get(key)
        if pending is not None and pending.join_nonce is not None:
            last = pending.join_nonce
        else:
            row = self._db.execute(
                "SELECT last_join_nonce FROM devices WHERE dev_eui = ?", (key,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no device {dev_eui}")
            last = int(row[0])
        # Reserved at once (a second caller gets the next one), returned once durable.
        await self._sessions.join_nonce(key, last + 1)
        return (last + 1) & 0xFFFFFF

    async def activate(
        self, dev_eui: EUI64, session: DeviceSession, *, dev_nonce: int, join_nonce: int
    ) -> None:
        del join_nonce  # reserved (durably) by next_join_nonce already
        await self._activate(dev_eui, session, dev_nonce)

    async def activate_abp(self, dev_eui: EUI64, session: DeviceSession) -> None:
        """Give a device an ABP session (see ``appliance.ns.activation``), durably."""
        exists = self._db.execute(
            "SELECT 1 FROM devices WHERE dev_eui = ?", (str(dev_eui),)
        ).fetchone()
        if exists is None:
            raise StoreError(f"no device {dev_eui}")
        await self._activate(dev_eui, session, None)

    async def _activate(
        self, dev_eui: EUI64, session: DeviceSession, dev_nonce: int | None
    ) -> None:
        key = str(dev_eui)
        plain = self._encode(session)
        self._handed_addr.pop(key, None)
        self._handouts.activated(key)  # a session handed out before must not be saved over it
        self._cached_sessions.put(key, session)
        try:
            await self._sessions.activate(key, str(session.dev_addr), plain, dev_nonce=dev_nonce)
        except BaseException:
            self._cached_sessions.take(key)
            raise

    @property
    def relaxed_commit_s(self) -> float:
        return max(self.tuning.commit_interval_s, self.tuning.relaxed_commit_interval_s)

    async def save_session(
        self, dev_eui: EUI64, session: DeviceSession, *, urgent: bool = True
    ) -> None:
        # Group-committed with other devices' updates; returns once durable (``urgent``
        # False: no downlink waits, see relaxed_commit_interval_s). The session is cached at
        # once (it is the newest) and dropped again if its commit fails.
        key = str(dev_eui)
        if not self._handouts.may_save(key):
            log.info("%s: a session older than its activation is not saved", key)
            return
        plain = self._encode(session)
        addr = str(session.dev_addr)
        new_addr = self._handed_addr.pop(key, None) != addr
        self._cached_sessions.put(key, session)
        try:
            await self._sessions.save(key, addr, plain, new_dev_addr=new_addr, urgent=urgent)
        except BaseException:
            self._cached_sessions.take(key)
            raise
