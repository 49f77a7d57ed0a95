"""Scenario table for data-uplink validation: stored sessions, an incoming frame, a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from appliance.lorawan import security
from appliance.lorawan.frames import DataFrame, FCtrl
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.mhdr import MType
from appliance.lorawan.regions import get_region
from appliance.lorawan.security import SessionKeys
from appliance.ns.profile import MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.uplink.validation import (
    Accepted,
    Rejected,
    Rejection,
    UplinkRadio,
    match_device,
)

EU868 = get_region("EU868")
ADDR = DevAddr("26011bda")
KEYS_10 = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
KEYS_11 = SessionKeys(*(AESKey(bytes([i + 3]) * 16) for i in range(4)))
OTHER_KEYS = SessionKeys.for_1_0(AESKey(bytes([9]) * 16), AESKey(bytes([2]) * 16))
RADIO = UplinkRadio(data_rate=5, frequency=868_300_000)


def _session(keys: SessionKeys = KEYS_10, f_cnt_up: int = 10, **changes: object) -> DeviceSession:
    session = DeviceSession(
        ADDR,
        keys,
        MACVersion.LORAWAN_1_1_0 if keys.lorawan_1_1 else MACVersion.LORAWAN_1_0_3,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        f_cnt_up=f_cnt_up,
    )
    for name, value in changes.items():
        setattr(session, name, value)
    return session


def _frame(
    keys: SessionKeys,
    f_cnt: int,
    *,
    ack: bool = False,
    conf_f_cnt: int = 0,
    tx_dr: int = 5,
    tx_ch: int = 1,
) -> DataFrame:
    return security.build_data_frame(
        MType.UNCONFIRMED_DATA_UP,
        ADDR,
        keys,
        f_cnt,
        f_ctrl=FCtrl(ack=ack),
        f_port=1,
        payload=b"hi",
        conf_f_cnt=conf_f_cnt,
        tx_dr=tx_dr,
        tx_ch=tx_ch,
    )


@dataclass
class Case:
    name: str
    sessions: list[tuple[int, DeviceSession]]
    frame: DataFrame
    expected: Accepted | Rejected
    radio: UplinkRadio = field(default=RADIO)


def _accepted(
    dev: int,
    session: DeviceSession,
    f_cnt: int,
    *,
    retransmission: bool = False,
    reset: bool = False,
) -> Accepted:
    return Accepted(EUI64(dev), session, f_cnt, retransmission, reset)


S10 = _session()
S_ROLL = _session(f_cnt_up=0x1FFFF)
S_RELAXED = _session(f_cnt_up=500, skip_f_cnt_check=True)
S_STRICT = _session(f_cnt_up=500)
S11 = _session(KEYS_11)
S11_CONF = _session(KEYS_11, conf_f_cnt=7)
S_OTHER = _session(OTHER_KEYS)
S_DONE = _session(f_cnt_up=1 << 32)

CASES = [
    Case("expected counter", [(1, S10)], _frame(KEYS_10, 10), _accepted(1, S10, 10)),
    Case("frames were lost in between", [(1, S10)], _frame(KEYS_10, 100), _accepted(1, S10, 100)),
    Case(
        "retransmission of the previous frame",
        [(1, S10)],
        _frame(KEYS_10, 9),
        _accepted(1, S10, 9, retransmission=True),
    ),
    Case(
        "replay of an older frame",
        [(1, S10)],
        _frame(KEYS_10, 5),
        Rejected(Rejection.F_CNT_REPLAY, EUI64(1), "frame counter 5 is behind 10"),
    ),
    Case(
        "counter jump beyond MAX_FCNT_GAP",
        [(1, S10)],
        _frame(KEYS_10, 10 + 20_000),
        Rejected(Rejection.F_CNT_GAP_TOO_LARGE, EUI64(1), "frame counter 20010, expected 10"),
    ),
    Case(
        "16-bit roll-over", [(1, S_ROLL)], _frame(KEYS_10, 0x20002), _accepted(1, S_ROLL, 0x20002)
    ),
    Case(
        "wrong key", [(1, S_OTHER)], _frame(KEYS_10, 10), Rejected(Rejection.MIC_FAILED, EUI64(1))
    ),
    Case(
        "shared DevAddr: the MIC picks the device",
        [(1, S_OTHER), (2, S10)],
        _frame(KEYS_10, 10),
        _accepted(2, S10, 10),
    ),
    Case(
        "relaxed counter accepts a restart",
        [(1, S_RELAXED)],
        _frame(KEYS_10, 0),
        _accepted(1, S_RELAXED, 0, reset=True),
    ),
    Case(
        "strict counter refuses a restart",
        [(1, S_STRICT)],
        _frame(KEYS_10, 0),
        Rejected(Rejection.F_CNT_REPLAY, EUI64(1), "frame counter 0 is behind 500"),
    ),
    Case(
        "1.1 MIC over data rate and channel", [(1, S11)], _frame(KEYS_11, 10), _accepted(1, S11, 10)
    ),
    Case(
        "1.1 MIC with another channel fails",
        [(1, S11)],
        _frame(KEYS_11, 10, tx_ch=0),
        Rejected(Rejection.MIC_FAILED, EUI64(1)),
    ),
    Case(
        "1.1 ACK covers the confirmed downlink counter",
        [(1, S11_CONF)],
        _frame(KEYS_11, 10, ack=True, conf_f_cnt=7),
        _accepted(1, S11_CONF, 10),
    ),
    Case(
        "1.1 ACK of the wrong downlink",
        [(1, S11_CONF)],
        _frame(KEYS_11, 10, ack=True, conf_f_cnt=6),
        Rejected(Rejection.MIC_FAILED, EUI64(1)),
    ),
    Case(
        "exhausted counter",
        [(1, S_DONE)],
        _frame(KEYS_10, 0),
        Rejected(Rejection.F_CNT_EXHAUSTED, EUI64(1), "32-bit frame counter exhausted"),
    ),
    Case("nobody has this DevAddr", [], _frame(KEYS_10, 10), Rejected(Rejection.UNKNOWN_DEV_ADDR)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_uplink_validation(case: Case) -> None:
    candidates = [(EUI64(dev), session) for dev, session in case.sessions]
    verdict = match_device(case.frame, candidates, EU868, case.radio, max_f_cnt_gap=16_384)
    assert verdict == case.expected


def test_1_1_channel_outside_the_device_plan_fails_cleanly() -> None:
    frame = _frame(KEYS_11, 10)
    verdict = match_device(
        frame, [(EUI64(1), S11)], EU868, replace(RADIO, frequency=867_100_000), max_f_cnt_gap=16_384
    )
    assert verdict == Rejected(Rejection.MIC_FAILED, EUI64(1))
