"""The latest state of each device as the console's device table shows it (last seen, signal,
battery, counters), kept in memory and saved in one transaction every few seconds.

Saving on every uplink would double the writes per uplink for data that may be a few seconds
stale after a crash without harm; the session's counters are durable on their own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from appliance.app.model import DeviceStatus
from appliance.app.repository import Repository

SAVE_INTERVAL_S = 10.0


class StatusTracker:
    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._statuses: dict[str, DeviceStatus] = repository.device_statuses()
        self._dirty: set[str] = set()
        self._last_save: float | None = None

    def get(self, dev_eui: str) -> DeviceStatus:
        return self._statuses.get(dev_eui, DeviceStatus())

    def uplink(
        self, dev_eui: str, *, at: datetime, rssi: int, snr: float, f_cnt: int, dr: int
    ) -> None:
        self._update(dev_eui, last_seen_at=at, rssi=rssi, snr=snr, f_cnt_up=f_cnt, dr=dr)

    def seen(self, dev_eui: str, at: datetime) -> None:
        self._update(dev_eui, last_seen_at=at)

    def battery(
        self, dev_eui: str, *, level: float | None, margin: int, external_power: bool
    ) -> None:
        self._update(dev_eui, battery_level=level, margin=margin, external_power=external_power)

    def forget(self, dev_eui: str) -> None:
        self._statuses.pop(dev_eui, None)
        self._dirty.discard(dev_eui)

    def _update(self, dev_eui: str, **changes: object) -> None:
        self._statuses[dev_eui] = replace(self.get(dev_eui), **changes)  # type: ignore[arg-type]
        self._dirty.add(dev_eui)

    def save_due(self, now_s: float) -> bool:
        """Save the changed statuses if the interval has passed (time is an input)."""
        if not self._dirty:
            return False
        if self._last_save is not None and now_s - self._last_save < SAVE_INTERVAL_S:
            return False
        self.save(now_s)
        return True

    def save(self, now_s: float) -> None:
        changed = {eui: self._statuses[eui] for eui in self._dirty if eui in self._statuses}
        self._repository.save_device_statuses(changed)
        self._dirty.clear()
        self._last_save = now_s
