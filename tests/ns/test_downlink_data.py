"""Building data downlinks: sizing, FOpts vs FPort 0, FPending, counters, as the device reads it."""

from __future__ import annotations

import uuid

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import DataFrame
from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.downlink.data import DownlinkNeed, QueueItem, advance_counters, build
from appliance.ns.profile import MACVersion
from appliance.ns.session import DeviceSession

KEYS_10 = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
KEYS_11 = SessionKeys(*(AESKey(bytes([i + 3]) * 16) for i in range(4)))
LINK_CHECK_ANS = bytes.fromhex("020a01")


def _session(keys: SessionKeys = KEYS_10) -> DeviceSession:
    version = MACVersion.LORAWAN_1_1_0 if keys.lorawan_1_1 else MACVersion.LORAWAN_1_0_3
    return DeviceSession(
        DevAddr("26011bda"),
        keys,
        version,
        "EU868",
        0,
        869_525_000,
        (0, 1, 2),
        n_f_cnt_down=5,
        a_f_cnt_down=50,
    )


def _item(size: int, confirmed: bool = False) -> QueueItem:
    return QueueItem(uuid.uuid4(), 10, bytes(range(size)), confirmed)


def _as_device(downlink: DataFrame, session: DeviceSession, f_cnt: int) -> DataFrame:
    frame = decode_phy_payload(downlink.encode())
    assert isinstance(frame, DataFrame)
    assert security.verify_data_mic(frame, session.keys, f_cnt)
    return frame


def test_nothing_to_say_means_no_downlink() -> None:
    assert build(_session(), DownlinkNeed(), 59) == (None, False)


def test_ack_only() -> None:
    session = _session()
    sent, too_large = build(session, DownlinkNeed(ack=True), 59)
    assert sent is not None and not too_large
    frame = _as_device(sent.frame, session, 5)
    assert frame.f_ctrl.ack and frame.f_port is None and not frame.f_ctrl.f_pending


def test_mac_commands_in_f_opts_with_application_data() -> None:
    session = _session()
    item = _item(20)
    sent, _ = build(session, DownlinkNeed(mac_commands=LINK_CHECK_ANS, item=item), 59)
    assert sent is not None and sent.item == item
    frame = _as_device(sent.frame, session, 5)
    assert frame.f_opts == LINK_CHECK_ANS
    assert security.decrypt_frm_payload(frame, session.keys, 5) == item.data


def test_data_that_does_not_fit_beside_mac_commands_waits_with_f_pending() -> None:
    session = _session()
    item = _item(49)  # 7 + 1 + 49 = 57 fits DR0 (59) alone, not with 3 bytes of FOpts
    sent, too_large = build(session, DownlinkNeed(mac_commands=LINK_CHECK_ANS, item=item), 59)
    assert sent is not None and sent.item is None and not too_large
    frame = _as_device(sent.frame, session, 5)
    assert frame.f_ctrl.f_pending
    assert frame.f_opts == LINK_CHECK_ANS


def test_an_item_too_large_for_the_data_rate_is_reported() -> None:
    sent, too_large = build(_session(), DownlinkNeed(item=_item(60)), 59)
    assert sent is None and too_large


def test_long_mac_commands_go_on_port_0_alone() -> None:
    session = _session()
    mac = bytes.fromhex("0350ff0001") * 4  # 20 bytes of LinkADRReq
    sent, _ = build(session, DownlinkNeed(mac_commands=mac, item=_item(5)), 59)
    assert sent is not None and sent.item is None
    frame = _as_device(sent.frame, session, 5)
    assert frame.f_port == 0 and frame.f_opts == b""
    assert security.decrypt_frm_payload(frame, session.keys, 5) == mac
    assert frame.f_ctrl.f_pending


def test_confirmed_downlink_counters_and_the_awaited_ack() -> None:
    session = _session()
    sent, _ = build(session, DownlinkNeed(item=_item(4, confirmed=True), more_queued=True), 59)
    assert sent is not None
    assert sent.frame.confirmed and sent.frame.f_ctrl.f_pending
    assert (sent.f_cnt, sent.application_counter) == (5, False)
    advance_counters(session, sent)
    assert (session.n_f_cnt_down, session.conf_f_cnt) == (6, 5)


def test_1_1_uses_afcntdown_for_application_data_and_nfcntdown_otherwise() -> None:
    session = _session(KEYS_11)
    data, _ = build(session, DownlinkNeed(item=_item(4)), 59)
    assert data is not None and (data.f_cnt, data.application_counter) == (50, True)
    _as_device(data.frame, session, 50)
    advance_counters(session, data)
    mac, _ = build(session, DownlinkNeed(mac_commands=LINK_CHECK_ANS), 59)
    assert mac is not None and (mac.f_cnt, mac.application_counter) == (5, False)
    frame = _as_device(mac.frame, session, 5)
    assert security.decrypt_f_opts(frame, session.keys, 5) == LINK_CHECK_ANS
    advance_counters(session, mac)
    assert (session.a_f_cnt_down, session.n_f_cnt_down) == (51, 6)


def test_1_1_ack_signs_the_uplink_counter() -> None:
    session = _session(KEYS_11)
    sent, _ = build(session, DownlinkNeed(ack=True, uplink_f_cnt=77), 59)
    assert sent is not None
    frame = decode_phy_payload(sent.frame.encode())
    assert isinstance(frame, DataFrame)
    assert security.verify_data_mic(frame, session.keys, 5, conf_f_cnt=77)
    assert not security.verify_data_mic(frame, session.keys, 5, conf_f_cnt=76)
