"""What a validated data uplink changes and produces (ChirpStack's uplink/data.rs, pure).

After ``validation.match_device`` accepted a frame, ``process`` runs the flow's steps in order:
decrypt FOpts and FRMPayload, note an ACK of a confirmed downlink, advance the uplink counter,
record link quality for ADR, handle the MAC commands, choose what to ask the device, and say
what the downlink must carry. It changes the session in place and returns the events; the
caller persists the session (durably) before any event or downlink leaves the process.

A retransmission of the previous frame (NbTrans repeats) produces no new events and no MAC
handling; it is answered again only if it was confirmed (its ACK may have been lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from appliance.lorawan import security
from appliance.lorawan.frames import DataFrame
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.maccommands import MACCommand, decode_mac_commands
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.downlink.data import DownlinkNeed
from appliance.ns.mac import (
    F_OPTS_BUDGET,
    LogLevel,
    MACContext,
    MACEvent,
    MACLog,
    MACLogCode,
    UplinkMeta,
    handle_uplink_mac_commands,
    pending_requests,
    select_mac_commands,
)
from appliance.ns.session import UplinkHistoryEntry
from appliance.ns.uplink.validation import Accepted


@dataclass(frozen=True, slots=True)
class UplinkEvent:
    """An application uplink (ChirpStack's ``up`` event, before formatting)."""

    dev_eui: EUI64
    f_cnt: int
    f_port: int | None
    data: bytes
    confirmed: bool
    adr: bool
    dr: int
    uplink: DeduplicatedUplink


@dataclass(frozen=True, slots=True)
class AckEvent:
    """The device acknowledged (or not) the confirmed downlink with this counter."""

    dev_eui: EUI64
    f_cnt_down: int
    acknowledged: bool


@dataclass(slots=True)
class DataOutcome:
    uplink_event: UplinkEvent | None = None
    ack_event: AckEvent | None = None
    mac_events: list[MACEvent] = field(default_factory=list)
    downlink: DownlinkNeed | None = None  # None: no reason to answer (a queue item may add one)
    mac_commands_left: tuple[MACCommand, ...] = ()


def _mac_commands(
    frame: DataFrame, accepted: Accepted, plain_payload: bytes, outcome: DataOutcome
) -> tuple[MACCommand, ...]:
    session = accepted.session
    if frame.f_port == 0:
        raw = plain_payload
    else:
        raw = security.decrypt_f_opts(frame, session.keys, accepted.f_cnt)
    if not raw:
        return ()
    parsed = decode_mac_commands(raw, uplink=True)
    if parsed.error is not None:
        # The commands before the problem are still handled; the rest is reported.
        outcome.mac_events.append(
            MACLog(LogLevel.WARNING, MACLogCode.MALFORMED, parsed.unknown_cid, parsed.error)
        )
    return parsed.commands


def uplink_meta(uplink: DeduplicatedUplink, dr: int) -> UplinkMeta:
    """What the MAC engine is told about ``uplink`` (received at data rate ``dr``)."""
    best = uplink.best
    gps_ns = best.time_since_gps_epoch_ns
    return UplinkMeta(
        dr=dr,
        max_snr=best.snr,
        max_rssi=best.rssi,
        gateway_count=len(uplink.rx_info),
        gps_time_s=None if gps_ns is None else gps_ns / 1e9,
    )


def process(
    frame: DataFrame, accepted: Accepted, uplink: DeduplicatedUplink, *, dr: int, ctx: MACContext
) -> DataOutcome:
    """Run the data-uplink steps for an accepted frame (see the module docstring); ``ctx`` is
    the device's MAC context, given ``uplink_meta(uplink, dr)`` here if it has no uplink."""
    session = accepted.session
    outcome = DataOutcome()
    if accepted.retransmission:
        if frame.confirmed:
            outcome.downlink = DownlinkNeed(
                ack=True, uplink_f_cnt=accepted.f_cnt, adr=not ctx.settings.adr_disabled
            )
        return outcome

    payload = b""
    if frame.f_port is not None:
        payload = security.decrypt_frm_payload(frame, session.keys, accepted.f_cnt)
    commands = _mac_commands(frame, accepted, payload, outcome)

    if session.conf_f_cnt is not None:
        # Any uplink after a confirmed downlink settles it: ACK set means received. One whose
        # wait timed out was reported then already.
        if not session.conf_f_cnt_timed_out:
            outcome.ack_event = AckEvent(accepted.dev_eui, session.conf_f_cnt, frame.f_ctrl.ack)
        session.conf_f_cnt = None
        session.conf_f_cnt_timed_out = False
    session.f_cnt_up = accepted.f_cnt + 1
    session.adr = frame.f_ctrl.adr
    session.dr = dr
    receptions = uplink.rx_info
    if len(receptions) == 1:
        max_snr, max_rssi = receptions[0].snr, receptions[0].rssi
    else:
        max_snr, max_rssi = max(rx.snr for rx in receptions), max(rx.rssi for rx in receptions)
    session.add_uplink_history(
        UplinkHistoryEntry(
            accepted.f_cnt, max_snr, max_rssi, session.tx_power_index, len(receptions)
        )
    )

    mac_ctx = ctx if ctx.uplink is not None else replace(ctx, uplink=uplink_meta(uplink, dr))
    result = handle_uplink_mac_commands(session, commands, mac_ctx)
    outcome.mac_events.extend(result.events)
    requests = pending_requests(session, mac_ctx, events=outcome.mac_events)
    selection = select_mac_commands(result.answers, requests, F_OPTS_BUDGET)
    outcome.mac_commands_left = selection.leftover

    if frame.f_port:
        outcome.uplink_event = UplinkEvent(
            accepted.dev_eui,
            accepted.f_cnt,
            frame.f_port,
            payload,
            frame.confirmed,
            frame.f_ctrl.adr,
            dr,
            uplink,
        )
    wants_answer = (
        frame.confirmed
        or result.downlink_needed
        or bool(selection.chosen)
        or frame.f_ctrl.adr_ack_req
    )
    if wants_answer:
        outcome.downlink = DownlinkNeed(
            mac_commands=selection.encode(),
            ack=frame.confirmed,
            uplink_f_cnt=accepted.f_cnt,
            adr=not ctx.settings.adr_disabled,
        )
    return outcome
