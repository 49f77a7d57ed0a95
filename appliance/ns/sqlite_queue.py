"""The downlink queue of the network server's store (mixed into ``SQLiteStore``).

Every data uplink asks for its device's next downlink, and almost every device has none: the
store keeps the DevEUIs that may have one (every item is added by ``enqueue``, on this
connection, and the set is loaded from the table when the store opens), so the question costs
a set lookup, not a query. The set only ever holds too many: a device found with nothing left
is taken out.
"""

from __future__ import annotations

import sqlite3
import uuid

from appliance.lorawan.identifiers import EUI64
from appliance.ns.downlink.data import QueueItem


class QueueMixin:
    _db: sqlite3.Connection
    _direct_commits: int
    _queued: set[str]  # DevEUIs that may have items not sent yet

    def _load_queued(self) -> None:
        self._queued = {
            row[0]
            for row in self._db.execute(
                "SELECT DISTINCT dev_eui FROM queue WHERE f_cnt_down IS NULL"
            )
        }

    async def enqueue(
        self, dev_eui: EUI64, item: QueueItem, *, expires_at_ns: int | None = None
    ) -> None:
        self._queued.add(str(dev_eui))
        with self._db:
            self._db.execute(
                "INSERT INTO queue (id, dev_eui, f_port, data, confirmed, expires_at_ns) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(item.id),
                    str(dev_eui),
                    item.f_port,
                    item.data,
                    int(item.confirmed),
                    expires_at_ns,
                ),
            )

    async def queue(self, dev_eui: EUI64) -> list[QueueItem]:
        rows = self._db.execute(
            "SELECT * FROM queue WHERE dev_eui = ? ORDER BY seq", (str(dev_eui),)
        ).fetchall()
        return [
            QueueItem(uuid.UUID(r["id"]), r["f_port"], bytes(r["data"]), bool(r["confirmed"]))
            for r in rows
        ]

    async def next_queue_item(self, dev_eui: EUI64, now_ns: int) -> tuple[QueueItem | None, bool]:
        key = str(dev_eui)
        if key not in self._queued:
            return None, False
        rows = self._db.execute(
            "SELECT id, f_port, data, confirmed, expires_at_ns FROM queue "
            "WHERE dev_eui = ? AND f_cnt_down IS NULL ORDER BY seq",
            (key,),
        ).fetchall()
        if not rows:
            self._queued.discard(key)
            return None, False
        expired = [
            (r["id"],)
            for r in rows
            if r["expires_at_ns"] is not None and r["expires_at_ns"] < now_ns
        ]
        if expired:
            # Written only when something expired: an empty queue costs no write lock.
            with self._db:
                self._db.executemany("DELETE FROM queue WHERE id = ?", expired)
            self._direct_commits += 1
            rows = [r for r in rows if (r["id"],) not in expired]
            if not rows:
                self._queued.discard(key)
                return None, False
        first = rows[0]
        item = QueueItem(
            uuid.UUID(first["id"]), first["f_port"], bytes(first["data"]), bool(first["confirmed"])
        )
        return item, len(rows) > 1

    async def queue_item_sent(
        self, dev_eui: EUI64, item_id: uuid.UUID, *, f_cnt_down: int, confirmed: bool
    ) -> None:
        with self._db:
            if confirmed:
                self._db.execute(
                    "UPDATE queue SET f_cnt_down = ? WHERE id = ?", (f_cnt_down, str(item_id))
                )
            else:
                self._db.execute("DELETE FROM queue WHERE id = ?", (str(item_id),))
        self._direct_commits += 1

    async def queue_item_acknowledged(self, dev_eui: EUI64, f_cnt_down: int) -> uuid.UUID | None:
        with self._db:
            row = self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND f_cnt_down = ? RETURNING id",
                (str(dev_eui), f_cnt_down),
            ).fetchone()
        self._direct_commits += 1
        return None if row is None else uuid.UUID(row[0])

    async def awaited_acks(self) -> list[tuple[EUI64, int]]:
        rows = self._db.execute(
            "SELECT dev_eui, f_cnt_down FROM queue WHERE f_cnt_down IS NOT NULL ORDER BY seq"
        ).fetchall()
        return [(EUI64(row[0]), int(row[1])) for row in rows]

    async def drop_queue_item(self, dev_eui: EUI64, item_id: uuid.UUID) -> None:
        with self._db:
            self._db.execute(
                "DELETE FROM queue WHERE dev_eui = ? AND id = ?", (str(dev_eui), str(item_id))
            )
        self._direct_commits += 1
