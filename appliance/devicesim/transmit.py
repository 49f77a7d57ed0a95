"""Sending: the steps from a due action to a ``Transmission`` and the state after it.

Every transmission ends the same way (``_emitted``): duty-cycle budgets are charged, the receive
windows open, and nothing else may be sent before they close (class A is half duplex). While a
confirmed uplink waits for its ACK, the next uplink also waits RETRANSMIT_TIMEOUT after
RECEIVE_DELAY2 (LoRaWAN 1.0.4 section 4.3.1.3).
"""

from __future__ import annotations

from dataclasses import replace

from appliance.devicesim import schedule
from appliance.devicesim.channels import ChannelTable, UplinkChannel
from appliance.devicesim.config import OTAA, LoRaWANVersion
from appliance.devicesim.context import DeviceContext, Repetition
from appliance.devicesim.dutycycle import join_duty_cycle
from appliance.devicesim.join import (
    JOIN_REQUEST_TYPE,
    PendingJoin,
    build_join_request,
    build_rejoin_request,
    build_rejoin_request_1,
    draw_dev_nonce,
)
from appliance.devicesim.radio import SECOND_NS, Transmission, TransmissionKind
from appliance.devicesim.regional import (
    max_mac_payload,
    modulation,
    next_lower_data_rate,
    time_on_air_ns,
)
from appliance.devicesim.schedule import Action, ActionKind
from appliance.devicesim.session import MACQueue, RadioSettings
from appliance.devicesim.uplink import UplinkPlan, compose_uplink, fits_alone
from appliance.lorawan.fcnt import MAX_F_CNT
from appliance.lorawan.frames import FCtrl
from appliance.lorawan.maccommands import RekeyInd

MAX_RJ_COUNT = 0xFFFF
REJOIN_TYPE_1 = 1
# LoRaWAN 1.0.3 section 18.4 recommended 8 transmissions of a confirmed frame.
PRE_1_0_4_CONFIRMED_TRANSMISSIONS = 8
_STEPPING_DOWN = (LoRaWANVersion.V1_0_2, LoRaWANVersion.V1_0_3)


def next_transmission(dev: DeviceContext, now_ns: int) -> Transmission | None:
    rt = dev.rt
    if now_ns < rt.earliest_tx_ns:
        return None
    action = schedule.next_action(dev)
    if action is None or action.due_ns > now_ns:
        return None
    if action.kind is ActionKind.REVERT_TO_JOIN:
        revert_to_join(dev, now_ns)
        return next_transmission(dev, now_ns)
    free = schedule.free_channels(dev, action, now_ns)
    if not free:
        rt.earliest_tx_ns = schedule.channels_free_at(dev, action.candidates)
        return None
    channel = dev.rng.choice(free)
    if action.kind is ActionKind.JOIN:
        return _send_join(dev, action, channel, now_ns)
    if action.kind is ActionKind.REJOIN:
        return _send_rejoin(dev, action, channel, now_ns)
    if action.kind is ActionKind.REPEAT:
        return _send_repetition(dev, action, channel, now_ns)
    return _send_uplink(dev, action, channel, now_ns)


def revert_to_join(dev: DeviceContext, now_ns: int) -> None:
    """Drop the session and start joining again, as after a reset (keeping the nonces)."""
    region = dev.region
    state, rt = dev.state, dev.rt
    state.session = None
    state.settings = RadioSettings.initial(dev.config, region)
    state.channels = ChannelTable.initial(region, dev.config.sub_bands)
    state.mac = MACQueue()
    state.adr_ack_cnt = state.indication_uplinks = state.uplinks_since_rejoin = 0
    state.ack_f_cnt = None
    state.rejoin_setup = None
    rt.revert_to_join_at = None
    rt.repetition = rt.rejoin = None
    rt.awaiting_ack = None
    rt.next_join_ns = now_ns
    rt.join_attempts = 0


def _emitted(
    dev: DeviceContext,
    tx: Transmission,
    channel: UplinkChannel,
    *,
    pending_join: PendingJoin | None = None,
) -> Transmission:
    """Book-keeping common to every frame; ``pending_join`` is what a join-accept answers."""
    rt, settings = dev.rt, dev.state.settings
    join_fraction = None
    if tx.kind is not TransmissionKind.DATA and dev.config.duty_cycle:
        join_fraction = join_duty_cycle(tx.start_ns - rt.power_up_ns)
    rt.duty = rt.duty.after_transmission(
        dev.region,
        tx.frequency,
        tx.start_ns,
        tx.time_on_air_ns,
        max_duty_cycle=settings.max_duty_cycle,
        regional=dev.config.duty_cycle,
        join_fraction=join_fraction,
    )
    join_request = pending_join is not None and pending_join.join_req_type == JOIN_REQUEST_TYPE
    rt.windows = schedule.open_windows(dev, tx, channel, after_join_request=join_request)
    rt.pending_join = pending_join
    rt.earliest_tx_ns = rt.windows[-1].close_ns
    if rt.awaiting_ack is not None:
        receive_delay2 = (settings.rx1_delay_s + 1) * SECOND_NS
        retry = tx.end_ns + receive_delay2 + schedule.retransmit_delay_ns(dev)
        rt.earliest_tx_ns = max(rt.earliest_tx_ns, retry)
    rt.last_tx = tx
    return tx


def _transmission(
    dev: DeviceContext,
    kind: TransmissionKind,
    payload: bytes,
    channel: UplinkChannel,
    *,
    data_rate: int,
    now_ns: int,
    attempt: int = 1,
    plan: UplinkPlan | None = None,
) -> Transmission:
    return Transmission(
        kind=kind,
        phy_payload=payload,
        frequency=channel.frequency,
        data_rate=data_rate,
        modulation=modulation(dev.region, data_rate),
        tx_power_dbm=dev.state.settings.tx_power_dbm(dev.region),
        start_ns=now_ns,
        time_on_air_ns=time_on_air_ns(dev.region, data_rate, len(payload), uplink=True),
        channel=channel.index,
        attempt=attempt,
        f_cnt=None if plan is None else plan.f_cnt,
        confirmed=plan is not None and plan.confirmed,
        application_payload=plan.payload if plan and plan.carries_application else None,
    )


def _send_join(
    dev: DeviceContext, action: Action, channel: UplinkChannel, now_ns: int
) -> Transmission | None:
    state, rt = dev.state, dev.rt
    drawn = draw_dev_nonce(state.join, dev.config.lorawan_version, dev.rng)
    if drawn is None:
        rt.stopped = "every DevNonce has been used: the device needs a new JoinEUI"
        return None
    dev_nonce, state.join = drawn
    payload = build_join_request(dev.config, dev_nonce)
    tx = _transmission(
        dev,
        TransmissionKind.JOIN_REQUEST,
        payload,
        channel,
        data_rate=action.data_rate,
        now_ns=now_ns,
    )
    rt.join_attempts += 1
    _emitted(dev, tx, channel, pending_join=PendingJoin(JOIN_REQUEST_TYPE, dev_nonce))
    rt.next_join_ns = rt.earliest_tx_ns + schedule.retransmit_delay_ns(dev)
    return tx


def _send_rejoin(
    dev: DeviceContext, action: Action, channel: UplinkChannel, now_ns: int
) -> Transmission | None:
    state, rt = dev.state, dev.rt
    session = state.session
    assert session is not None
    if action.rejoin_type == REJOIN_TYPE_1:
        rj_count1 = state.join.next_rj_count1
        if rj_count1 > MAX_RJ_COUNT:
            rt.rejoin = None  # RJcount1 must never wrap: no more type 1 requests
            return None
        payload = build_rejoin_request_1(dev.config, rj_count1)
        pending = PendingJoin(REJOIN_TYPE_1, rj_count1)
        state.join = replace(state.join, next_rj_count1=rj_count1 + 1)
    elif session.rj_count0 > MAX_RJ_COUNT:
        # RJcount0 must never wrap; the session can only end by a new join.
        rt.rejoin, state.rejoin_setup = None, None
        return None
    else:
        payload = build_rejoin_request(dev.config, session, action.rejoin_type)
        pending = PendingJoin(action.rejoin_type, session.rj_count0)
        state.session = replace(session, rj_count0=session.rj_count0 + 1)
    tx = _transmission(
        dev,
        TransmissionKind.REJOIN_REQUEST,
        payload,
        channel,
        data_rate=action.data_rate,
        now_ns=now_ns,
    )
    if action.forced and rt.rejoin is not None:
        plan = rt.rejoin
        jitter = round(dev.rng.uniform(0, 32) * SECOND_NS)
        rt.rejoin = (
            replace(plan, remaining=plan.remaining - 1, next_ns=now_ns + plan.period_ns + jitter)
            if plan.remaining > 1
            else None
        )
    else:
        state.uplinks_since_rejoin = 0
        rt.last_rejoin_ns = now_ns
    return _emitted(dev, tx, channel, pending_join=pending)


def _confirmed_limit(dev: DeviceContext, settings: RadioSettings) -> int:
    if dev.config.confirmed_transmissions is not None:
        return dev.config.confirmed_transmissions
    if dev.config.lorawan_version in _STEPPING_DOWN:
        return PRE_1_0_4_CONFIRMED_TRANSMISSIONS
    return settings.nb_trans


def _send_uplink(
    dev: DeviceContext, action: Action, channel: UplinkChannel, now_ns: int
) -> Transmission | None:
    config, state, rt = dev.config, dev.state, dev.rt
    session = state.session
    assert session is not None
    if session.f_cnt_up > MAX_F_CNT:
        if isinstance(config.activation, OTAA):
            revert_to_join(dev, now_ns)  # a new join gives new counters
        else:
            rt.stopped = "FCntUp is exhausted: an ABP device cannot continue its session"
        return None
    if action.adr is not None:
        state.settings, state.channels = action.adr.settings, action.adr.channels
    _adopt_channels_and_rate(dev, action)
    settings = state.settings
    application = None
    if action.kind is ActionKind.UPLINK:
        application = (config.f_port, config.payload_for(session.f_cnt_up))
    max_payload = max_mac_payload(dev.region, action.data_rate, settings.uplink_dwell_time)
    plan = compose_uplink(
        f_cnt=session.f_cnt_up,
        f_ctrl=FCtrl(
            adr=config.adr,
            adr_ack_req=action.adr is not None and action.adr.adr_ack_req,
            ack=state.ack_f_cnt is not None,
        ),
        commands=state.mac.outgoing(),
        application=application,
        confirmed=config.confirmed,
        max_mac_payload=max_payload,
        conf_f_cnt=state.ack_f_cnt or 0,
        may_defer=not rt.application_deferred,
    )
    if application is None:
        rt.flush_ns = None
    elif plan.carries_application or not fits_alone(application[1], max_payload):
        rt.dropped_payloads += not plan.carries_application
        rt.application_deferred = False
        jitter = dev.rng.uniform(0, config.uplink_jitter_s) if config.uplink_jitter_s else 0.0
        rt.next_uplink_ns = now_ns + round((config.uplink_interval_s + jitter) * SECOND_NS)
    else:
        # MAC commands took this frame; the application payload stays due and goes next.
        rt.application_deferred = True
    rekey_expired = _count_new_uplink(dev, plan)
    limit = _confirmed_limit(dev, settings) if plan.confirmed else settings.nb_trans
    rt.awaiting_ack = plan.f_cnt if plan.confirmed else None
    tx = _data_transmission(dev, plan, channel, action.data_rate, now_ns, attempt=1)
    # Confirmed frames wait RETRANSMIT_TIMEOUT already through earliest_tx_ns.
    rt.repetition = None
    if limit > 1:
        rt.repetition = Repetition(plan, 1, limit, rt.earliest_tx_ns, action.data_rate)
    if rekey_expired:
        # LoRaWAN 1.1 5.10: no RekeyConf within ADR_ACK_LIMIT uplinks means joining again;
        # the windows of this last uplink still get their chance.
        rt.revert_to_join_at = rt.earliest_tx_ns
    return tx


def _adopt_channels_and_rate(dev: DeviceContext, action: Action) -> None:
    """Make the settings match the rate and channels the action found usable; later frames
    keep them (a confirmed retransmission's lower rate too, LoRaWAN 1.0.3 section 18.4)."""
    state = dev.state
    if action.restore_default_channels:
        state.channels = state.channels.with_defaults_enabled()
    if action.data_rate != state.settings.data_rate:
        state.settings = replace(state.settings, data_rate=action.data_rate)


def _count_new_uplink(dev: DeviceContext, plan: UplinkPlan) -> bool:
    """Count a new frame; True when it was the last one allowed to carry RekeyInd."""
    state = dev.state
    assert state.session is not None
    state.mac = state.mac.after_sending(plan.mac_count)
    state.ack_f_cnt = None
    state.session = replace(state.session, f_cnt_up=plan.f_cnt + 1)
    state.adr_ack_cnt += 1
    if state.rejoin_setup is not None:
        state.uplinks_since_rejoin += 1
    if not isinstance(state.mac.indication, RekeyInd):
        return False
    state.indication_uplinks += 1
    return state.indication_uplinks >= state.settings.adr_ack_limit


def _data_transmission(
    dev: DeviceContext,
    plan: UplinkPlan,
    channel: UplinkChannel,
    data_rate: int,
    now_ns: int,
    *,
    attempt: int,
) -> Transmission:
    session = dev.state.session
    assert session is not None
    payload = plan.sign(session, tx_dr=data_rate, tx_ch=channel.index)
    tx = _transmission(
        dev,
        TransmissionKind.DATA,
        payload,
        channel,
        data_rate=data_rate,
        now_ns=now_ns,
        attempt=attempt,
        plan=plan,
    )
    return _emitted(dev, tx, channel)


def _send_repetition(
    dev: DeviceContext, action: Action, channel: UplinkChannel, now_ns: int
) -> Transmission:
    rt = dev.rt
    repetition = rt.repetition
    assert repetition is not None
    _adopt_channels_and_rate(dev, action)
    attempt = repetition.sent + 1
    tx = _data_transmission(
        dev, repetition.plan, channel, action.data_rate, now_ns, attempt=attempt
    )
    if attempt >= repetition.limit:
        rt.repetition = None
        return tx
    data_rate = repetition.data_rate
    following = attempt + 1
    if (
        repetition.plan.confirmed
        and dev.config.lorawan_version in _STEPPING_DOWN
        and following % 2 == 1
    ):
        data_rate = next_lower_data_rate(
            dev.region, data_rate, dev.state.settings.uplink_dwell_time
        )
    rt.repetition = replace(
        repetition, sent=attempt, next_ns=rt.earliest_tx_ns, data_rate=data_rate
    )
    return tx
