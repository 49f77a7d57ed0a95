"""Join and rejoin requests in the pipeline: checked, answered with a join- or rejoin-accept
whose session (and JoinNonce) is durable before the accept leaves.

A mixin of ``Pipeline`` (``appliance/ns/pipeline.py``), which holds the state these use; kept
apart so each file stays readable.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Protocol

from appliance.lorawan.frames import JoinRequest, RejoinRequest02, RejoinRequest1
from appliance.lorawan.identifiers import EUI64
from appliance.ns import mac
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.downlink.windows import RxWindow, join_accept_windows, rejoin_accept_windows
from appliance.ns.events import JoinEvent, Metrics, NSEvent
from appliance.ns.network import NetworkSettings
from appliance.ns.radio import data_rate_of
from appliance.ns.store import NSStore
from appliance.ns.uplink import join, rejoin


class _Pipeline(Protocol):
    """What the join handling uses of ``Pipeline``."""

    settings: NetworkSettings
    store: NSStore
    rng: random.Random
    metrics: Metrics

    @property
    def emit(self) -> Callable[[NSEvent], None]: ...

    def _drop(self, reason: str, detail: str = "") -> None: ...

    def _warn(self, dev_eui: EUI64, code: str, detail: str) -> None: ...

    def _drop_downlink(self, dev_eui: EUI64, detail: str) -> None: ...

    def _reachable(
        self, windows: tuple[RxWindow, ...], uplink: DeduplicatedUplink
    ) -> tuple[RxWindow, ...]: ...

    async def _transmit(
        self,
        dev_eui: EUI64,
        uplink: DeduplicatedUplink,
        windows: tuple[RxWindow, ...],
        phy_payload: bytes,
        *,
        f_cnt_down: int,
        queue_item_id: uuid.UUID | None = None,
    ) -> bool: ...


class JoinHandling:
    __slots__ = ()

    # --- joins -------------------------------------------------------------------------------

    async def _join(self: _Pipeline, request: JoinRequest, uplink: DeduplicatedUplink) -> None:
        device = await self.store.device(request.dev_eui)
        if device is None or device.join_eui != request.join_eui:
            self._drop("unknown_dev_eui", str(request.dev_eui))
            return
        profile = await self.store.profile(device.profile_id)
        if profile is None:
            self._drop("device_profile_missing", str(device.profile_id))
            return
        history = await self.store.dev_nonce_history(request.dev_eui, request.dev_nonce)
        refusal = join.check_request(request, device, profile, history)
        if refusal is not None:
            self._drop(refusal.reason.value, refusal.detail)
            # DevEUI and JoinEUI are the device's: a wrong MIC means a wrong key somewhere.
            self._warn(request.dev_eui, refusal.reason.value, refusal.detail)
            return
        region = self.settings.region
        dr = data_rate_of(region, uplink.tx_info.modulation, uplink=True)
        join_nonce = await self.store.next_join_nonce(request.dev_eui)
        dev_addr = join.allocate_dev_addr(self.settings, self.rng)
        accepted = join.accept(
            request,
            device=device,
            profile=profile,
            settings=self.settings,
            dev_addr=dev_addr,
            join_nonce=join_nonce,
            uplink_dr=dr,
        )
        await self.store.activate(
            request.dev_eui, accepted.session, dev_nonce=request.dev_nonce, join_nonce=join_nonce
        )
        self.metrics.joins += 1
        self.emit(JoinEvent(request.dev_eui, dev_addr, uplink))
        windows = self._reachable(
            join_accept_windows(region, self.settings, uplink.tx_info), uplink
        )
        if not windows:
            self._drop_downlink(request.dev_eui, "the join-accept windows have passed")
            return
        await self._transmit(request.dev_eui, uplink, windows, accepted.phy_payload, f_cnt_down=0)

    # --- rejoins (LoRaWAN 1.1, types 0, 1 and 2) ----------------------------------------------

    async def _rejoin(
        self: _Pipeline, request: RejoinRequest02 | RejoinRequest1, uplink: DeduplicatedUplink
    ) -> None:
        device = await self.store.device(request.dev_eui)
        profile = None if device is None else await self.store.profile(device.profile_id)
        if device is None or profile is None or not device.enabled:
            self._drop("unknown_dev_eui", str(request.dev_eui))
            return
        if isinstance(request, RejoinRequest1):
            refusal = rejoin.check_rejoin_1(request, device, profile)
            counter = f"RJcount1 {request.rj_count1}"
        else:
            refusal = rejoin.check_rejoin(request, device, self.settings)
            counter = f"RJcount0 {request.rj_count0}"
        if refusal is not None:
            self._drop(refusal.value, counter)
            self._warn(request.dev_eui, refusal.value, f"type {request.rejoin_type}, {counter}")
            return
        assert device.session is not None
        # The answer to a ForceRejoinReq, if one was sent: it must not count as unanswered.
        mac.rejoin_request_received(device.session)
        join_nonce = await self.store.next_join_nonce(request.dev_eui)
        accepted = rejoin.accept_rejoin(
            request, device=device, profile=profile, settings=self.settings, join_nonce=join_nonce
        )
        # The current session, now holding the pending one and the new RJcount, durably.
        await self.store.save_session(request.dev_eui, accepted.session)
        self.metrics.rejoins += 1
        region = self.settings.region
        windows = self._reachable(
            rejoin_accept_windows(region, self.settings, device.session, uplink.tx_info), uplink
        )
        if not windows:
            self._drop_downlink(request.dev_eui, "the rejoin-accept windows have passed")
            return
        await self._transmit(request.dev_eui, uplink, windows, accepted.phy_payload, f_cnt_down=0)
