"""What the device wants to send next, when, and where it listens afterwards.

``next_action`` is pure: the same context gives the same answer, so ``next_wakeup_ns`` and
``next_transmission`` agree. Order of precedence: a frame being repeated finishes first
(LoRaWAN 1.0.4 4.3.1.3: nothing new while repetitions are pending); otherwise the earliest of a
rejoin-request, the application's uplink and a MAC-only uplink, in that order on ties.

Receive windows (LoRaWAN 1.0.4 section 3.3, RP002-1.0.4 2.3 and x.7): RX1 opens RECEIVE_DELAY1
(JOIN_ACCEPT_DELAY1 after a join- or rejoin-request) after the end of the uplink, on the RX1
frequency at the RX1 data rate; RX2 one second later on the RX2 frequency and data rate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from appliance.devicesim.adr import ADRStep, adr_before_uplink
from appliance.devicesim.channels import FIXED_125KHZ_CHANNELS, UplinkChannel
from appliance.devicesim.config import OTAA
from appliance.devicesim.context import DeviceContext
from appliance.devicesim.radio import SECOND_NS, ReceiveWindow, Transmission, TransmissionKind
from appliance.devicesim.regional import MIN_RX_SYMBOLS, modulation, symbol_ns
from appliance.lorawan.regions.fixed import FixedChannelPlan

# LoRaMac-node's US915/AU915 join pattern: eight 125 kHz attempts, then one at 500 kHz.
FIXED_PLAN_JOIN_CYCLE = 9
REJOIN_TYPE_0 = 0


class ActionKind(StrEnum):
    JOIN = "join"
    REJOIN = "rejoin"
    REPEAT = "repeat"
    UPLINK = "uplink"  # the application's periodic uplink
    FLUSH = "flush"  # a MAC-only uplink (FPending)
    REVERT_TO_JOIN = "revert-to-join"


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    due_ns: int
    data_rate: int
    candidates: tuple[UplinkChannel, ...]
    adr: ADRStep | None = None  # the ADR step a new uplink applies first
    rejoin_type: int = REJOIN_TYPE_0
    forced: bool = False  # a ForceRejoinReq rejoin (else periodic)
    restore_default_channels: bool = False


def channels_free_at(dev: DeviceContext, candidates: tuple[UplinkChannel, ...]) -> int:
    """When the first of ``candidates`` is out of every duty-cycle off-time."""
    if not candidates:
        return dev.rt.duty.device_free_at
    return min(dev.rt.duty.channel_free_at(dev.region, c.frequency) for c in candidates)


def free_channels(dev: DeviceContext, action: Action, now_ns: int) -> list[UplinkChannel]:
    return [
        c
        for c in action.candidates
        if dev.rt.duty.channel_free_at(dev.region, c.frequency) <= now_ns
    ]


def nearest_carried_rate(channels: tuple[UplinkChannel, ...], data_rate: int) -> int:
    """``data_rate`` if a channel carries it, else the closest rate below (or above) that one
    does: a device cannot send at a rate none of its channels allows."""
    if any(c.supports(data_rate) for c in channels) or not channels:
        return data_rate
    below = [c.max_dr for c in channels if c.max_dr < data_rate]
    return max(below) if below else min(c.min_dr for c in channels)


def _data_channels(dev: DeviceContext, data_rate: int, adr: ADRStep | None) -> Action:
    table = dev.state.channels if adr is None else adr.channels
    candidates = table.for_data_rate(data_rate)
    restore = not candidates
    if restore:
        # No enabled channel carries this rate (e.g. a back-off from a 500 kHz rate); the
        # default channels come back, as they do at the end of an ADR back-off.
        table = table.with_defaults_enabled()
        data_rate = nearest_carried_rate(table.enabled, data_rate)
        candidates = table.for_data_rate(data_rate)
    return Action(
        ActionKind.UPLINK, 0, data_rate, candidates, adr, restore_default_channels=restore
    )


def _join_action(dev: DeviceContext) -> Action:
    table = dev.state.channels
    plan = dev.region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        narrow = tuple(c for c in table.enabled if c.index < FIXED_125KHZ_CHANNELS)
        wide = tuple(c for c in table.enabled if c.index >= FIXED_125KHZ_CHANNELS)
        use_wide = dev.rt.join_attempts % FIXED_PLAN_JOIN_CYCLE == FIXED_PLAN_JOIN_CYCLE - 1
        if (use_wide and wide) or not narrow:
            return Action(ActionKind.JOIN, dev.rt.next_join_ns, plan.join_data_rate_500khz, wide)
        return Action(ActionKind.JOIN, dev.rt.next_join_ns, plan.join_data_rate_125khz, narrow)
    defaults = tuple(c for c in table.enabled if c.index < table.default_count)
    data_rate = nearest_carried_rate(defaults, dev.state.settings.data_rate)
    candidates = tuple(c for c in defaults if c.supports(data_rate))
    return Action(ActionKind.JOIN, dev.rt.next_join_ns, data_rate, candidates)


def _rejoin_actions(dev: DeviceContext) -> list[Action]:
    state, rt = dev.state, dev.rt
    actions: list[Action] = []
    if state.session is None or state.session.net_id is None:
        return actions  # only a joined device can rejoin
    if rt.rejoin is not None:
        plan = rt.rejoin
        data = _data_channels(dev, plan.data_rate, None)
        actions.append(
            replace(
                data,
                kind=ActionKind.REJOIN,
                due_ns=plan.next_ns,
                rejoin_type=plan.rejoin_type,
                forced=True,
            )
        )
    setup = state.rejoin_setup
    if setup is not None:
        due = rt.last_rejoin_ns + setup.max_time_seconds * SECOND_NS
        if state.uplinks_since_rejoin >= setup.max_count:
            due = rt.last_rejoin_ns  # the count limit is reached: due at once
        data = _data_channels(dev, state.settings.data_rate, None)
        actions.append(replace(data, kind=ActionKind.REJOIN, due_ns=due))
    return actions


def next_action(dev: DeviceContext) -> Action | None:
    state, rt = dev.state, dev.rt
    if rt.stopped is not None:
        return None
    if rt.revert_to_join_at is not None:
        return Action(ActionKind.REVERT_TO_JOIN, rt.revert_to_join_at, 0, ())
    if state.session is None:
        return _join_action(dev) if isinstance(dev.config.activation, OTAA) else None
    if rt.repetition is not None:
        data = _data_channels(dev, rt.repetition.data_rate, None)
        return replace(data, kind=ActionKind.REPEAT, due_ns=rt.repetition.next_ns)
    adr = adr_before_uplink(
        state.adr_ack_cnt,
        settings=state.settings,
        channels=state.channels,
        region=dev.region,
        version=dev.config.lorawan_version,
        adr=dev.config.adr,
    )
    data = _data_channels(dev, adr.settings.data_rate, adr)
    options = _rejoin_actions(dev)
    options.append(replace(data, kind=ActionKind.UPLINK, due_ns=rt.next_uplink_ns))
    if rt.flush_ns is not None:
        options.append(replace(data, kind=ActionKind.FLUSH, due_ns=rt.flush_ns))
    return min(options, key=lambda action: action.due_ns)


def retransmit_delay_ns(dev: DeviceContext) -> int:
    """RETRANSMIT_TIMEOUT: a random 1..3 s (RP002-1.0.4 section 2.3)."""
    low, high = dev.region.defaults.retransmit_timeout_s
    return round(dev.rng.uniform(low, high) * SECOND_NS)


def _window(
    dev: DeviceContext, name: str, frequency: int, data_rate: int, nominal_ns: int
) -> ReceiveWindow:
    margin = round(dev.config.rx_window_margin_ms * 1_000_000)
    detect = MIN_RX_SYMBOLS * symbol_ns(dev.region, data_rate)
    return ReceiveWindow(
        name,
        frequency,
        data_rate,
        modulation(dev.region, data_rate),
        nominal_ns - margin,
        nominal_ns + margin + detect,
    )


def open_windows(
    dev: DeviceContext, tx: Transmission, channel: UplinkChannel, *, after_join_request: bool
) -> tuple[ReceiveWindow, ...]:
    region, settings = dev.region, dev.state.settings
    rx1_frequency = dev.state.channels.rx1_frequency(channel, region)
    if tx.kind is TransmissionKind.DATA:
        delay1 = settings.rx1_delay_s
        delay2 = delay1 + 1
    else:
        delay1 = region.defaults.join_accept_delay1_s
        delay2 = region.defaults.join_accept_delay2_s
    if after_join_request:
        # The join-accept comes with RX1DROffset 0 and the region's default RX2.
        offset, rx2_rate, rx2_frequency = 0, region.rx2_data_rate, region.rx2_frequency_hz
    else:
        offset, rx2_rate = settings.rx1_dr_offset, settings.rx2_data_rate
        rx2_frequency = settings.rx2_frequency
    rx1_rate = region.rx1_data_rate(tx.data_rate, offset, settings.downlink_dwell_time)
    return (
        _window(dev, "RX1", rx1_frequency, rx1_rate, tx.end_ns + delay1 * SECOND_NS),
        _window(dev, "RX2", rx2_frequency, rx2_rate, tx.end_ns + delay2 * SECOND_NS),
    )
