"""Receiving: from bytes heard on the air to a ``DownlinkResult``, in a device's order of checks.

find_window -> decode -> either a join-accept (open_join_accept, then the new session replaces
the old state) or a data frame (open_data_downlink -> note_delivery -> apply_mac_commands ->
the ACK owed for a confirmed frame). A frame that fails a check changes nothing, and the window
stays open for another frame (LoRaWAN 1.0.4 3.3.1: the device skips RX2 only once a frame
addressed to it passed the address and MIC checks).
"""

from __future__ import annotations

from dataclasses import replace

from appliance.devicesim.channels import ChannelTable
from appliance.devicesim.context import DeviceContext, DeviceTime, RejoinPlan
from appliance.devicesim.downlink import OpenedDownlink, open_data_downlink
from appliance.devicesim.join import open_join_accept
from appliance.devicesim.mac import MACContext, MACOutcome, handle_commands
from appliance.devicesim.radio import SECOND_NS, ReceiveWindow
from appliance.devicesim.regional import time_on_air_ns, usable_uplink_data_rates
from appliance.devicesim.results import DownlinkRefused, DownlinkResult, Refusal
from appliance.devicesim.session import MACQueue, RadioSettings, Session
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import FrameError
from appliance.lorawan.frames import DataFrame, EncryptedJoinAccept
from appliance.lorawan.maccommands import (
    ForceRejoinReq,
    RekeyInd,
    ResetInd,
    decode_mac_commands,
)
from appliance.lorawan.maccommands.session import LORAWAN_MINOR_1_1, REJOIN_TYPE_2

REJOIN_PERIOD_UNIT_S = 32  # ForceRejoinReq: 32 s * 2**Period, plus up to 32 s at random


def receive(
    dev: DeviceContext,
    phy_payload: bytes | bytearray | memoryview,
    frequency: int,
    data_rate: int,
    *,
    now_ns: int,
    snr_db: float,
) -> DownlinkResult:
    try:
        window = find_window(dev, frequency, data_rate, now_ns)
    except DownlinkRefused as refused:
        return DownlinkResult.refused(refused.refusal, refused.reason)
    try:
        try:
            frame = decode_phy_payload(phy_payload)
        except FrameError as exc:
            raise DownlinkRefused(Refusal.UNDECODABLE, str(exc)) from None
        if isinstance(frame, EncryptedJoinAccept):
            return _join_accept(dev, frame, window, now_ns)
        if isinstance(frame, DataFrame):
            return _data(dev, frame, window, now_ns, snr_db)
        raise DownlinkRefused(
            Refusal.NOT_FOR_DEVICE, f"a {frame.mtype.label} frame is not for an end-device"
        )
    except DownlinkRefused as refused:
        return DownlinkResult.refused(refused.refusal, refused.reason, window.name)


def find_window(dev: DeviceContext, frequency: int, data_rate: int, now_ns: int) -> ReceiveWindow:
    for window in dev.rt.windows:
        if not window.contains(now_ns):
            continue
        if window.frequency != frequency:
            raise DownlinkRefused(
                Refusal.WRONG_FREQUENCY,
                f"{window.name} listens on {window.frequency} Hz, not {frequency} Hz",
            )
        if window.data_rate != data_rate:
            raise DownlinkRefused(
                Refusal.WRONG_DATA_RATE,
                f"{window.name} listens at DR{window.data_rate}, not DR{data_rate}",
            )
        return window
    opened = ", ".join(
        f"{w.name} {w.open_ns / SECOND_NS:.3f}-{w.close_ns / SECOND_NS:.3f} s"
        for w in dev.rt.windows
    )
    raise DownlinkRefused(
        Refusal.NOT_IN_WINDOW,
        f"no receive window open at {now_ns / SECOND_NS:.3f} s ({opened or 'none scheduled'})",
    )


def _close_windows(dev: DeviceContext, window: ReceiveWindow, size: int, now_ns: int) -> None:
    rt = dev.rt
    rt.windows = ()
    rt.pending_join = None
    end = now_ns + time_on_air_ns(dev.region, window.data_rate, size, uplink=False)
    if rt.awaiting_ack is None:
        rt.earliest_tx_ns = end
    else:
        rt.earliest_tx_ns = max(rt.earliest_tx_ns, end)


def _join_accept(
    dev: DeviceContext, frame: EncryptedJoinAccept, window: ReceiveWindow, now_ns: int
) -> DownlinkResult:
    config, region, state, rt = dev.config, dev.region, dev.state, dev.rt
    pending = rt.pending_join
    if pending is None:
        raise DownlinkRefused(
            Refusal.UNEXPECTED_JOIN_ACCEPT, "no join- or rejoin-request awaits an answer"
        )
    outcome = open_join_accept(
        frame, config=config, region=region, pending=pending, state=state.join
    )
    accept = outcome.accept
    state.join = replace(state.join, last_join_nonce=accept.join_nonce)
    rejoin = pending.join_req_type in (0, 1, REJOIN_TYPE_2)
    if pending.join_req_type != REJOIN_TYPE_2:
        # A join or a type 0 rejoin starts the radio settings over; type 2 only rekeys.
        state.settings = replace(
            RadioSettings.initial(config, region),
            rx1_dr_offset=accept.dl_settings.rx1_dr_offset,
            rx2_data_rate=accept.dl_settings.rx2_data_rate,
            rx1_delay_s=max(accept.rx_delay, 1),
        )
        state.channels = ChannelTable.initial(region, config.sub_bands).with_cf_list(accept.cf_list)
    state.session = Session(accept.dev_addr, outcome.keys, accept.home_net_id)
    indication = RekeyInd(minor=LORAWAN_MINOR_1_1) if outcome.opt_neg else None
    state.mac = MACQueue(indication=indication)
    state.adr_ack_cnt = state.indication_uplinks = state.uplinks_since_rejoin = 0
    state.ack_f_cnt = None
    if not rejoin:
        state.rejoin_setup = None
    _close_windows(dev, window, len(frame.encode()), now_ns)
    rt.repetition = rt.rejoin = None
    rt.awaiting_ack = rt.revert_to_join_at = None
    rt.join_attempts = 0
    rt.last_rejoin_ns = now_ns
    return DownlinkResult(accepted=True, window=window.name, joined=True)


def _data(
    dev: DeviceContext, frame: DataFrame, window: ReceiveWindow, now_ns: int, snr_db: float
) -> DownlinkResult:
    state, rt = dev.state, dev.rt
    session = state.session
    if session is None:
        raise DownlinkRefused(Refusal.NOT_ACTIVATED, "the device has not joined yet")
    opened = open_data_downlink(frame, session, acknowledged_f_cnt=rt.awaiting_ack)
    acked = _note_delivery(dev, opened, session, window, now_ns)
    outcome = _apply_mac_commands(dev, opened, snr_db, now_ns)
    if frame.confirmed:
        state.ack_f_cnt = opened.f_cnt
    if frame.f_ctrl.f_pending and dev.config.respond_to_f_pending:
        rt.flush_ns = rt.earliest_tx_ns  # give the network an uplink to answer soon
    return DownlinkResult(
        accepted=True,
        window=window.name,
        f_cnt=opened.f_cnt,
        confirmed=frame.confirmed,
        ack=acked,
        f_pending=frame.f_ctrl.f_pending,
        payloads=() if opened.payload is None else (opened.payload,),
        mac_commands=outcome.handled + outcome.unsupported,
        mac_answers=outcome.sticky + outcome.answers,
    )


def _note_delivery(
    dev: DeviceContext, opened: OpenedDownlink, session: Session, window: ReceiveWindow, now_ns: int
) -> bool:
    """Advance the counter, end the windows and the repetitions a downlink ends."""
    state, rt = dev.state, dev.rt
    following = opened.f_cnt + 1
    if opened.application_counter:
        state.session = replace(session, a_f_cnt_down=following)
    else:
        state.session = replace(session, n_f_cnt_down=following)
    state.adr_ack_cnt = 0
    acked = opened.frame.f_ctrl.ack and rt.awaiting_ack is not None
    if acked:
        rt.awaiting_ack = None
        rt.repetition = None
    elif rt.repetition is not None and not rt.repetition.plan.confirmed:
        rt.repetition = None  # any class A downlink ends NbTrans repetitions
    _close_windows(dev, window, len(opened.frame.encode()), now_ns)
    return acked


def _apply_mac_commands(
    dev: DeviceContext, opened: OpenedDownlink, snr_db: float, now_ns: int
) -> MACOutcome:
    state, rt = dev.state, dev.rt
    assert state.session is not None
    commands = decode_mac_commands(opened.mac_commands, uplink=False).commands
    outcome = handle_commands(
        commands,
        settings=state.settings,
        channels=state.channels,
        ctx=MACContext(
            region=dev.region,
            version=dev.config.lorawan_version,
            lorawan_1_1=state.session.lorawan_1_1,
            adr=dev.config.adr,
            battery=state.battery,
            snr_db=snr_db,
        ),
    )
    state.settings, state.channels = outcome.settings, outcome.channels
    mac = state.mac.on_downlink(outcome.sticky).with_answers(*outcome.answers)
    if outcome.reset_conf and isinstance(mac.indication, ResetInd):
        mac = replace(mac, indication=None)
    if outcome.rekey_conf and isinstance(mac.indication, RekeyInd):
        mac = replace(mac, indication=None)
        state.indication_uplinks = 0
        rt.revert_to_join_at = None
    state.mac = mac
    if outcome.link_check is not None:
        rt.link_check = outcome.link_check
    if outcome.device_time is not None and rt.last_tx is not None:
        rt.device_time = DeviceTime(outcome.device_time, rt.last_tx.end_ns)
    if outcome.force_rejoin is not None:
        rt.rejoin = _rejoin_plan(dev, outcome.force_rejoin, now_ns)
    if outcome.rejoin_setup is not None:
        state.rejoin_setup = outcome.rejoin_setup
        state.uplinks_since_rejoin = 0
        rt.last_rejoin_ns = now_ns
    return outcome


def _rejoin_plan(dev: DeviceContext, command: ForceRejoinReq, now_ns: int) -> RejoinPlan | None:
    if command.rejoin_type > REJOIN_TYPE_2:
        return None  # RFU types are ignored
    rejoin_type = REJOIN_TYPE_2 if command.rejoin_type == REJOIN_TYPE_2 else 0
    settings = dev.state.settings
    usable = usable_uplink_data_rates(dev.region, settings.uplink_dwell_time)
    data_rate = command.data_rate if command.data_rate in usable else settings.data_rate
    return RejoinPlan(
        rejoin_type=rejoin_type,
        data_rate=data_rate,
        remaining=command.max_retries + 1,
        next_ns=now_ns,
        period_ns=command.min_period_seconds * SECOND_NS,
    )
