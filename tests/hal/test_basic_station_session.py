"""The sans-IO station session and the downlink messages, driven with a fake clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import get_region
from hal.basic_station import (
    PLACEHOLDER_DEV_EUI,
    Reply,
    SessionConfig,
    StationDataRates,
    StationSession,
    UpChannel,
    UplinkContext,
    build_dnmsg,
    build_dnsched,
    region_channels,
)
from hal.basic_station.emulator import VERSION, dntxed_for, uplink_message
from hal.basic_station.errors import DownlinkEncodeError
from hal.basic_station.session import Unacknowledged
from hal.basic_station.timing import NS_PER_S, make_xtime
from hal.model import (
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    DownlinkTxInfo,
    FSKModulation,
    GPSEpoch,
    Immediately,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
)

GATEWAY = EUI64("0102030405060708")
EU868 = StationDataRates(get_region("EU868"))
US915 = StationDataRates(get_region("US915"))
NOW = 1_700_000_000 * NS_PER_S
GPS_NOW = 1_384_035_218 * NS_PER_S
XTIME = make_xtime(0, 0x11, 10_000_000)
CONTEXT = UplinkContext(rctx=0, xtime=XTIME).to_bytes()
UPDF = bytes.fromhex("40abcdefff01f3f4ff202122a0a1a2a3")
SF7 = LoRaModulation(125_000, 7)
SF12 = LoRaModulation(125_000, 12)


def _session(*, configured: bool = True, **overrides: Any) -> StationSession:
    config = SessionConfig(EU868, region_channels(EU868.region), **overrides)
    session = StationSession(GATEWAY, config, now_ns=NOW, first_uplink_id=0xFFFF_FFFF)
    if configured:
        session.router_config(NOW)  # as after the station's version message
    return session


def _item(frequency: int, modulation: Any, timing: Any, context: bytes = CONTEXT) -> DownlinkItem:
    return DownlinkItem(
        b"\x60" + bytes(11), DownlinkTxInfo(frequency, 14, modulation, timing, context=context)
    )


def _class_a(downlink_id: int = 7, rx2_delay_s: int = 2) -> DownlinkFrame:
    return DownlinkFrame(
        downlink_id,
        GATEWAY,
        (
            _item(868_300_000, SF7, Delay(1 * NS_PER_S)),
            _item(869_525_000, SF12, Delay(rx2_delay_s * NS_PER_S)),
        ),
    )


def _texts(outputs: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(o.text) for o in outputs if isinstance(o, Reply)]


def test_version_is_answered_with_router_config_and_recorded() -> None:
    session = _session()
    outputs = session.receive_text(json.dumps(VERSION | {"features": "rmtsh gps"}), NOW, GPS_NOW)
    (config,) = _texts(outputs)
    assert config["msgtype"] == "router_config" and config["region"] == "EU868"
    assert session.info is not None
    assert (session.info.station, session.info.protocol, session.info.features) == (
        "2.0.6(emulator)",
        2,
        ("rmtsh", "gps"),
    )


def test_uplinks_become_frames_with_running_ids() -> None:
    session = _session()
    message = json.dumps(uplink_message(UPDF, data_rate=5, frequency_hz=868_100_000, xtime=XTIME))
    first, second = (session.receive_text(message, NOW, GPS_NOW)[0] for _ in range(2))
    assert isinstance(first, UplinkFrame) and isinstance(second, UplinkFrame)
    assert first.phy_payload == UPDF
    assert (first.rx_info.uplink_id, second.rx_info.uplink_id) == (0xFFFF_FFFF, 0)
    assert first.rx_info.channel == 5  # 868.1 MHz is the sixth channel in frequency order


def test_timesync_is_answered_with_gps_time() -> None:
    session = _session()
    (answer,) = _texts(
        session.receive_text('{"msgtype":"timesync","txtime":123456789}', NOW, GPS_NOW)
    )
    assert answer == {
        "msgtype": "timesync",
        "txtime": 123456789,
        "gpstime": GPS_NOW // 1000,
        "MuxTime": 1_700_000_000.0,
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "not_json"),
        ("[" * 100_000, "not_json"),  # nesting deep enough to exhaust the parser
        ("[1, 2]", "not_an_object"),
        ('{"msgtype": 5}', "missing_msgtype"),
        ("{}", "missing_msgtype"),
        ('{"msgtype": "hello"}', "unknown_msgtype"),
        ('{"msgtype": "dndf"}', "device_mode_frame"),
        ('{"msgtype": "timesync", "txtime": "now"}', "bad_field:txtime"),
        ('{"msgtype": "dntxed", "diid": 99}', "unknown_diid"),
        ('{"msgtype": "dntxed"}', "missing_field:seqno"),
        ('{"msgtype": "updf", "MHdr": 64}', "missing_field:DevAddr"),
    ],
)
def test_bad_messages_are_counted_not_raised(text: str, reason: str) -> None:
    session = _session()
    assert session.receive_text(text, NOW, GPS_NOW) == []
    assert session.drops == {reason: 1}


def test_odd_version_fields_still_get_a_router_config() -> None:
    session = _session(configured=False)
    version = {"msgtype": "version", "protocol": "two", "features": ["rmtsh", 3], "model": 5}
    (config,) = _texts(session.receive_text(json.dumps(version), NOW, GPS_NOW))
    assert config["msgtype"] == "router_config" and session.configured
    assert session.info is not None
    assert (session.info.protocol, session.info.features, session.info.model) == (0, ("rmtsh",), "")


def test_no_downlink_before_router_config() -> None:
    session = _session(configured=False)
    ack = session.send_downlink(_class_a(), NOW, GPS_NOW)
    assert ack == DownlinkTxAck(GATEWAY, 7, (TxAckStatus.INTERNAL_ERROR,) * 2)
    assert session.drops == {"downlink_before_router_config": 1}


def test_binary_frames_are_counted() -> None:
    session = _session()
    session.receive_binary()
    assert session.drops == {"binary_frame": 1}


def test_floods_are_cut_to_the_rate_limit() -> None:
    session = _session(rate_limit_per_s=10)
    message = json.dumps(uplink_message(UPDF, data_rate=5, frequency_hz=868_100_000))
    accepted = sum(len(session.receive_text(message, NOW, GPS_NOW)) for _ in range(50))
    assert accepted == 10 and session.drops["rate_limited"] == 40
    later = NOW + NS_PER_S // 2  # half a second refills five
    assert sum(len(session.receive_text(message, later, GPS_NOW)) for _ in range(50)) == 5


def test_class_a_dnmsg() -> None:
    plan = build_dnmsg(_class_a(), EU868, now_unix_ns=NOW, now_gps_ns=GPS_NOW)
    assert plan.message == {
        "msgtype": "dnmsg",
        "DevEui": PLACEHOLDER_DEV_EUI,
        "diid": 7,
        "pdu": "60" + "00" * 11,
        "priority": 1,
        "MuxTime": 1_700_000_000.0,
        "dC": 0,
        "RxDelay": 1,
        "RX1DR": 5,
        "RX1Freq": 868_300_000,
        "xtime": XTIME,
        "rctx": 0,
        "RX2DR": 0,
        "RX2Freq": 869_525_000,
    }
    assert [item.index for item in plan.offered] == [0, 1]
    assert plan.transmit_within_ns == 2 * NS_PER_S


def test_class_a_rx2_only_when_station_can_time_it() -> None:
    plan = build_dnmsg(_class_a(rx2_delay_s=3), EU868, now_unix_ns=NOW, now_gps_ns=GPS_NOW)
    assert "RX2DR" not in plan.message and len(plan.offered) == 1


def test_class_c_and_class_b_dnmsg() -> None:
    class_c = DownlinkFrame(1, GATEWAY, (_item(869_525_000, SF12, Immediately(), b""),))
    plan = build_dnmsg(class_c, EU868, now_unix_ns=NOW, now_gps_ns=GPS_NOW)
    assert {k: plan.message[k] for k in ("dC", "RxDelay", "RX2DR", "RX2Freq")} == {
        "dC": 2,
        "RxDelay": 0,
        "RX2DR": 0,
        "RX2Freq": 869_525_000,
    }
    assert not {"xtime", "RX1DR", "DR", "rctx"} & set(plan.message)
    class_b = DownlinkFrame(
        2,
        GATEWAY,
        (
            _item(
                869_525_000,
                LoRaModulation(125_000, 9),
                GPSEpoch(GPS_NOW + 5 * NS_PER_S + 123_456),
                b"",
            ),
        ),
    )
    plan = build_dnmsg(class_b, EU868, now_unix_ns=NOW, now_gps_ns=GPS_NOW)
    assert {k: plan.message[k] for k in ("dC", "DR", "Freq", "gpstime")} == {
        "dC": 1,
        "DR": 3,
        "Freq": 869_525_000,
        "gpstime": (GPS_NOW + 5 * NS_PER_S) // 1000 + 123,
    }
    assert plan.transmit_within_ns == 5 * NS_PER_S + 123_456


def test_us915_downlink_uses_the_downlink_only_rate() -> None:
    frame = DownlinkFrame(
        3, GATEWAY, (_item(923_300_000, LoRaModulation(500_000, 12), Delay(NS_PER_S)),)
    )
    assert build_dnmsg(frame, US915, now_unix_ns=NOW, now_gps_ns=GPS_NOW).message["RX1DR"] == 8


@pytest.mark.parametrize(
    ("item", "status"),
    [
        (_item(868_300_000, SF7, Delay(NS_PER_S), b""), TxAckStatus.INTERNAL_ERROR),  # no context
        (_item(915_000_000, SF7, Delay(NS_PER_S)), TxAckStatus.TX_FREQ),
        (_item(868_300_000, SF7, Delay(1_500_000_000)), TxAckStatus.INTERNAL_ERROR),
        (_item(868_300_000, SF7, Delay(16 * NS_PER_S)), TxAckStatus.INTERNAL_ERROR),
        (
            _item(868_300_000, LoRaModulation(500_000, 7), Delay(NS_PER_S)),
            TxAckStatus.INTERNAL_ERROR,
        ),
        (_item(868_300_000, SF7, GPSEpoch(GPS_NOW + 601 * NS_PER_S)), TxAckStatus.TOO_EARLY),
        (
            DownlinkItem(bytes(256), _item(868_300_000, SF7, Immediately()).tx_info),
            TxAckStatus.INTERNAL_ERROR,
        ),
    ],
)
def test_downlinks_station_cannot_express(item: DownlinkItem, status: TxAckStatus) -> None:
    frame = DownlinkFrame(9, GATEWAY, (item, item))
    with pytest.raises(DownlinkEncodeError):
        build_dnmsg(frame, EU868, now_unix_ns=NOW, now_gps_ns=GPS_NOW)
    ack = _session().send_downlink(frame, NOW, GPS_NOW)
    assert ack == DownlinkTxAck(GATEWAY, 9, (status, status))


def _sent(session: StationSession, frame: DownlinkFrame) -> dict[str, Any]:
    reply = session.send_downlink(frame, NOW, GPS_NOW)
    assert isinstance(reply, Reply)
    message: dict[str, Any] = json.loads(reply.text)
    return message


@pytest.mark.parametrize(
    ("rx2", "statuses"),
    [
        (False, (TxAckStatus.OK, TxAckStatus.IGNORED)),
        (True, (TxAckStatus.TOO_LATE, TxAckStatus.OK)),
    ],
)
def test_dntxed_acknowledges_the_item_sent(rx2: bool, statuses: tuple[TxAckStatus, ...]) -> None:
    session = _session()
    dnmsg = _sent(session, _class_a())
    (ack,) = session.receive_text(json.dumps(dntxed_for(dnmsg, rx2=rx2)), NOW, GPS_NOW)
    assert ack == DownlinkTxAck(GATEWAY, 7, statuses)
    assert session.next_deadline() is None


def test_same_channel_rx1_and_rx2_told_apart_by_xtime() -> None:
    frame = DownlinkFrame(
        4,
        GATEWAY,
        (_item(869_525_000, SF12, Delay(NS_PER_S)), _item(869_525_000, SF12, Delay(2 * NS_PER_S))),
    )
    session = _session()
    dnmsg = _sent(session, frame)
    (ack,) = session.receive_text(json.dumps(dntxed_for(dnmsg, rx2=True)), NOW, GPS_NOW)
    assert isinstance(ack, DownlinkTxAck) and ack.sent_item == 1


def test_missing_dntxed_expires_as_too_late() -> None:
    session = _session(tx_ack_timeout_ns=NS_PER_S)
    _sent(session, _class_a())
    deadline = NOW + 3 * NS_PER_S  # RX2 at 2 s, then the 1 s timeout
    assert session.next_deadline() == deadline
    assert session.expire(deadline - 1) == []
    assert session.expire(deadline) == [
        DownlinkTxAck(GATEWAY, 7, (TxAckStatus.TOO_LATE, TxAckStatus.TOO_LATE))
    ]
    assert session.receive_text(json.dumps({"msgtype": "dntxed", "diid": 7}), NOW, GPS_NOW) == []
    assert session.drops == {"unknown_diid": 1}


def test_pending_limits_and_close() -> None:
    session = _session(max_pending_downlinks=1)
    _sent(session, _class_a(1))
    assert session.send_downlink(_class_a(1), NOW, GPS_NOW) == DownlinkTxAck(
        GATEWAY, 1, (TxAckStatus.INTERNAL_ERROR,) * 2
    )
    assert session.send_downlink(_class_a(2), NOW, GPS_NOW) == DownlinkTxAck(
        GATEWAY, 2, (TxAckStatus.QUEUE_FULL,) * 2
    )
    assert set(session.pending_downlinks) == {1}
    assert session.close() == [DownlinkTxAck(GATEWAY, 1, (TxAckStatus.INTERNAL_ERROR,) * 2)]
    assert session.pending_downlinks == {}


def test_older_stations_acknowledge_with_seqno() -> None:
    session = _session()
    dnmsg = _sent(session, _class_a())
    dntxed = dntxed_for(dnmsg)
    del dntxed["diid"]
    assert session.receive_text(json.dumps(dntxed), NOW, GPS_NOW)[0].items[0] is TxAckStatus.OK  # type: ignore[union-attr]


def test_reconfigure_sends_the_new_channels() -> None:
    session = _session()
    channels = (UpChannel(868_100_000, 0, 5), UpChannel(868_800_000, 7, 7))
    config = json.loads(session.reconfigure(channels, NOW).text)
    assert config["upchannels"] == [[868_100_000, 0, 5], [868_800_000, 7, 7]]
    assert config["sx1301_conf"][0]["chan_FSK"]["enable"]
    message = json.dumps(uplink_message(UPDF, data_rate=7, frequency_hz=868_800_000))
    (frame,) = session.receive_text(message, NOW, GPS_NOW)
    assert isinstance(frame, UplinkFrame)
    assert frame.rx_info.channel == 1 and frame.tx_info.modulation == FSKModulation(50_000)


def test_dnsched_for_gps_timed_frames() -> None:
    frames = [
        DownlinkFrame(i, GATEWAY, (_item(869_525_000, SF12, GPSEpoch(GPS_NOW + i * NS_PER_S)),))
        for i in (1, 2)
    ]
    message = build_dnsched(frames, EU868, now_unix_ns=NOW)
    assert message["msgtype"] == "dnsched"
    assert message["schedule"][1] == {
        "diid": 2,
        "DR": 0,
        "Freq": 869_525_000,
        "gpstime": (GPS_NOW + 2 * NS_PER_S) // 1000,
        "pdu": "60" + "00" * 11,
        "rctx": 0,
        "priority": 1,
    }
    with pytest.raises(DownlinkEncodeError):
        build_dnsched([_class_a()], EU868, now_unix_ns=NOW)


def test_gps_timed_frames_go_as_dnsched_when_configured() -> None:
    frame = DownlinkFrame(
        11, GATEWAY, (_item(869_525_000, SF12, GPSEpoch(GPS_NOW + 3 * NS_PER_S)),)
    )
    # Default: a dnmsg with dC 1, which Station acknowledges with dntxed.
    default = _sent(_session(), frame)
    assert (default["msgtype"], default["dC"]) == ("dnmsg", 1)
    # Configured: a dnsched, which Station never acknowledges: OK once handed over.
    session = _session(gps_timed_as_dnsched=True)
    result = session.send_downlink(frame, NOW, GPS_NOW)
    assert isinstance(result, Unacknowledged)
    message = json.loads(result.reply.text)
    assert message["msgtype"] == "dnsched"
    (entry,) = message["schedule"]
    assert entry["gpstime"] == (GPS_NOW + 3 * NS_PER_S) // 1000
    assert entry["diid"] == 11
    assert result.ack == DownlinkTxAck(GATEWAY, 11, (TxAckStatus.OK,))
    assert session.next_deadline() is None
    # Class A frames are unaffected by the option.
    assert _sent(session, _class_a())["msgtype"] == "dnmsg"
