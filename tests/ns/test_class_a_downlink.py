"""Class A scenario table, downlinks: the queue (FIFO, FPort, confirmed, expiry, sizes and
FPending), receive windows (RX1/RX2, offsets, regions, policy, deadlines), confirmed
downlinks and their timeout, 1.1 counters, and the gateways' TX acknowledgements with the
fallback to the next window and the next gateway."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from appliance.lorawan.frames import FCtrl
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.maccommands import DevStatusReq
from appliance.ns.profile import MACVersion
from appliance.ns.uplink.data_flow import AckEvent
from hal.model import LoRaModulation, TxAckStatus, UplinkTxInfo
from tests.ns.class_a import (
    DEV1,
    EU868_SF12,
    GW1,
    GW2,
    GW3,
    KEYS_1_1,
    LINK_CHECK_REQ,
    MS,
    NOW,
    PROFILE_1_0,
    PROFILE_1_1,
    SETTINGS,
    S,
    Scenario,
    Stored,
    Uplink,
    Wait,
    check,
    data_downlink,
    data_up,
    device,
    downlink_windows,
    dropped,
    event,
    event_kinds,
    log_codes,
    metric,
    no_downlink,
    queue_length,
    queued,
    session,
    stored_check,
    stored_session,
    tx_acks,
)

V1_1 = MACVersion.LORAWAN_1_1_0
GW4 = EUI64(0xA4)
ONE_DEVICE = Stored(devices=(device(stored_session=session()),))
RX1 = ("rx1", 868_100_000, 5, 1.0)
RX2 = ("rx2", 869_525_000, 0, 2.0)
ACK_TIMEOUT = replace(SETTINGS, confirmed_downlink_timeout_s=60)
STATUS_PROFILE = replace(PROFILE_1_0, device_status_req_interval=1)
US915 = replace(SETTINGS, region_name="US915", extra_channels=(), enabled_sub_band=2)
US915_SESSION = session(
    region="US915",
    rx2_dr=8,
    rx2_frequency=923_300_000,
    enabled_uplink_channels=(*range(8, 16), 65),
    extra_uplink_channels={},
    dr=0,
)


def _with(*items: object, settings: object = SETTINGS) -> Stored:
    return Stored(
        devices=ONE_DEVICE.devices,
        queue=tuple(items),  # type: ignore[arg-type]
        settings=settings,  # type: ignore[arg-type]
    )


SCENARIOS = [
    # --- the queue ----------------------------------------------------------------------------
    Scenario(
        "an unconfirmed item goes out in RX1 on its FPort and leaves the queue",
        _with(queued(10, b"\xca\xfe")),
        (Uplink(data_up(10)),),
        (
            downlink_windows(RX1, RX2),
            data_downlink(f_cnt=5, f_port=10, payload=b"\xca\xfe"),
            queue_length(0),
            stored_session(n_f_cnt_down=6),
            tx_acks((GW1, TxAckStatus.OK)),
        ),
    ),
    Scenario(
        "first in, first out; FPending says more is waiting",
        _with(queued(10, b"first"), queued(11, b"second")),
        (Uplink(data_up(10)),),
        (data_downlink(f_cnt=5, f_port=10, payload=b"first", f_pending=True), queue_length(1)),
    ),
    Scenario(
        "an expired item is never sent",
        _with(queued(expires_at_ns=NOW - S)),
        (Uplink(data_up(10)),),
        (no_downlink(), queue_length(0)),
    ),
    Scenario(
        "an item too large for the data rate even alone is dropped and logged",
        _with(queued(10, bytes(60))),  # RX2 at DR0 carries 59 bytes of MACPayload
        (Uplink(data_up(10)),),
        (no_downlink(), queue_length(0), log_codes("payload_too_large")),
    ),
    Scenario(
        "MAC commands first: data that no longer fits waits, with FPending",
        _with(queued(10, bytes(50))),  # 7 + 1 + 50 = 58 alone, 61 with LinkCheckAns: M is 59
        (Uplink(data_up(10, f_opts=LINK_CHECK_REQ)),),
        (
            data_downlink(f_cnt=5, f_pending=True, commands=("LinkCheckAns",)),
            queue_length(1),
        ),
    ),
    Scenario(
        "a confirmed item: sent confirmed, kept until the device answers",
        _with(queued(10, b"\x01", confirmed=True)),
        (Uplink(data_up(10)),),
        (
            data_downlink(f_cnt=5, f_port=10, payload=b"\x01", confirmed=True),
            queue_length(1),
            stored_session(conf_f_cnt=5),
            event_kinds("UplinkEvent"),
        ),
    ),
    Scenario(
        "a confirmed item nobody acknowledges: the timeout reports it",
        _with(queued(10, b"\x01", confirmed=True), settings=ACK_TIMEOUT),
        (Uplink(data_up(10)), Wait(59 * S), Wait(2 * S)),
        (
            event(AckEvent, dev_eui=DEV1, f_cnt_down=5, acknowledged=False),
            queue_length(0),
            stored_session(conf_f_cnt=5, conf_f_cnt_timed_out=True),
            metric("ack_timeouts", 1),
        ),
    ),
    Scenario(
        "before the timeout nothing is reported",
        _with(queued(10, b"\x01", confirmed=True), settings=ACK_TIMEOUT),
        (Uplink(data_up(10)), Wait(59 * S)),
        (event_kinds("UplinkEvent"), queue_length(1)),
    ),
    Scenario(
        "acknowledged in time: one ack event, the timer is gone",
        _with(queued(10, b"\x01", confirmed=True), settings=ACK_TIMEOUT),
        (
            Uplink(data_up(10)),
            Wait(20 * S),
            Uplink(data_up(11, f_ctrl=FCtrl(ack=True))),
            Wait(60 * S),
        ),
        (
            event(AckEvent, f_cnt_down=5, acknowledged=True),
            event_kinds("UplinkEvent", "UplinkEvent", "AckEvent"),
            metric("ack_timeouts", 0),
        ),
    ),
    Scenario(
        "the timeout defaults to twice the profile's uplink interval",
        _with(queued(10, b"\x01", confirmed=True)),
        (Uplink(data_up(10)), Wait(2 * 3600 * S - S), Wait(2 * S)),
        (event(AckEvent, f_cnt_down=5, acknowledged=False),),
    ),
    # --- LoRaWAN 1.1 counters ----------------------------------------------------------------
    Scenario(
        "1.1: application data uses AFCntDown",
        Stored(
            devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1)),),
            queue=(queued(10, b"\x01"),),
        ),
        (Uplink(data_up(10, keys=KEYS_1_1)),),
        (
            data_downlink(KEYS_1_1, f_cnt=3, f_port=10, payload=b"\x01"),
            stored_session(a_f_cnt_down=4, n_f_cnt_down=5),
        ),
    ),
    Scenario(
        "1.1: MAC commands alone use NFCntDown",
        Stored(devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1)),)),
        (Uplink(data_up(10, keys=KEYS_1_1, f_opts=LINK_CHECK_REQ)),),
        (
            data_downlink(KEYS_1_1, f_cnt=5, commands=("LinkCheckAns",)),
            stored_session(a_f_cnt_down=3, n_f_cnt_down=6),
        ),
    ),
    # --- receive windows ----------------------------------------------------------------------
    Scenario(
        "RX2 only, by policy",
        _with(queued(), settings=replace(SETTINGS, rx_window="rx2_only")),
        (Uplink(data_up(10)),),
        (downlink_windows(RX2),),
    ),
    Scenario(
        "RX1 only, by policy",
        _with(queued(), settings=replace(SETTINGS, rx_window="rx1_only")),
        (Uplink(data_up(10)),),
        (downlink_windows(RX1),),
    ),
    Scenario(
        "RX2 preferred when RX1 would be slower than DR2",
        _with(queued(), settings=replace(SETTINGS, rx2_prefer_on_rx1_dr_lt=2)),
        (Uplink(data_up(10, tx_dr=0), tx=EU868_SF12),),
        (downlink_windows(RX2),),
    ),
    Scenario(
        "RX1 DR offset of the session",
        Stored(devices=(device(stored_session=session(rx1_dr_offset=2)),), queue=(queued(),)),
        (Uplink(data_up(10)),),
        (downlink_windows(("rx1", 868_100_000, 3, 1.0), RX2),),
    ),
    Scenario(
        "RX1 delay of the session",
        Stored(devices=(device(stored_session=session(rx1_delay_s=3)),), queue=(queued(),)),
        (Uplink(data_up(10)),),
        (downlink_windows(("rx1", 868_100_000, 5, 3.0), ("rx2", 869_525_000, 0, 4.0)),),
    ),
    Scenario(
        "RX1 frequency moved by DlChannelReq",
        Stored(
            devices=(device(stored_session=session(rx1_frequencies={0: 869_100_000})),),
            queue=(queued(),),
        ),
        (Uplink(data_up(10)),),
        (downlink_windows(("rx1", 869_100_000, 5, 1.0), RX2),),
    ),
    Scenario(
        "US915: RX1 on the uplink channel's downlink channel at 500 kHz",
        Stored(devices=(device(stored_session=US915_SESSION),), queue=(queued(),), settings=US915),
        (Uplink(data_up(10, tx_dr=0), tx=UplinkTxInfo(903_900_000, LoRaModulation(125_000, 10))),),
        (
            downlink_windows(
                ("rx1", 923_300_000, 10, 1.0), ("rx2", 923_300_000, 8, 2.0), region="US915"
            ),
        ),
    ),
    Scenario(
        "RX1 cannot be met any more: RX2 only",
        _with(queued()),
        (Uplink(data_up(10), after_ns=980 * MS),),
        (downlink_windows(RX2), queue_length(0)),
    ),
    Scenario(
        "both windows have passed: nothing sent, the item stays",
        _with(queued()),
        (Uplink(data_up(10, confirmed=True), after_ns=2_500 * MS),),
        (no_downlink(), queue_length(1), log_codes("downlink_window_missed")),
    ),
    # --- gateway TX acknowledgements ---------------------------------------------------------
    Scenario(
        "the best gateway refuses both windows: the next gateway sends it",
        _with(queued()),
        (Uplink(data_up(10)),),
        (
            tx_acks((GW1, TxAckStatus.COLLISION_PACKET), (GW2, TxAckStatus.OK)),
            downlink_windows(RX1, RX2, gateway=GW2, attempt=1),
            queue_length(0),
        ),
        gateway_answers={GW1: (TxAckStatus.COLLISION_PACKET, TxAckStatus.COLLISION_PACKET)},
    ),
    Scenario(
        "every gateway refuses: the item stays, the requests are not counted as sent",
        Stored(
            devices=(
                device(
                    profile=STATUS_PROFILE,
                    stored_session=session(last_device_status_request_ns=None),
                ),
            ),
            profiles=(STATUS_PROFILE,),
            queue=(queued(confirmed=True),),
        ),
        (Uplink(data_up(10)), Wait(3 * 3600 * S)),
        (
            tx_acks((GW1, TxAckStatus.TX_FREQ), (GW2, TxAckStatus.QUEUE_FULL)),
            queue_length(1),
            stored_session(
                pending_mac_requests={},
                last_device_status_request_ns=None,
                conf_f_cnt=None,
                n_f_cnt_down=6,  # a frame may have left without its TX_ACK: never reused
            ),
            event_kinds("UplinkEvent"),  # no timeout: nothing was sent
            metric("ack_timeouts", 0),
        ),
        gateway_answers={
            GW1: (TxAckStatus.TX_FREQ, TxAckStatus.TX_FREQ),
            GW2: (TxAckStatus.QUEUE_FULL, TxAckStatus.QUEUE_FULL),
        },
    ),
    Scenario(
        "requests that went out are awaited",
        Stored(
            devices=(
                device(
                    profile=STATUS_PROFILE,
                    stored_session=session(last_device_status_request_ns=None),
                ),
            ),
            profiles=(STATUS_PROFILE,),
        ),
        (Uplink(data_up(10)),),
        (
            data_downlink(f_cnt=5, commands=("DevStatusReq",)),
            stored_check(lambda s: DevStatusReq.CID in s.pending_mac_requests),
            stored_session(last_device_status_request_ns=NOW + 200 * MS),
        ),
    ),
    Scenario(
        "three gateways at most are tried",
        _with(queued()),
        (
            Uplink(
                data_up(10),
                gateways=((GW1, 9.0, -50), (GW2, 8.0, -60), (GW3, 7.0, -70), (GW4, 1.0, -99)),
            ),
        ),
        (
            tx_acks(
                (GW1, TxAckStatus.TOO_LATE),
                (GW2, TxAckStatus.TOO_LATE),
                (GW3, TxAckStatus.TOO_LATE),
            ),
            queue_length(1),
            metric("downlinks", {"TOO_LATE": 3}),
        ),
        gateway_answers=dict.fromkeys((GW1, GW2, GW3, GW4), (TxAckStatus.TOO_LATE,) * 2),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_downlink(scenario: Scenario, tmp_path: Path) -> None:
    await check(scenario, tmp_path)


REFUSALS = [s for s in TxAckStatus if s not in (TxAckStatus.OK, TxAckStatus.IGNORED)]


@pytest.mark.parametrize("status", REFUSALS, ids=lambda s: s.name)
async def test_a_refused_rx1_falls_back_to_rx2(status: TxAckStatus, tmp_path: Path) -> None:
    scenario = Scenario(
        f"RX1 refused with {status.name}",
        _with(queued(10, b"\x01")),
        (Uplink(data_up(10)),),
        (
            # The gateway went on to RX2 itself; its acknowledgement names the item sent.
            tx_acks((GW1, TxAckStatus.OK)),
            downlink_windows(RX1, RX2),
            data_downlink(f_cnt=5, f_port=10, payload=b"\x01"),
            queue_length(0),
            dropped(),
        ),
        gateway_answers={GW1: (status, TxAckStatus.OK)},
    )
    await check(scenario, tmp_path)


@pytest.mark.parametrize("status", REFUSALS, ids=lambda s: s.name)
async def test_a_gateway_refusing_everything_hands_over(
    status: TxAckStatus, tmp_path: Path
) -> None:
    scenario = Scenario(
        f"both windows refused with {status.name}",
        _with(queued(10, b"\x01")),
        (Uplink(data_up(10)),),
        (
            tx_acks((GW1, status), (GW2, TxAckStatus.OK)),
            downlink_windows(RX1, RX2, gateway=GW2, attempt=1),
            queue_length(0),
        ),
        gateway_answers={GW1: (status, status)},
    )
    await check(scenario, tmp_path)
