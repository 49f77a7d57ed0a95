"""What the network server needs from storage, as a protocol the storage layer implements.

Every write that changes a counter or a session resolves only once it is durable: the flows
await it before any downlink or event that depends on it leaves the process.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from appliance.lorawan.identifiers import EUI64, DevAddr
from appliance.ns.device import Device
from appliance.ns.downlink.data import QueueItem
from appliance.ns.profile import DeviceProfile
from appliance.ns.session import DeviceSession
from appliance.ns.uplink.join import DevNonceHistory


class NSStore(Protocol):
    async def sessions_by_dev_addr(self, dev_addr: DevAddr) -> list[tuple[EUI64, DeviceSession]]:
        """Every enabled device whose session (or pending rejoin session) has this DevAddr."""
        ...

    async def device(self, dev_eui: EUI64) -> Device | None: ...

    async def device_settings(self, dev_eui: EUI64) -> Device | None:
        """The device without its secrets and session (cheap: no decryption), for the hot
        path that only needs its flags, profile and variables."""
        ...

    async def profile(self, profile_id: uuid.UUID) -> DeviceProfile | None: ...

    async def dev_nonce_history(self, dev_eui: EUI64, dev_nonce: int) -> DevNonceHistory: ...

    async def next_join_nonce(self, dev_eui: EUI64) -> int:
        """The JoinNonce for this device's next join-accept (never reused, durably)."""
        ...

    async def activate(
        self, dev_eui: EUI64, session: DeviceSession, *, dev_nonce: int, join_nonce: int
    ) -> None:
        """Record the DevNonce and JoinNonce and store the new session, durably."""
        ...

    async def save_session(
        self, dev_eui: EUI64, session: DeviceSession, *, urgent: bool = True
    ) -> None:
        """Store the session, durably; ``urgent`` False: no downlink waits for it."""
        ...

    @property
    def relaxed_commit_s(self) -> float:
        """How long a write that is not urgent may wait for its commit, at most."""
        ...

    async def next_queue_item(self, dev_eui: EUI64, now_ns: int) -> tuple[QueueItem | None, bool]:
        """The next downlink not yet sent and not expired, and whether more wait behind it."""
        ...

    async def queue_item_sent(
        self, dev_eui: EUI64, item_id: uuid.UUID, *, f_cnt_down: int, confirmed: bool
    ) -> None:
        """An unconfirmed item is done once sent; a confirmed one waits for the device's ACK."""
        ...

    async def queue_item_acknowledged(self, dev_eui: EUI64, f_cnt_down: int) -> uuid.UUID | None:
        """Remove the confirmed item sent with this counter; returns its id if there was one."""
        ...

    async def drop_queue_item(self, dev_eui: EUI64, item_id: uuid.UUID) -> None: ...

    async def awaited_acks(self) -> list[tuple[EUI64, int]]:
        """Confirmed items sent and neither acknowledged nor timed out: (DevEUI, FCntDown)."""
        ...
