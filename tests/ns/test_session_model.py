from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.profile import MACVersion
from appliance.ns.session import (
    MAX_UPLINK_HISTORY,
    DeviceSession,
    ExtraChannel,
    PendingMACRequest,
    UplinkHistory,
    UplinkHistoryEntry,
)

keys = st.binary(min_size=16, max_size=16).map(AESKey)
u32 = st.integers(0, 0xFFFFFFFF)


@st.composite
def sessions(draw: st.DrawFn, depth: int = 0) -> DeviceSession:
    return DeviceSession(
        dev_addr=DevAddr(draw(u32)),
        keys=SessionKeys(draw(keys), draw(keys), draw(keys), draw(keys), draw(st.booleans())),
        mac_version=draw(st.sampled_from(list(MACVersion))),
        region=draw(st.sampled_from(["EU868", "US915"])),
        rx2_dr=draw(st.integers(0, 15)),
        rx2_frequency=draw(st.integers(400_000_000, 1_000_000_000)),
        enabled_uplink_channels=tuple(draw(st.lists(st.integers(0, 71), max_size=72))),
        f_cnt_up=draw(u32),
        n_f_cnt_down=draw(u32),
        a_f_cnt_down=draw(u32),
        conf_f_cnt=draw(st.none() | u32),
        extra_uplink_channels=draw(
            st.dictionaries(
                st.integers(3, 15),
                st.builds(
                    ExtraChannel, st.integers(0, 10**9), st.integers(0, 7), st.integers(0, 7)
                ),
                max_size=3,
            )
        ),
        uplink_history=draw(
            st.lists(
                st.builds(
                    UplinkHistoryEntry,
                    u32,
                    # Radios report 0.25 or 0.1 dB steps (kept packed); anything else too.
                    st.integers(-600, 600).map(lambda steps: steps / 20) | st.floats(-30, 30),
                    st.integers(-150, 0),
                    st.integers(0, 15),
                    st.integers(1, 5),
                ),
                max_size=5,
            )
        ),
        pending_mac_requests={
            3: PendingMACRequest(3, (b"\x03\x50\xff\x00\x01",), draw(u32)),
        },
        mac_command_error_count=draw(st.dictionaries(st.integers(1, 32), st.integers(0, 9))),
        last_device_status_request_ns=draw(st.none() | st.integers(0, 2**62)),
        conf_f_cnt_timed_out=draw(st.booleans()),
        max_duty_cycle=draw(st.integers(0, 15)),
        adr_ack_limit_exp=draw(st.integers(0, 15)),
        adr_ack_delay_exp=draw(st.integers(0, 15)),
        rx1_frequencies=draw(
            st.dictionaries(st.integers(0, 15), st.integers(400_000_000, 10**9), max_size=3)
        ),
        beacon_frequency=draw(st.integers(0, 10**9)),
        min_supported_tx_power_index=draw(st.integers(0, 15)),
        rejoin_count_1=draw(st.integers(0, 0xFFFF)),
        pending_rejoin_session=draw(sessions(depth + 1))
        if depth == 0 and draw(st.booleans())
        else None,
    )


@given(sessions())
def test_serialisation_is_lossless_and_json_safe(session: DeviceSession) -> None:
    data = json.loads(json.dumps(session.to_dict()))
    assert DeviceSession.from_dict(data) == session


def test_uplink_history_is_bounded_and_ignores_retransmissions() -> None:
    session = DeviceSession(
        DevAddr(1),
        SessionKeys.for_1_0(AESKey(1), AESKey(2)),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
    )
    for f_cnt in range(30):
        entry = UplinkHistoryEntry(f_cnt, 5.0, -80, 0, 1)
        session.add_uplink_history(entry)
        session.add_uplink_history(entry)
    assert len(session.uplink_history) == MAX_UPLINK_HISTORY
    assert session.uplink_history[0].f_cnt == 30 - MAX_UPLINK_HISTORY


def test_a_history_given_as_a_list_is_taken_as_one() -> None:
    entries = [UplinkHistoryEntry(f_cnt, 5.0, -80, 0, 1) for f_cnt in range(3)]
    session = DeviceSession(
        DevAddr(1),
        SessionKeys.for_1_0(AESKey(1), AESKey(2)),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        uplink_history=entries,  # type: ignore[arg-type]
    )
    assert isinstance(session.uplink_history, UplinkHistory)
    assert session.uplink_history == entries
    session.uplink_history = entries[:1]  # type: ignore[assignment]  # as tests set it
    session.add_uplink_history(entries[1])
    assert session.uplink_history == entries[:2]
    assert DeviceSession.from_record(session.to_record()) == session


def test_a_session_stored_before_the_later_fields_still_loads() -> None:
    session = DeviceSession(
        DevAddr(1),
        SessionKeys.for_1_0(AESKey(1), AESKey(2)),
        MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
    )
    old = session.to_dict()
    for key in (
        "conf_f_cnt_timed_out",
        "max_duty_cycle",
        "adr_ack_exp",
        "rx1_frequencies",
        "beacon_frequency",
        "min_supported_tx_power_index",
        "rejoin_count_1",
    ):
        del old[key]
    loaded = DeviceSession.from_dict(old)
    assert loaded == session
    assert (loaded.adr_ack_limit_exp, loaded.adr_ack_delay_exp) == (6, 5)  # 64 and 32
