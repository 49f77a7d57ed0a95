"""The scenario harness of the Class A tables (in the style of ChirpStack's ``class_a_test.rs``).

A ``Scenario`` is one row: the stored state (profiles, devices with their sessions, DevNonces
already used, the downlink queue), the steps (frames handed in as de-duplicated uplinks,
the fake clock moved on), how the gateways answer downlinks, and a list of assertions. The
pipeline runs on a real SQLite store in a temporary directory; only the gateways are
scripted, as they are the outside edge: each one answers every downlink item with the
statuses given (by default, the first item goes out).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import (
    DataFrame,
    EncryptedJoinAccept,
)
from appliance.lorawan.identifiers import EUI64, AESKey
from appliance.lorawan.join_accept import JoinAccept
from appliance.lorawan.maccommands import MACCommand, decode_mac_commands
from appliance.lorawan.regions import get_region
from appliance.lorawan.security import SessionKeys
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.events import LogEvent, NSEvent, TxAckEvent
from appliance.ns.pipeline import Pipeline
from appliance.ns.radio import data_rate_of
from appliance.ns.session import DeviceSession
from appliance.ns.sqlite_store import SQLiteStore
from hal.model import (
    Delay,
    DownlinkFrame,
    DownlinkTxAck,
    TxAckStatus,
    UplinkRxInfo,
    UplinkTxInfo,
)

# The stored state and frames live in class_a_fixtures; the scenario files import them from here.
from tests.ns.class_a_fixtures import (  # noqa: F401
    ADDR,
    APP_KEY,
    DEV1,
    DEV2,
    EU868_SF7,
    EU868_SF12,
    EXTRA,
    GW1,
    GW2,
    GW3,
    JOIN_EUI,
    KEYS_1_0,
    KEYS_1_1,
    LINK_CHECK_REQ,
    MS,
    NET_ID,
    NOW,
    NWK_KEY,
    PROFILE_1_0,
    PROFILE_1_0_4,
    PROFILE_1_1,
    SETTINGS,
    Queued,
    S,
    Stored,
    data_up,
    device,
    join_request,
    queued,
    rejoin_request,
    session,
)


@dataclass(frozen=True)
class Uplink:
    """A frame heard by ``gateways`` ((id, SNR, RSSI), any order), handed in ``after_ns`` after
    the previous step (the de-duplication window)."""

    phy_payload: bytes
    tx: UplinkTxInfo = EU868_SF7
    gateways: tuple[tuple[EUI64, float, int], ...] = ((GW1, 7.0, -60), (GW2, 2.0, -95))
    after_ns: int = 200 * MS


@dataclass(frozen=True)
class Wait:
    """The fake clock moves on; confirmed downlinks whose ACK is overdue are reported."""

    duration_ns: int


Step = Uplink | Wait


# --- the run ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class ScriptedGateways:
    """Each gateway answers every downlink item with its next status in ``answers`` (default:
    the first item goes out, the rest are ignored), and keeps what it was asked to send."""

    def __init__(self, answers: dict[EUI64, Sequence[TxAckStatus]]) -> None:
        self.answers = {gateway: list(statuses) for gateway, statuses in answers.items()}
        self.frames: list[DownlinkFrame] = []
        self.acks: list[DownlinkTxAck] = []

    async def __call__(self, frame: DownlinkFrame) -> DownlinkTxAck:
        self.frames.append(frame)
        script = self.answers.get(frame.gateway_id)
        statuses: list[TxAckStatus] = []
        for _ in frame.items:
            if statuses and statuses[-1] is TxAckStatus.OK:
                statuses.append(TxAckStatus.IGNORED)
            elif script:
                statuses.append(script.pop(0))
            else:
                statuses.append(TxAckStatus.OK)
        ack = DownlinkTxAck(frame.gateway_id, frame.downlink_id, tuple(statuses))
        self.acks.append(ack)
        return ack


@dataclass
class Result:
    store: SQLiteStore
    pipeline: Pipeline
    gateways: ScriptedGateways
    events: list[NSEvent]
    clock: FakeClock
    uplink_at: list[int] = field(default_factory=list)  # when each uplink was first heard

    @property
    def frames(self) -> list[DownlinkFrame]:
        return self.gateways.frames

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


Assertion = Callable[[Result], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    stored: Stored
    steps: tuple[Step, ...]
    asserts: tuple[Assertion, ...]
    gateway_answers: dict[EUI64, tuple[TxAckStatus, ...]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def _copy(stored: DeviceSession) -> DeviceSession:
    # Rows share their session objects; the pipeline changes what it is given in place.
    return DeviceSession.from_dict(stored.to_dict())


async def _store_state(store: SQLiteStore, stored: Stored) -> None:
    for profile in stored.profiles:
        await store.add_profile(profile)
    for record in stored.devices:
        await store.add_device(replace(record, session=None))
        nonces = [n for eui, n in stored.dev_nonces if eui == record.dev_eui]
        for nonce in nonces:
            await store.activate(
                record.dev_eui, _copy(record.session or session()), dev_nonce=nonce, join_nonce=0
            )
            await store.next_join_nonce(record.dev_eui)
        if record.session is not None:
            await store.save_session(record.dev_eui, _copy(record.session))
    for entry in stored.queue:
        await store.enqueue(entry.dev_eui, entry.item, expires_at_ns=entry.expires_at_ns)
        if entry.sent_with_f_cnt is not None:
            await store.queue_item_sent(
                entry.dev_eui,
                entry.item.id,
                f_cnt_down=entry.sent_with_f_cnt,
                confirmed=entry.item.confirmed,
            )


def deduplicated(step: Uplink, first_seen_ns: int) -> DeduplicatedUplink:
    receptions = [
        UplinkRxInfo(
            gateway,
            snr=snr,
            rssi=rssi,
            context=(first_seen_ns // 1000 % 2**32).to_bytes(4, "big"),
            time_since_gps_epoch_ns=first_seen_ns + 1_300_000_000 * S,
        )
        for gateway, snr, rssi in step.gateways
    ]
    receptions.sort(key=lambda rx: (rx.snr, rx.rssi), reverse=True)
    return DeduplicatedUplink(step.phy_payload, step.tx, tuple(receptions), first_seen_ns)


async def run(scenario: Scenario, tmp_path: Path) -> Result:
    store = SQLiteStore.open(tmp_path)
    await _store_state(store, scenario.stored)
    clock = FakeClock()
    gateways = ScriptedGateways(dict(scenario.gateway_answers))
    events: list[NSEvent] = []
    pipeline = Pipeline(
        scenario.stored.settings, store, gateways, events.append, clock, random.Random(1)
    )
    result = Result(store, pipeline, gateways, events, clock)
    for step in scenario.steps:
        if isinstance(step, Wait):
            clock.now += step.duration_ns
            await pipeline.confirmations_timed_out(pipeline.ack_timers.due(clock.now))
            continue
        first_seen = clock.now
        result.uplink_at.append(first_seen)
        clock.now += step.after_ns
        await pipeline.handle(deduplicated(step, first_seen))
    return result


async def check(scenario: Scenario, tmp_path: Path) -> None:
    result = await run(scenario, tmp_path)
    try:
        for assertion in scenario.asserts:
            await assertion(result)
    finally:
        await result.store.aclose()


# --- assertions (ChirpStack's assert.rs) ------------------------------------------------------


def event_kinds(*names: str) -> Assertion:
    """The events, in order, by class name (TxAckEvent left out: see ``tx_acks``)."""

    async def check_(result: Result) -> None:
        seen = [type(e).__name__ for e in result.events if not isinstance(e, TxAckEvent)]
        assert seen == list(names), seen

    return check_


def event(kind: type, **fields: Any) -> Assertion:
    """Exactly one event of ``kind``, with these field values."""

    async def check_(result: Result) -> None:
        found = result.of(kind)
        assert len(found) == 1, found
        for name, value in fields.items():
            assert getattr(found[0], name) == value, (name, getattr(found[0], name), value)

    return check_


def some_event(kind: type, **fields: Any) -> Assertion:
    """At least one event of ``kind`` with these field values."""

    async def check_(result: Result) -> None:
        found = result.of(kind)
        assert any(all(getattr(e, n) == v for n, v in fields.items()) for e in found), found

    return check_


def log_codes(*codes: str) -> Assertion:
    async def check_(result: Result) -> None:
        assert [e.code for e in result.of(LogEvent)] == list(codes), result.of(LogEvent)

    return check_


def dropped(**counts: int) -> Assertion:
    async def check_(result: Result) -> None:
        assert dict(result.pipeline.metrics.dropped) == counts, result.pipeline.metrics.dropped

    return check_


def metric(name: str, value: object) -> Assertion:
    async def check_(result: Result) -> None:
        assert getattr(result.pipeline.metrics, name) == value

    return check_


def no_downlink() -> Assertion:
    async def check_(result: Result) -> None:
        assert result.frames == [], result.frames

    return check_


def downlink_windows(
    *windows: tuple[str, int, int, float],
    gateway: EUI64 = GW1,
    attempt: int = 0,
    region: str = "EU868",
) -> Assertion:
    """The ``attempt``-th downlink asked of the gateways: its gateway and, per item, (name,
    frequency, data rate, delay in seconds after the uplink); names are for reading only."""

    async def check_(result: Result) -> None:
        frame = result.frames[attempt]
        assert frame.gateway_id == gateway, frame.gateway_id
        got = []
        for item in frame.items:
            info = item.tx_info
            assert isinstance(info.timing, Delay)
            dr = data_rate_of(get_region(region), info.modulation, uplink=False)
            got.append((info.frequency, dr, info.timing.delay_ns / S))
        assert got == [(f, dr, d) for _, f, dr, d in windows], got

    return check_


@dataclass(frozen=True)
class SeenDownlink:
    frame: DataFrame
    f_cnt: int
    payload: bytes
    commands: tuple[MACCommand, ...]


def open_downlink(result: Result, keys: SessionKeys, attempt: int = -1) -> SeenDownlink:
    """The data downlink as the device reads it (counters as the session had them)."""
    frame = decode_phy_payload(result.frames[attempt].items[0].phy_payload)
    assert isinstance(frame, DataFrame) and not frame.uplink
    f_cnt = frame.f_cnt  # the tables keep counters below 2**16
    payload = security.decrypt_frm_payload(frame, keys, f_cnt) if frame.f_port is not None else b""
    raw = payload if frame.f_port == 0 else security.decrypt_f_opts(frame, keys, f_cnt)
    commands = decode_mac_commands(raw, uplink=False).commands if raw else ()
    return SeenDownlink(frame, f_cnt, b"" if frame.f_port == 0 else payload, commands)


def data_downlink(
    keys: SessionKeys = KEYS_1_0,
    *,
    f_cnt: int,
    ack: bool = False,
    f_port: int | None = None,
    payload: bytes = b"",
    confirmed: bool = False,
    f_pending: bool = False,
    commands: tuple[str, ...] = (),
    exact: tuple[MACCommand, ...] | None = None,
    attempt: int = -1,
) -> Assertion:
    """The last (or ``attempt``-th) downlink as the device reads it; ``commands`` names its MAC
    commands, ``exact`` gives them with their values."""

    async def check_(result: Result) -> None:
        seen = open_downlink(result, keys, attempt)
        if exact is not None:
            assert seen.commands == exact, seen.commands
        frame = seen.frame
        assert seen.f_cnt == f_cnt, seen.f_cnt
        assert frame.f_ctrl.ack is ack
        assert frame.f_ctrl.f_pending is f_pending
        assert frame.confirmed is confirmed
        assert frame.f_port == f_port, frame.f_port
        assert seen.payload == payload, seen.payload
        assert tuple(type(c).__name__ for c in seen.commands) == commands, seen.commands

    return check_


def open_accept(result: Result, key: AESKey, attempt: int = -1) -> JoinAccept:
    frame = decode_phy_payload(result.frames[attempt].items[0].phy_payload)
    assert isinstance(frame, EncryptedJoinAccept)
    return security.open_join_accept(frame, key)


def join_accept(
    key: AESKey,
    *,
    nonce: int,
    join_req_type: int = 0xFF,
    lorawan_1_1: bool = False,
    **fields: Any,
) -> Assertion:
    """The last downlink is a join-accept encrypted with ``key``, signed as a 1.0 accept (with
    ``key``) or, for 1.1, with JSIntKey over ``join_req_type``, JoinEUI and ``nonce`` (the
    DevNonce or RJcount); its DevAddr belongs to the NetID; ``fields``: other values."""

    async def check_(result: Result) -> None:
        accept = open_accept(result, key)
        assert accept.home_net_id == NET_ID
        assert accept.dev_addr.is_net_id(NET_ID)
        assert accept.dl_settings.opt_neg is lorawan_1_1
        if lorawan_1_1:
            mic_key = security.derive_js_int_key(NWK_KEY, DEV1)
            expected = security.join_accept_mic(
                accept, mic_key, join_req_type=join_req_type, join_eui=JOIN_EUI, dev_nonce=nonce
            )
        else:
            expected = security.join_accept_mic(accept, key)
        assert accept.mic == expected
        for name, value in fields.items():
            assert getattr(accept, name) == value, (name, getattr(accept, name))

    return check_


def tx_acks(*statuses: tuple[EUI64, TxAckStatus]) -> Assertion:
    """The TxAckEvents, in order: (gateway, status)."""

    async def check_(result: Result) -> None:
        got = [(e.gateway_id, e.status) for e in result.of(TxAckEvent)]
        assert got == list(statuses), got

    return check_


def stored_session(dev_eui: EUI64 = DEV1, **fields: Any) -> Assertion:
    async def check_(result: Result) -> None:
        record = await result.store.device(dev_eui)
        assert record is not None and record.session is not None
        for name, value in fields.items():
            assert getattr(record.session, name) == value, (name, getattr(record.session, name))

    return check_


def stored_check(
    check_session: Callable[[DeviceSession], object], dev_eui: EUI64 = DEV1
) -> Assertion:
    """Any check of the stored session (a lambda that asserts or returns True)."""

    async def check_(result: Result) -> None:
        record = await result.store.device(dev_eui)
        assert record is not None and record.session is not None
        assert check_session(record.session) is not False

    return check_


def queue_length(count: int, dev_eui: EUI64 = DEV1) -> Assertion:
    async def check_(result: Result) -> None:
        assert len(await result.store.queue(dev_eui)) == count

    return check_
