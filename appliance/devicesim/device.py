"""``EndDevice``: a sans-IO class A end-device.

The caller owns the clock and the radio. It asks ``next_wakeup_ns()`` when to come back, calls
``next_transmission(now_ns)`` then and puts the returned frame on the air, and hands every
frame heard during ``receive_windows()`` to ``on_downlink``. Randomness (channels, DevNonce,
back-off jitter) comes from the ``random.Random`` it is given, so a seeded device replays
exactly. Times are monotonic nanoseconds on the caller's clock.
"""

from __future__ import annotations

import random
from typing import Any

from appliance.devicesim import schedule, transmit
from appliance.devicesim.channels import ChannelTable, UplinkChannel
from appliance.devicesim.config import DeviceConfig
from appliance.devicesim.context import DeviceContext, DeviceTime, RejoinPlan, Runtime
from appliance.devicesim.errors import SnapshotError
from appliance.devicesim.radio import ReceiveWindow, Transmission
from appliance.devicesim.receive import receive
from appliance.devicesim.results import DownlinkResult
from appliance.devicesim.session import RadioSettings, Session
from appliance.devicesim.snapshot import state_from_dict, state_to_dict
from appliance.devicesim.state import DeviceState
from appliance.lorawan.maccommands import DeviceTimeReq, LinkCheckAns, LinkCheckReq, MACCommand
from appliance.lorawan.regions import Region, get_region


class EndDevice:
    """One simulated end-device (see the module docstring for the calling pattern)."""

    def __init__(self, config: DeviceConfig, *, rng: random.Random, now_ns: int = 0) -> None:
        region = get_region(config.region)
        self._dev = DeviceContext(
            config, region, rng, DeviceState.initial(config, region), Runtime.starting(now_ns)
        )

    # --- radio side ---------------------------------------------------------------------

    def next_wakeup_ns(self) -> int | None:
        """The earliest time ``next_transmission`` may return a frame; None for never."""
        dev = self._dev
        action = schedule.next_action(dev)
        if action is None:
            return None
        free = schedule.channels_free_at(dev, action.candidates)
        return max(action.due_ns, dev.rt.earliest_tx_ns, free)

    def next_transmission(self, now_ns: int) -> Transmission | None:
        """The frame to send at ``now_ns``, or None when nothing is due yet."""
        return transmit.next_transmission(self._dev, now_ns)

    def receive_windows(self) -> tuple[ReceiveWindow, ...]:
        """RX1 and RX2 of the last transmission, until a frame for the device arrives in one."""
        return self._dev.rt.windows

    def on_downlink(
        self,
        phy_payload: bytes | bytearray | memoryview,
        frequency: int,
        data_rate: int,
        now_ns: int,
        *,
        snr_db: float = 0.0,
    ) -> DownlinkResult:
        """A frame whose preamble started at ``now_ns``; ``snr_db`` feeds DevStatusAns."""
        return receive(self._dev, phy_payload, frequency, data_rate, now_ns=now_ns, snr_db=snr_db)

    # --- application side ---------------------------------------------------------------

    def request_link_check(self) -> None:
        """Send LinkCheckReq in the next new uplink."""
        state = self._dev.state
        state.mac = state.mac.with_answers(LinkCheckReq())

    def request_device_time(self) -> None:
        """Send DeviceTimeReq in the next new uplink (LoRaWAN 1.0.3 and later)."""
        if not self._dev.config.lorawan_version.has_device_time:
            raise ValueError("DeviceTimeReq does not exist before LoRaWAN 1.0.3")
        state = self._dev.state
        state.mac = state.mac.with_answers(DeviceTimeReq())

    def trigger_uplink(self, now_ns: int) -> None:
        """Make the application uplink due at ``now_ns`` rather than at the end of the interval."""
        self._dev.rt.next_uplink_ns = min(self._dev.rt.next_uplink_ns, now_ns)

    def request_rejoin(self, now_ns: int, rejoin_type: int = 1) -> None:
        """Send one rejoin-request at ``now_ns`` (LoRaWAN 1.1 sessions of OTAA devices): type 1
        restores a session the network lost (RJcount1, JSIntKey), types 0 and 2 rekey it
        as ForceRejoinReq would. The accept resets the radio settings except for type 2."""
        dev = self._dev
        session = dev.state.session
        if session is None or session.net_id is None or not session.lorawan_1_1:
            raise ValueError("only a joined LoRaWAN 1.1 device sends rejoin-requests")
        if rejoin_type not in (0, 1, 2):
            raise ValueError(f"rejoin_type must be 0, 1 or 2, got {rejoin_type}")
        dev.rt.rejoin = RejoinPlan(
            rejoin_type=rejoin_type,
            data_rate=dev.state.settings.data_rate,
            remaining=1,
            next_ns=now_ns,
            period_ns=0,
        )

    def set_battery(self, level: int) -> None:
        """0: external power, 1..254: charge level, 255: unknown (reported in DevStatusAns)."""
        if not 0 <= level <= 255:
            raise ValueError(f"battery level must be 0..255, got {level}")
        self._dev.state.battery = level

    # --- inspection ---------------------------------------------------------------------

    @property
    def config(self) -> DeviceConfig:
        return self._dev.config

    @property
    def region(self) -> Region:
        return self._dev.region

    @property
    def session(self) -> Session | None:
        """Address, keys and frame counters of the session; None before an OTAA join."""
        return self._dev.state.session

    @property
    def activated(self) -> bool:
        return self._dev.state.session is not None

    @property
    def settings(self) -> RadioSettings:
        """Data rate, TX power, NbTrans, receive-window and ADR parameters in force."""
        return self._dev.state.settings

    @property
    def channels(self) -> tuple[UplinkChannel, ...]:
        """Every defined uplink channel, enabled or not."""
        return self._dev.state.channels.defined

    @property
    def enabled_channels(self) -> tuple[UplinkChannel, ...]:
        return self._dev.state.channels.enabled

    @property
    def pending_mac_commands(self) -> tuple[MACCommand, ...]:
        """What the next new uplink will carry, in order."""
        return self._dev.state.mac.outgoing()

    @property
    def adr_ack_cnt(self) -> int:
        return self._dev.state.adr_ack_cnt

    @property
    def battery(self) -> int:
        return self._dev.state.battery

    @property
    def link_check(self) -> LinkCheckAns | None:
        """The last LinkCheckAns received."""
        return self._dev.rt.link_check

    @property
    def device_time(self) -> DeviceTime | None:
        """The last DeviceTimeAns received, pinned to the uplink it answered."""
        return self._dev.rt.device_time

    @property
    def last_transmission(self) -> Transmission | None:
        return self._dev.rt.last_tx

    @property
    def dropped_payloads(self) -> int:
        """Application payloads too long for the data rate in force, hence never sent."""
        return self._dev.rt.dropped_payloads

    @property
    def stopped(self) -> str | None:
        """Why the device will never transmit again (nonces or counters exhausted), or None."""
        return self._dev.rt.stopped

    # --- persistence --------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The state a device keeps across a restart, as JSON-ready data."""
        return state_to_dict(self._dev.state, self._dev.config)

    @classmethod
    def restore(
        cls,
        config: DeviceConfig,
        snapshot: dict[str, Any],
        *,
        rng: random.Random,
        now_ns: int = 0,
    ) -> EndDevice:
        """A device that resumes from ``snapshot``: same session, counters, channels, settings
        and queued MAC answers; timers start at ``now_ns`` and its first uplink is due then."""
        device = cls(config, rng=rng, now_ns=now_ns)
        state = state_from_dict(snapshot, config)
        fresh = ChannelTable.initial(device.region, config.sub_bands)
        if (state.channels.fixed, len(state.channels.slots)) != (fresh.fixed, len(fresh.slots)):
            raise SnapshotError(f"the snapshot's channel plan is not {device.region.name}'s")
        if (state.session is not None) and (
            state.session.lorawan_1_1 and not config.lorawan_version.is_1_1
        ):
            raise SnapshotError("a LoRaWAN 1.1 session cannot resume on a 1.0.x device")
        device._dev.state = state
        return device
