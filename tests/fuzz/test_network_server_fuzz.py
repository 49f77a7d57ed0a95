"""The network server's pipeline fuzzed with what a radio can deliver (a real SQLite store per
example, the Class A harness of tests/ns): arbitrary PHYPayloads, and frames of a provisioned
device with a right MIC but anything in them (FCtrl bits, counters, FOpts and FPort-0 MAC
commands well-formed or not, answers to MAC requests it was sent), plus join-requests.

Nothing may raise; the stored uplink counter never goes back; what goes to the gateways is a
valid frame whose downlink counter only grows; and a long stream of frames from unknown
addresses leaves the server's memory where it was.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import DataFrame, FCtrl, JoinRequest
from appliance.lorawan.maccommands import ALL_COMMAND_CLASSES, MACCommand, encode_mac_commands
from appliance.lorawan.mhdr import MType
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.events import JoinEvent
from appliance.ns.pipeline import Pipeline
from appliance.ns.profile import MACVersion
from appliance.ns.session import PendingMACRequest
from appliance.ns.sqlite_store import SQLiteStore
from hal.model import DownlinkFrame, DownlinkTxAck, UplinkRxInfo
from tests.lorawan.test_maccommands_properties import commands
from tests.ns.class_a import (
    DEV1,
    EU868_SF7,
    GW1,
    KEYS_1_0,
    KEYS_1_1,
    PROFILE_1_0,
    PROFILE_1_1,
    SETTINGS,
    Scenario,
    Stored,
    Uplink,
    data_up,
    device,
    join_request,
    run,
    session,
)

STORED_F_CNT_UP = 10  # the stored session's next expected counter (tests.ns.class_a.session)
_DOWNLINK_CLASSES = [c for c in ALL_COMMAND_CLASSES if not c.UPLINK]
_DOWNLINK_TYPES = (MType.JOIN_ACCEPT, MType.UNCONFIRMED_DATA_DOWN, MType.CONFIRMED_DATA_DOWN)

_bits = st.builds(
    FCtrl,
    adr=st.booleans(),
    adr_ack_req=st.booleans(),
    ack=st.booleans(),
    class_b=st.booleans(),
)
_mac_bytes = st.one_of(
    st.binary(max_size=15),
    st.lists(commands(uplink=True), max_size=6).map(lambda c: encode_mac_commands(c)[:15]),
)
_port0_bytes = st.one_of(
    st.binary(max_size=50),
    st.lists(commands(uplink=True), max_size=12).map(encode_mac_commands),
)


@st.composite
def device_frames(draw: st.DrawFn, lorawan_1_1: bool) -> bytes:
    """A data uplink of the stored device, its MIC right, anything else drawn."""
    f_cnt = draw(
        st.one_of(
            st.integers(0, STORED_F_CNT_UP + 40),
            st.integers(0, 2**32 - 1),
        )
    )
    where = draw(st.sampled_from(["none", "fopts", "port0", "payload"]))
    f_opts, f_port, payload = b"", None, b""
    if where == "fopts":
        f_opts, f_port = draw(_mac_bytes), draw(st.one_of(st.none(), st.integers(1, 255)))
        payload = draw(st.binary(max_size=20)) if f_port is not None else b""
    elif where == "port0":
        f_port, payload = 0, draw(_port0_bytes)
    elif where == "payload":
        f_port, payload = draw(st.integers(1, 255)), draw(st.binary(max_size=50))
    return data_up(
        f_cnt,
        keys=KEYS_1_1 if lorawan_1_1 else KEYS_1_0,
        confirmed=draw(st.booleans()),
        f_port=f_port,
        payload=payload,
        f_opts=f_opts,
        f_ctrl=draw(_bits),
        conf_f_cnt=draw(st.integers(0, 0xFFFF)),
        tx_ch=draw(st.integers(0, 7)),
    )


def _pending(draw: st.DrawFn) -> dict[int, PendingMACRequest]:
    """MAC requests the device was sent and has not answered yet (its answers are drawn)."""
    chosen: list[MACCommand] = draw(
        st.lists(st.one_of([_downlink(c) for c in _DOWNLINK_CLASSES]), max_size=4)
    )
    return {c.CID: PendingMACRequest(c.CID, (bytes((c.CID,)) + c.payload(),), 4) for c in chosen}


def _downlink(cls: type[MACCommand]) -> st.SearchStrategy[MACCommand]:
    size = cls.PAYLOAD_SIZE
    return st.binary(min_size=size, max_size=size).map(cls.from_payload)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Scenario, bool]:
    lorawan_1_1 = draw(st.booleans())
    version = MACVersion.LORAWAN_1_1_0 if lorawan_1_1 else MACVersion.LORAWAN_1_0_3
    stored_session = session(version)
    stored_session.pending_mac_requests = _pending(draw)
    profile = PROFILE_1_1 if lorawan_1_1 else PROFILE_1_0
    frames = draw(
        st.lists(
            st.one_of(
                device_frames(lorawan_1_1),
                st.binary(max_size=64),
                st.integers(0, 0xFFFF).map(join_request),
            ),
            min_size=1,
            max_size=6,
        )
    )
    stored = Stored(devices=(device(DEV1, profile, stored_session),))
    steps = tuple(Uplink(frame) for frame in frames)
    return Scenario("fuzz", stored, steps, ()), lorawan_1_1


async def _stored_f_cnt_up(store: SQLiteStore) -> int:
    record = await store.device(DEV1)
    assert record is not None and record.session is not None
    return record.session.f_cnt_up


@pytest.mark.slow
@given(scenarios())
def test_pipeline_never_raises_and_keeps_its_counters(drawn: tuple[Scenario, bool]) -> None:
    scenario, lorawan_1_1 = drawn

    async def body(directory: Path) -> None:
        result = await run(scenario, directory)
        try:
            if result.of(JoinEvent):
                return  # a new session: its counters start again (tests/ns cover joins)
            assert await _stored_f_cnt_up(result.store) >= STORED_F_CNT_UP
            counters = []
            for frame in result.frames:
                decoded = decode_phy_payload(frame.items[0].phy_payload)
                assert decoded.mtype in _DOWNLINK_TYPES, decoded
                if isinstance(decoded, DataFrame) and not (lorawan_1_1 and decoded.f_port):
                    counters.append(decoded.f_cnt)
            # Network downlink counters: each one used once, in order (the stored session's
            # start from 5, far from a 16-bit wrap).
            assert counters == sorted(set(counters)), counters
        finally:
            await result.store.aclose()

    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(body(Path(directory)))


def test_frames_from_unknown_addresses_leave_memory_where_it_was(tmp_path: Path) -> None:
    """20,000 frames from random addresses and garbage, after 12,000 to reach the steady
    state (the per-address locks are pruned above 10,000): the heap stays within 1 MiB."""
    rng = random.Random(7)

    def frame() -> bytes:
        if rng.random() < 0.3:
            return rng.randbytes(rng.randrange(1, 40))
        mtype = rng.choice((MType.UNCONFIRMED_DATA_UP, MType.CONFIRMED_DATA_UP))
        head = bytes((mtype << 5,)) + rng.randbytes(4) + b"\x00" + rng.randbytes(2)
        return head + b"\x01" + rng.randbytes(10) + rng.randbytes(4)

    async def body() -> tuple[int, int]:
        store = SQLiteStore.open(tmp_path)

        async def send(frame: DownlinkFrame) -> DownlinkTxAck:
            raise AssertionError(f"no downlink for unknown devices: {frame}")

        pipeline = Pipeline(SETTINGS, store, send, lambda _: None, lambda: 0, random.Random(1))
        rx = (UplinkRxInfo(GW1, rssi=-80, snr=5.0, context=b"\x00\x00\x00\x01"),)

        async def feed(count: int) -> None:
            for _ in range(count):
                await pipeline.handle(DeduplicatedUplink(frame(), EU868_SF7, rx, 0))

        try:
            await feed(12_000)
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            await feed(20_000)
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            assert len(pipeline._locks) <= 10_001
            assert sum(pipeline.metrics.dropped.values()) == 32_000
            return before, after
        finally:
            await store.aclose()

    before, after = asyncio.run(body())
    assert after - before < 1024 * 1024, (before, after)


def test_join_request_fields_never_raise(tmp_path: Path) -> None:
    """Join-requests of the provisioned device, of unknown ones and of another JoinEUI, with
    every DevNonce shape: answered or refused, never an exception."""
    frames = [join_request(n) for n in (0, 1, 0xFFFF, 1)]
    frames += [join_request(5, dev_eui=type(DEV1)(0xDEAD)), bytes(23), b"\x00" + bytes(22)]
    frames += [
        JoinRequest(type(DEV1)(0), DEV1, 9).encode(),  # no MIC, wrong JoinEUI
    ]
    stored = Stored(devices=(device(DEV1, PROFILE_1_0, session()),))
    scenario = Scenario("joins", stored, tuple(Uplink(f) for f in frames), ())

    async def body() -> None:
        result = await run(scenario, tmp_path)
        try:
            # DevNonce 0, 1 and 0xFFFF join; 1 again (a replay) and the others are refused.
            assert result.pipeline.metrics.joins == 3
        finally:
            await result.store.aclose()

    asyncio.run(body())
