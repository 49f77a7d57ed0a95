"""Scenario table for the data-uplink flow: session state, incoming frame, what comes out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from appliance.lorawan import security
from appliance.lorawan.frames import DataFrame, FCtrl
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.maccommands import LinkCheckAns, decode_mac_commands
from appliance.lorawan.mhdr import MType
from appliance.lorawan.regions import get_region
from appliance.lorawan.security import SessionKeys
from appliance.ns.dedup import DeduplicatedUplink
from appliance.ns.mac import MACContext, MACLog
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession
from appliance.ns.uplink.data_flow import AckEvent, process
from appliance.ns.uplink.validation import Accepted, UplinkRadio, match_device
from hal.model import LoRaModulation, UplinkRxInfo, UplinkTxInfo

EU868 = get_region("EU868")
ADDR = DevAddr("26011bda")
DEV = EUI64(1)
KEYS = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
PROFILE = DeviceProfile(
    "quiet",
    "EU868",
    mac_version=MACVersion.LORAWAN_1_0_3,
    device_status_req_interval=0,
    id=uuid.UUID(int=1),
)
SETTINGS = NetworkSettings()
NO_FLAGS = FCtrl()
TX = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7))


def _session(**changes: object) -> DeviceSession:
    session = DeviceSession(
        ADDR, KEYS, MACVersion.LORAWAN_1_0_3, "EU868", 0, 869_525_000, (0, 1, 2), f_cnt_up=10, dr=5
    )
    for name, value in changes.items():
        setattr(session, name, value)
    return session


def _uplink(frame: DataFrame, gateways: int = 2) -> DeduplicatedUplink:
    receptions = tuple(
        UplinkRxInfo(EUI64(100 + i), snr=8.0 - i, rssi=-70 - i) for i in range(gateways)
    )
    return DeduplicatedUplink(frame.encode(), TX, receptions, 0)


def _frame(
    f_cnt: int,
    *,
    confirmed: bool = False,
    f_ctrl: FCtrl = NO_FLAGS,
    f_opts: bytes = b"",
    f_port: int | None = 1,
    payload: bytes = b"data",
) -> DataFrame:
    mtype = MType.CONFIRMED_DATA_UP if confirmed else MType.UNCONFIRMED_DATA_UP
    return security.build_data_frame(
        mtype,
        ADDR,
        KEYS,
        f_cnt,
        f_ctrl=f_ctrl,
        f_opts=f_opts,
        f_port=f_port,
        payload=payload if f_port is not None else b"",
    )


@dataclass
class Case:
    name: str
    session: DeviceSession
    frame: DataFrame
    event_data: bytes | None = None
    f_cnt_up_after: int = 11
    downlink_ack: bool | None = None  # None: no downlink
    downlink_mac: list[str] = field(default_factory=list)
    ack_event: AckEvent | None = None
    mac_logs: int = 0


CASES = [
    Case("unconfirmed data", _session(), _frame(10), event_data=b"data"),
    Case(
        "confirmed data is acknowledged",
        _session(),
        _frame(10, confirmed=True),
        event_data=b"data",
        downlink_ack=True,
    ),
    Case("retransmission: no event, no change", _session(), _frame(9), f_cnt_up_after=10),
    Case(
        "confirmed retransmission is acknowledged again",
        _session(),
        _frame(9, confirmed=True),
        f_cnt_up_after=10,
        downlink_ack=True,
    ),
    Case(
        "LinkCheckReq is answered",
        _session(),
        _frame(10, f_opts=b"\x02"),
        event_data=b"data",
        downlink_ack=False,
        downlink_mac=["LinkCheckAns"],
    ),
    Case(
        "MAC commands on port 0",
        _session(),
        _frame(10, f_port=0, payload=b"\x02"),
        downlink_ack=False,
        downlink_mac=["LinkCheckAns"],
    ),
    Case(
        "ADRACKReq asks for a downlink",
        _session(),
        _frame(10, f_ctrl=FCtrl(adr=True, adr_ack_req=True)),
        event_data=b"data",
        downlink_ack=False,
        downlink_mac=["LinkADRReq"],  # ADR on: the device hears from the network
    ),
    Case(
        "ACK of the confirmed downlink",
        _session(conf_f_cnt=4),
        _frame(10, f_ctrl=FCtrl(ack=True)),
        event_data=b"data",
        ack_event=AckEvent(DEV, 4, True),
    ),
    Case(
        "no ACK: the confirmed downlink was missed",
        _session(conf_f_cnt=4),
        _frame(10),
        event_data=b"data",
        ack_event=AckEvent(DEV, 4, False),
    ),
    Case(
        "unknown MAC command is reported, the rest handled",
        _session(),
        _frame(10, f_opts=b"\x02\x7f"),
        event_data=b"data",
        downlink_ack=False,
        downlink_mac=["LinkCheckAns"],
        mac_logs=1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_data_flow(case: Case) -> None:
    accepted = match_device(
        case.frame, [(DEV, case.session)], EU868, UplinkRadio(5, TX.frequency), max_f_cnt_gap=16_384
    )
    assert isinstance(accepted, Accepted)
    ctx = MACContext(now_ns=0, profile=PROFILE, settings=SETTINGS)
    outcome = process(case.frame, accepted, _uplink(case.frame), dr=5, ctx=ctx)
    session = accepted.session
    assert session.f_cnt_up == case.f_cnt_up_after
    if case.event_data is None:
        assert outcome.uplink_event is None
    else:
        assert outcome.uplink_event is not None
        assert outcome.uplink_event.data == case.event_data
        assert outcome.uplink_event.f_cnt == 10
    assert outcome.ack_event == case.ack_event
    assert len([e for e in outcome.mac_events if isinstance(e, MACLog)]) == case.mac_logs
    if case.downlink_ack is None:
        assert outcome.downlink is None
        return
    assert outcome.downlink is not None
    assert outcome.downlink.ack is case.downlink_ack
    commands = decode_mac_commands(outcome.downlink.mac_commands, uplink=False).commands
    assert [c.name for c in commands] == case.downlink_mac


def test_link_check_answer_reports_margin_and_gateways() -> None:
    frame = _frame(10, f_opts=b"\x02")
    accepted = match_device(
        frame, [(DEV, _session())], EU868, UplinkRadio(5, TX.frequency), max_f_cnt_gap=16_384
    )
    assert isinstance(accepted, Accepted)
    outcome = process(
        frame,
        accepted,
        _uplink(frame, gateways=3),
        dr=5,
        ctx=MACContext(now_ns=0, profile=PROFILE, settings=SETTINGS),
    )
    assert outcome.downlink is not None
    (answer,) = decode_mac_commands(outcome.downlink.mac_commands, uplink=False).commands
    assert isinstance(answer, LinkCheckAns)
    assert answer.gw_count == 3
    assert answer.margin == 15  # best SNR 8 dB above SF7's -7.5 dB floor, truncated


def test_history_feeds_adr() -> None:
    session = _session()
    for f_cnt in range(10, 15):
        frame = _frame(f_cnt, f_ctrl=FCtrl(adr=True))
        accepted = match_device(
            frame, [(DEV, session)], EU868, UplinkRadio(5, TX.frequency), max_f_cnt_gap=16_384
        )
        assert isinstance(accepted, Accepted)
        process(
            frame,
            accepted,
            _uplink(frame),
            dr=5,
            ctx=MACContext(now_ns=0, profile=PROFILE, settings=SETTINGS),
        )
    assert [h.f_cnt for h in session.uplink_history] == [10, 11, 12, 13, 14]
    assert all(h.gateway_count == 2 and h.max_snr == 8.0 for h in session.uplink_history)
    assert session.adr
