"""The device's side of the MAC commands a downlink carries: apply them, queue the answers.

One small handler per command, found through a table keyed by command class. A device stops at
the first command it does not implement, as a real one must: MAC commands carry no length, so
nothing after an unknown CID can be parsed. Class B commands, DeviceModeConf and, for a device
in a LoRaWAN 1.0.x session, the 1.1-only commands are such commands.

Validity rules: LoRaWAN 1.0.4/1.1 section 5 and the per-region rules of RP002-1.0.4 (which
commands a fixed plan implements, which frequencies are usable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar, cast

from appliance.devicesim.channels import ChannelTable, UplinkChannel
from appliance.devicesim.config import LoRaWANVersion
from appliance.devicesim.linkadr import apply_link_adr_block
from appliance.devicesim.regional import default_data_rate, is_downlink_rate
from appliance.devicesim.session import RadioSettings
from appliance.lorawan.maccommands import (
    ADRParamSetupAns,
    ADRParamSetupReq,
    DeviceTimeAns,
    DevStatusAns,
    DevStatusReq,
    DlChannelAns,
    DlChannelReq,
    DutyCycleAns,
    DutyCycleReq,
    ForceRejoinReq,
    LinkADRReq,
    LinkCheckAns,
    MACCommand,
    NewChannelAns,
    NewChannelReq,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
    RekeyConf,
    ResetConf,
    RXParamSetupAns,
    RXParamSetupReq,
    RXTimingSetupAns,
    RXTimingSetupReq,
    TxParamSetupAns,
    TxParamSetupReq,
)
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.fixed import FixedChannelPlan

_MARGIN_RANGE: Final = (-32, 31)


@dataclass(frozen=True, slots=True)
class MACContext:
    region: Region
    version: LoRaWANVersion
    lorawan_1_1: bool  # the session speaks 1.1 (a 1.1 device on a 1.0 network does not)
    adr: bool
    battery: int
    snr_db: float


@dataclass(slots=True)
class _Work:
    """What handling a downlink's commands builds up; frozen into ``MACOutcome`` at the end."""

    settings: RadioSettings
    channels: ChannelTable
    answers: list[MACCommand] = field(default_factory=list)
    sticky: list[MACCommand] = field(default_factory=list)
    link_check: LinkCheckAns | None = None
    device_time: DeviceTimeAns | None = None
    force_rejoin: ForceRejoinReq | None = None
    rejoin_setup: RejoinParamSetupReq | None = None
    reset_conf: bool = False
    rekey_conf: bool = False


@dataclass(frozen=True, slots=True)
class MACOutcome:
    settings: RadioSettings
    channels: ChannelTable
    answers: tuple[MACCommand, ...] = ()
    sticky: tuple[MACCommand, ...] = ()
    handled: tuple[MACCommand, ...] = ()
    unsupported: tuple[MACCommand, ...] = ()  # the first one stopped processing
    link_check: LinkCheckAns | None = None
    device_time: DeviceTimeAns | None = None
    force_rejoin: ForceRejoinReq | None = None
    rejoin_setup: RejoinParamSetupReq | None = None
    reset_conf: bool = False
    rekey_conf: bool = False


def _frequency_ok(region: Region, frequency: int) -> bool:
    return region.min_frequency_hz <= frequency <= region.max_frequency_hz


def _rx_param_setup(cmd: RXParamSetupReq, work: _Work, ctx: MACContext) -> None:
    region = ctx.region
    offset_ok = cmd.rx1_dr_offset < region.rx1_data_rates.offset_count
    rate_ok = is_downlink_rate(region, cmd.rx2_data_rate)
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        # A fixed plan's receivers sit on its eight downlink channels.
        frequency_ok = cmd.frequency_hz in {c.frequency_hz for c in plan.downlink_channels()}
    else:
        frequency_ok = _frequency_ok(region, cmd.frequency_hz)
    if offset_ok and rate_ok and frequency_ok:
        work.settings = replace(
            work.settings,
            rx1_dr_offset=cmd.rx1_dr_offset,
            rx2_data_rate=cmd.rx2_data_rate,
            rx2_frequency=cmd.frequency_hz,
        )
    work.sticky.append(RXParamSetupAns(offset_ok, rate_ok, frequency_ok))


def _duty_cycle(cmd: DutyCycleReq, work: _Work, ctx: MACContext) -> None:
    work.settings = replace(work.settings, max_duty_cycle=cmd.max_duty_cycle)
    work.answers.append(DutyCycleAns())


def _dev_status(cmd: DevStatusReq, work: _Work, ctx: MACContext) -> None:
    low, high = _MARGIN_RANGE
    margin = min(max(round(ctx.snr_db), low), high)
    work.answers.append(DevStatusAns(battery=ctx.battery, margin=margin))


def _new_channel(cmd: NewChannelReq, work: _Work, ctx: MACContext) -> None:
    table = work.channels
    index = cmd.ch_index
    if not table.default_count <= index < len(table.slots):
        # The default channels are fixed by the region and cannot be redefined.
        work.answers.append(NewChannelAns(data_rate_range_ok=False, channel_frequency_ok=False))
        return
    if cmd.frequency_hz == 0:
        work.channels = table.with_channel(index, None)
        work.answers.append(NewChannelAns(data_rate_range_ok=True, channel_frequency_ok=True))
        return
    uplink = {rate.index for rate in ctx.region.data_rates if rate.uplink}
    rates_ok = cmd.min_dr <= cmd.max_dr and cmd.min_dr in uplink and cmd.max_dr in uplink
    frequency_ok = _frequency_ok(ctx.region, cmd.frequency_hz)
    if rates_ok and frequency_ok:
        channel = UplinkChannel(index, cmd.frequency_hz, cmd.min_dr, cmd.max_dr)
        work.channels = table.with_channel(index, channel)
    work.answers.append(
        NewChannelAns(data_rate_range_ok=rates_ok, channel_frequency_ok=frequency_ok)
    )


def _dl_channel(cmd: DlChannelReq, work: _Work, ctx: MACContext) -> None:
    channel = work.channels.channel(cmd.ch_index)
    exists = channel is not None
    frequency_ok = _frequency_ok(ctx.region, cmd.frequency_hz)
    if channel is not None and frequency_ok:
        work.channels = work.channels.with_channel(
            channel.index, replace(channel, rx1_frequency=cmd.frequency_hz)
        )
    work.sticky.append(
        DlChannelAns(uplink_frequency_exists=exists, channel_frequency_ok=frequency_ok)
    )


def _rx_timing(cmd: RXTimingSetupReq, work: _Work, ctx: MACContext) -> None:
    work.settings = replace(work.settings, rx1_delay_s=cmd.delay_seconds)
    work.sticky.append(RXTimingSetupAns())


def _tx_param_setup(cmd: TxParamSetupReq, work: _Work, ctx: MACContext) -> None:
    dwell = cmd.uplink_dwell_time_400ms
    # Under a new dwell-time limit the slowest rates may carry nothing: move up if needed.
    data_rate = max(work.settings.data_rate, default_data_rate(ctx.region, dwell))
    work.settings = replace(
        work.settings,
        uplink_dwell_time=dwell,
        downlink_dwell_time=cmd.downlink_dwell_time_400ms,
        max_eirp_dbm=float(cmd.max_eirp_dbm),
        data_rate=data_rate,
    )
    work.answers.append(TxParamSetupAns())


def _link_check(cmd: LinkCheckAns, work: _Work, ctx: MACContext) -> None:
    work.link_check = cmd


def _device_time(cmd: DeviceTimeAns, work: _Work, ctx: MACContext) -> None:
    work.device_time = cmd


def _reset_conf(cmd: ResetConf, work: _Work, ctx: MACContext) -> None:
    work.reset_conf = True


def _rekey_conf(cmd: RekeyConf, work: _Work, ctx: MACContext) -> None:
    work.rekey_conf = True


def _adr_param_setup(cmd: ADRParamSetupReq, work: _Work, ctx: MACContext) -> None:
    work.settings = replace(
        work.settings, adr_ack_limit=cmd.adr_ack_limit, adr_ack_delay=cmd.adr_ack_delay
    )
    work.answers.append(ADRParamSetupAns())


def _force_rejoin(cmd: ForceRejoinReq, work: _Work, ctx: MACContext) -> None:
    work.force_rejoin = cmd  # answered by the rejoin-requests themselves


def _rejoin_param_setup(cmd: RejoinParamSetupReq, work: _Work, ctx: MACContext) -> None:
    work.rejoin_setup = cmd
    work.answers.append(RejoinParamSetupAns(time_ok=True))


_Handler = Callable[[MACCommand, _Work, MACContext], None]
_C = TypeVar("_C", bound=MACCommand)


def _entry(
    command: type[_C], handler: Callable[[_C, _Work, MACContext], None]
) -> tuple[type[MACCommand], _Handler]:
    # The table is keyed by the exact class, so each handler only ever sees its own command.
    return command, cast(_Handler, handler)


_COMMON: Final = dict(
    (
        _entry(RXParamSetupReq, _rx_param_setup),
        _entry(DutyCycleReq, _duty_cycle),
        _entry(DevStatusReq, _dev_status),
        _entry(RXTimingSetupReq, _rx_timing),
        _entry(LinkCheckAns, _link_check),
    )
)
_DYNAMIC_PLAN: Final = dict(
    (_entry(NewChannelReq, _new_channel), _entry(DlChannelReq, _dl_channel))
)
_TX_PARAM_SETUP: Final = dict((_entry(TxParamSetupReq, _tx_param_setup),))
_DEVICE_TIME: Final = dict((_entry(DeviceTimeAns, _device_time),))
_LORAWAN_1_1: Final = dict(
    (
        _entry(ResetConf, _reset_conf),
        _entry(RekeyConf, _rekey_conf),
        _entry(ADRParamSetupReq, _adr_param_setup),
        _entry(ForceRejoinReq, _force_rejoin),
        _entry(RejoinParamSetupReq, _rejoin_param_setup),
    )
)
# Commands a region does not implement are dropped without an answer (LoRaMac-node answers
# nothing to them either); unknown ones stop processing.
_SILENTLY_DROPPED: Final = (NewChannelReq, DlChannelReq, TxParamSetupReq)


def _handlers(ctx: MACContext, fixed: bool) -> dict[type[MACCommand], _Handler]:
    table = dict(_COMMON)
    if not fixed:
        table |= _DYNAMIC_PLAN
    if ctx.region.tx_param_setup_req:
        table |= _TX_PARAM_SETUP
    if ctx.version.has_device_time:
        table |= _DEVICE_TIME
    if ctx.lorawan_1_1:
        table |= _LORAWAN_1_1
    return table


def handle_commands(
    commands: tuple[MACCommand, ...],
    *,
    settings: RadioSettings,
    channels: ChannelTable,
    ctx: MACContext,
) -> MACOutcome:
    """Apply a downlink's MAC commands in order and collect the answers."""
    work = _Work(settings, channels)
    handlers = _handlers(ctx, channels.fixed)
    handled: list[MACCommand] = []
    unsupported: tuple[MACCommand, ...] = ()
    index = 0
    while index < len(commands):
        command = commands[index]
        if isinstance(command, LinkADRReq):
            end = index
            while end < len(commands) and isinstance(commands[end], LinkADRReq):
                end += 1
            block = tuple(c for c in commands[index:end] if isinstance(c, LinkADRReq))
            outcome = apply_link_adr_block(
                block,
                settings=work.settings,
                channels=work.channels,
                region=ctx.region,
                version=ctx.version,
                adr=ctx.adr,
            )
            work.settings, work.channels = outcome.settings, outcome.channels
            work.answers.extend([outcome.answer] * len(block))
            handled.extend(block)
            index = end
            continue
        handler = handlers.get(type(command))
        if handler is not None:
            handler(command, work, ctx)
            handled.append(command)
        elif not isinstance(command, _SILENTLY_DROPPED):
            unsupported = (command,)
            break
        index += 1
    return MACOutcome(
        settings=work.settings,
        channels=work.channels,
        answers=tuple(work.answers),
        sticky=tuple(work.sticky),
        handled=tuple(handled),
        unsupported=unsupported,
        link_check=work.link_check,
        device_time=work.device_time,
        force_rejoin=work.force_rejoin,
        rejoin_setup=work.rejoin_setup,
        reset_conf=work.reset_conf,
        rekey_conf=work.rekey_conf,
    )
