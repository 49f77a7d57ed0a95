"""Class A scenario table, data uplinks: device lookup, counters, MIC, retransmissions, bad
input, MAC commands and the session switch after a rejoin (stored state, frames, asserts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.lorawan.frames import FCtrl
from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.maccommands import (
    DeviceTimeAns,
    DevStatusAns,
    DevStatusReq,
    LinkCheckAns,
    encode_mac_commands,
)
from appliance.lorawan.security import SessionKeys
from appliance.ns.events import DeviceMACEvent
from appliance.ns.mac import DeviceStatus
from appliance.ns.profile import MACVersion
from appliance.ns.session import PendingMACRequest, UplinkHistoryEntry
from appliance.ns.uplink.data_flow import AckEvent, UplinkEvent
from hal.model import LoRaModulation, UplinkTxInfo
from tests.ns.class_a import (
    DEV1,
    DEV2,
    EU868_SF12,
    GW1,
    KEYS_1_0,
    KEYS_1_1,
    PROFILE_1_1,
    Scenario,
    Stored,
    Uplink,
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
    some_event,
    stored_check,
    stored_session,
)

V1_1 = MACVersion.LORAWAN_1_1_0
OTHER_KEYS = SessionKeys.for_1_0(AESKey(bytes([7]) * 16), AESKey(bytes([8]) * 16))
NEW_KEYS_1_1 = SessionKeys(AESKey(11), AESKey(12), AESKey(13), AESKey(14))
ONE_DEVICE = Stored(devices=(device(stored_session=session()),))
RX1_RX2 = (("rx1", 868_100_000, 5, 1.0), ("rx2", 869_525_000, 0, 2.0))
LINK_CHECK_REQ = b"\x02"
DEVICE_TIME_REQ = b"\x0d"
REKEY_IND = b"\x0b\x01"


def _good_history() -> list[UplinkHistoryEntry]:
    return [UplinkHistoryEntry(f, 5.0, -70, 0, 1) for f in range(20)]


SCENARIOS = [
    # --- device, counter and MIC -------------------------------------------------------------
    Scenario(
        "unconfirmed uplink: an up event, no reason to answer",
        ONE_DEVICE,
        (Uplink(data_up(10)),),
        (
            event(UplinkEvent, dev_eui=DEV1, f_cnt=10, f_port=1, data=b"\x11\x22", dr=5),
            no_downlink(),
            stored_session(f_cnt_up=11, n_f_cnt_down=5),
            metric("uplinks", 1),
            dropped(),
        ),
    ),
    Scenario(
        "confirmed uplink: ACK in RX1 through the best gateway, RX2 behind it",
        ONE_DEVICE,
        (Uplink(data_up(10, confirmed=True)),),
        (
            event_kinds("UplinkEvent"),
            downlink_windows(*RX1_RX2, gateway=GW1),
            data_downlink(f_cnt=5, ack=True),
            stored_session(f_cnt_up=11, n_f_cnt_down=6),
        ),
    ),
    Scenario(
        "shared DevAddr: the MIC picks the device",
        Stored(
            devices=(
                device(DEV1, stored_session=session()),
                device(DEV2, stored_session=session(keys=OTHER_KEYS)),
            )
        ),
        (Uplink(data_up(10, keys=OTHER_KEYS)),),
        (event(UplinkEvent, dev_eui=DEV2, f_cnt=10), stored_session(DEV2, f_cnt_up=11)),
    ),
    Scenario(
        "32-bit counter rebuilt across a 16-bit roll-over",
        Stored(devices=(device(stored_session=session(f_cnt_up=0x1FFFF)),)),
        (Uplink(data_up(0x20000)),),
        (event(UplinkEvent, f_cnt=0x20000), stored_session(f_cnt_up=0x20001)),
    ),
    Scenario(
        "frames lost in between are fine",
        ONE_DEVICE,
        (Uplink(data_up(100)),),
        (event(UplinkEvent, f_cnt=100), stored_session(f_cnt_up=101)),
    ),
    Scenario(
        "replayed counter: dropped, logged for the device",
        ONE_DEVICE,
        (Uplink(data_up(5)),),
        (
            event_kinds("LogEvent"),
            log_codes("f_cnt_replay"),
            dropped(f_cnt_replay=1),
            stored_session(f_cnt_up=10),
        ),
    ),
    Scenario(
        "counter too far ahead (MAX_FCNT_GAP)",
        ONE_DEVICE,
        (Uplink(data_up(10 + 16_385)),),
        (log_codes("f_cnt_gap_too_large"), dropped(f_cnt_gap_too_large=1), no_downlink()),
    ),
    Scenario(
        "32-bit counter exhausted: the session cannot go on",
        Stored(devices=(device(stored_session=session(f_cnt_up=0xFFFF_FFFF)),)),
        (Uplink(data_up(0)),),
        (log_codes("f_cnt_exhausted"), dropped(f_cnt_exhausted=1), no_downlink()),
    ),
    Scenario(
        "NbTrans repeat of an unconfirmed frame: nothing new",
        ONE_DEVICE,
        (Uplink(data_up(9)),),
        (event_kinds(), no_downlink(), stored_session(f_cnt_up=10), dropped()),
    ),
    Scenario(
        "repeat of a confirmed frame: its ACK may have been lost, so again an ACK",
        ONE_DEVICE,
        (Uplink(data_up(9, confirmed=True)),),
        (event_kinds(), data_downlink(f_cnt=5, ack=True), stored_session(f_cnt_up=10)),
    ),
    Scenario(
        "relaxed counters: an ABP device that restarted from 0",
        Stored(devices=(device(stored_session=session(f_cnt_up=500, skip_f_cnt_check=True)),)),
        (Uplink(data_up(0)),),
        (event(UplinkEvent, f_cnt=0), stored_session(f_cnt_up=1)),
    ),
    Scenario(
        "the same restart without relaxed counters is a replay",
        Stored(devices=(device(stored_session=session(f_cnt_up=500)),)),
        (Uplink(data_up(0)),),
        (log_codes("f_cnt_replay"), dropped(f_cnt_replay=1)),
    ),
    # --- bad input ---------------------------------------------------------------------------
    Scenario(
        "wrong MIC from the only device with the DevAddr: logged",
        ONE_DEVICE,
        (Uplink(data_up(10, keys=OTHER_KEYS)),),
        (log_codes("mic_failed"), dropped(mic_failed=1), no_downlink()),
    ),
    Scenario(
        "wrong MIC with a shared DevAddr: nobody to blame, only counted",
        Stored(
            devices=(
                device(DEV1, stored_session=session()),
                device(DEV2, stored_session=session(keys=KEYS_1_0)),
            )
        ),
        (Uplink(data_up(10, keys=OTHER_KEYS)),),
        (log_codes(), dropped(mic_failed=1)),
    ),
    Scenario(
        "unknown DevAddr: counted, no device to tell",
        ONE_DEVICE,
        (Uplink(data_up(10, dev_addr=DevAddr(0x01020304))),),
        (event_kinds(), dropped(unknown_dev_addr=1)),
    ),
    Scenario(
        "malformed frame",
        ONE_DEVICE,
        (Uplink(b"\x40\x01\x02"),),
        (event_kinds(), dropped(invalid_frame=1)),
    ),
    Scenario(
        "empty frame",
        ONE_DEVICE,
        (Uplink(b""),),
        (event_kinds(), dropped(invalid_frame=1)),
    ),
    Scenario(
        "a downlink frame heard as an uplink",
        ONE_DEVICE,
        (Uplink(bytes.fromhex("60da1b0026000500") + b"\x00" * 4),),
        (event_kinds(), dropped(unsupported_message_type=1)),
    ),
    Scenario(
        "proprietary frame",
        ONE_DEVICE,
        (Uplink(b"\xe0\x01\x02\x03\x04\x05"),),
        (event_kinds(), dropped(unsupported_message_type=1)),
    ),
    Scenario(
        "frame too long for the region at its data rate (SF12: 59 bytes)",
        ONE_DEVICE,
        (Uplink(data_up(10, payload=bytes(60), tx_dr=0), tx=EU868_SF12),),
        (
            log_codes("frame_too_long"),
            dropped(frame_too_long=1),
            no_downlink(),
            stored_session(f_cnt_up=10),
        ),
    ),
    Scenario(
        "a modulation the region does not have",
        ONE_DEVICE,
        (Uplink(data_up(10), tx=UplinkTxInfo(868_100_000, LoRaModulation(500_000, 7))),),
        (event_kinds(), dropped(invalid_radio_parameters=1)),
    ),
    Scenario(
        "disabled device",
        Stored(devices=(device(stored_session=session(), enabled=False),)),
        (Uplink(data_up(10)),),
        (event_kinds(), dropped(device_disabled_or_missing=1)),
    ),
    # --- MAC commands ------------------------------------------------------------------------
    Scenario(
        "LinkCheckReq: margin over SF7's floor and the gateway count",
        ONE_DEVICE,
        (Uplink(data_up(10, f_opts=LINK_CHECK_REQ)),),
        (
            # best SNR 7 dB over SF7's -7.5 dB floor; two gateways heard it
            data_downlink(
                f_cnt=5, commands=("LinkCheckAns",), exact=(LinkCheckAns(margin=14, gw_count=2),)
            ),
            stored_check(lambda s: s.n_f_cnt_down == 6),
        ),
    ),
    Scenario(
        "DeviceTimeReq: answered with the uplink's GPS time",
        ONE_DEVICE,
        (Uplink(data_up(10, f_opts=DEVICE_TIME_REQ)),),
        (
            data_downlink(
                f_cnt=5,
                commands=("DeviceTimeAns",),
                exact=(DeviceTimeAns(gps_seconds=1_300_001_000, fraction=0),),
            ),
        ),
    ),
    Scenario(
        "DevStatusAns to a pending DevStatusReq: a status event",
        Stored(
            devices=(
                device(
                    stored_session=session(
                        pending_mac_requests={
                            DevStatusReq.CID: PendingMACRequest(DevStatusReq.CID, (b"\x06",), 4)
                        }
                    )
                ),
            )
        ),
        (Uplink(data_up(10, f_opts=encode_mac_commands([DevStatusAns(200, 7)], uplink=True))),),
        (
            some_event(DeviceMACEvent, event=DeviceStatus(200, 7, False, 78.66)),
            stored_check(lambda s: s.pending_mac_requests == {}),
        ),
    ),
    Scenario(
        "ADR: a strong link over a full history gets a faster data rate",
        Stored(devices=(device(stored_session=session(dr=0, uplink_history=_good_history())),)),
        (Uplink(data_up(20, f_ctrl=FCtrl(adr=True), tx_dr=0), tx=EU868_SF12),),
        (
            data_downlink(f_cnt=5, commands=("LinkADRReq",)),
            stored_check(lambda s: 3 in s.pending_mac_requests),
        ),
    ),
    # --- confirmed downlinks settled by the next uplink --------------------------------------
    Scenario(
        "the next uplink carries the ACK: acknowledged, the item leaves the queue",
        Stored(
            devices=(device(stored_session=session(conf_f_cnt=4)),),
            queue=(queued(confirmed=True, sent_with_f_cnt=4),),
        ),
        (Uplink(data_up(10, f_ctrl=FCtrl(ack=True))),),
        (
            event(AckEvent, dev_eui=DEV1, f_cnt_down=4, acknowledged=True),
            queue_length(0),
            stored_session(conf_f_cnt=None),
        ),
    ),
    Scenario(
        "the next uplink has no ACK: not acknowledged, the item leaves the queue too",
        Stored(
            devices=(device(stored_session=session(conf_f_cnt=4)),),
            queue=(queued(confirmed=True, sent_with_f_cnt=4),),
        ),
        (Uplink(data_up(10)),),
        (
            event(AckEvent, f_cnt_down=4, acknowledged=False),
            queue_length(0),
            stored_session(conf_f_cnt=None),
        ),
    ),
    Scenario(
        "1.1: the ACK signs ConfFCnt into the MIC",
        Stored(
            devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1, conf_f_cnt=4)),),
            queue=(queued(confirmed=True, sent_with_f_cnt=4),),
        ),
        (Uplink(data_up(10, keys=KEYS_1_1, f_ctrl=FCtrl(ack=True), conf_f_cnt=4)),),
        (event(AckEvent, f_cnt_down=4, acknowledged=True), dropped()),
    ),
    Scenario(
        "after a timed-out wait, the next uplink reports nothing more",
        Stored(devices=(device(stored_session=session(conf_f_cnt=4, conf_f_cnt_timed_out=True)),)),
        (Uplink(data_up(10, f_ctrl=FCtrl(ack=True))),),
        (event_kinds("UplinkEvent"), stored_session(conf_f_cnt=None, conf_f_cnt_timed_out=False)),
    ),
    # --- 1.1 rejoin: the new session takes over with its first uplink ------------------------
    Scenario(
        "first uplink under the rejoin's keys: switch, RekeyConf",
        Stored(
            devices=(
                device(
                    profile=PROFILE_1_1,
                    stored_session=session(
                        V1_1,
                        pending_rejoin_session=session(
                            V1_1, keys=NEW_KEYS_1_1, f_cnt_up=0, n_f_cnt_down=0, a_f_cnt_down=0
                        ),
                    ),
                ),
            )
        ),
        (Uplink(data_up(0, keys=NEW_KEYS_1_1, f_opts=REKEY_IND)),),
        (
            event(UplinkEvent, f_cnt=0),
            data_downlink(NEW_KEYS_1_1, f_cnt=0, commands=("RekeyConf",)),
            stored_session(keys=NEW_KEYS_1_1, pending_rejoin_session=None, f_cnt_up=1),
        ),
    ),
    Scenario(
        "the old keys still work until then",
        Stored(
            devices=(
                device(
                    profile=PROFILE_1_1,
                    stored_session=session(
                        V1_1, pending_rejoin_session=session(V1_1, keys=NEW_KEYS_1_1, f_cnt_up=0)
                    ),
                ),
            )
        ),
        (Uplink(data_up(10, keys=KEYS_1_1)),),
        (
            event(UplinkEvent, f_cnt=10),
            stored_check(lambda s: s.keys == KEYS_1_1 and s.pending_rejoin_session is not None),
        ),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_data_uplink(scenario: Scenario, tmp_path: Path) -> None:
    await check(scenario, tmp_path)
