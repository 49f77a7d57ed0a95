"""Class A scenario table, activation: OTAA joins of every version (DevNonce rules,
JoinNonce, DevAddr, DLSettings, RxDelay, CFList, join-accept windows) and LoRaWAN 1.1
rejoin-requests of types 0, 1 and 2 (what refuses them, the accept, the pending session)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.lorawan import security
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, AESKey, NetID
from appliance.lorawan.join_accept import CFListChannelMask, CFListFrequencies, DLSettings
from appliance.lorawan.maccommands import ForceRejoinReq
from appliance.ns.events import JoinEvent
from appliance.ns.profile import MACVersion
from appliance.ns.session import PendingMACRequest
from hal.model import LoRaModulation, UplinkTxInfo
from tests.ns.class_a import (
    APP_KEY,
    DEV1,
    EXTRA,
    KEYS_1_1,
    MS,
    NWK_KEY,
    PROFILE_1_0,
    PROFILE_1_0_4,
    PROFILE_1_1,
    SETTINGS,
    Assertion,
    Result,
    Scenario,
    Stored,
    Uplink,
    check,
    device,
    downlink_windows,
    dropped,
    event,
    event_kinds,
    join_accept,
    join_request,
    log_codes,
    metric,
    no_downlink,
    open_accept,
    queue_length,
    queued,
    rejoin_request,
    session,
    stored_check,
    stored_session,
)

V1_1 = MACVersion.LORAWAN_1_1_0
JS_ENC_KEY = security.derive_js_enc_key(NWK_KEY, DEV1)
ACCEPT_WINDOWS = (("rx1", 868_100_000, 5, 5.0), ("rx2", 869_525_000, 0, 6.0))
NEW_DEVICE = Stored(devices=(device(),))
DEVICE_1_0_4 = Stored(devices=(device(profile=PROFILE_1_0_4),), dev_nonces=((DEV1, 10),))
DEVICE_1_1 = Stored(devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1)),))
FORCE_REJOIN = PendingMACRequest(ForceRejoinReq.CID, (ForceRejoinReq(0, 0, 2, 5).to_bytes(),), 4)
NO_OTAA = replace(PROFILE_1_0, supports_otaa=False, id=uuid.UUID(int=1))
US915 = replace(SETTINGS, region_name="US915", extra_channels=(), enabled_sub_band=2)


def _join_nonce(expected: list[int]) -> Assertion:
    async def check_(result: Result) -> None:
        nonces = [open_accept(result, APP_KEY, i).join_nonce for i in range(len(result.frames))]
        assert nonces == expected, nonces

    return check_


SCENARIOS = [
    # --- joins -------------------------------------------------------------------------------
    Scenario(
        "1.0.3 join: accept in RX1 (5 s) then RX2 (6 s), DevAddr from the NetID, CFList",
        NEW_DEVICE,
        (Uplink(join_request(77)),),
        (
            event_kinds("JoinEvent"),
            downlink_windows(*ACCEPT_WINDOWS),
            join_accept(
                APP_KEY,
                nonce=77,
                join_nonce=0,
                dl_settings=DLSettings(0, 0),
                rx_delay=1,
                cf_list=CFListFrequencies(EXTRA),
            ),
            stored_check(lambda s: s.f_cnt_up == 0 and s.n_f_cnt_down == 0 and s.dr == 5),
            stored_check(lambda s: sorted(s.extra_uplink_channels) == [3, 4, 5, 6, 7]),
            metric("joins", 1),
        ),
    ),
    Scenario(
        "DLSettings and RxDelay come from the network settings",
        replace(NEW_DEVICE, settings=replace(SETTINGS, rx1_dr_offset=1, rx2_dr=3, rx1_delay_s=2)),
        (Uplink(join_request(1)),),
        (
            join_accept(APP_KEY, nonce=1, dl_settings=DLSettings(1, 3), rx_delay=2),
            stored_session(rx1_dr_offset=1, rx2_dr=3, rx1_delay_s=2),
        ),
    ),
    Scenario(
        "DevAddr from the configured block of the NetID's range",
        replace(NEW_DEVICE, settings=replace(SETTINGS, dev_addr_prefix="26011b00/24")),
        (Uplink(join_request(1)),),
        (stored_check(lambda s: str(s.dev_addr).startswith("26011b")),),
    ),
    Scenario(
        "1.0.3: a DevNonce used before is refused",
        replace(NEW_DEVICE, dev_nonces=((DEV1, 77),)),
        (Uplink(join_request(77)),),
        (no_downlink(), dropped(dev_nonce_reused=1), log_codes("dev_nonce_reused")),
    ),
    Scenario(
        "1.0.3: random DevNonces may go down",
        replace(NEW_DEVICE, dev_nonces=((DEV1, 77),)),
        (Uplink(join_request(5)),),
        (event_kinds("JoinEvent"), dropped()),
    ),
    Scenario(
        "1.0.4: the DevNonce must be above the last one",
        DEVICE_1_0_4,
        (Uplink(join_request(10)), Uplink(join_request(9))),
        (no_downlink(), dropped(dev_nonce_not_increasing=2)),
    ),
    Scenario(
        "1.0.4: the next DevNonce is accepted",
        DEVICE_1_0_4,
        (Uplink(join_request(11)),),
        (event_kinds("JoinEvent"),),
    ),
    Scenario(
        "JoinNonce grows with every accept",
        NEW_DEVICE,
        (Uplink(join_request(1)), Uplink(join_request(2))),
        (_join_nonce([0, 1]),),
    ),
    Scenario(
        "1.1 join: OptNeg, NwkKey encrypts, JSIntKey signs, 1.1 session keys",
        Stored(devices=(device(profile=PROFILE_1_1),)),
        (Uplink(join_request(0, key=NWK_KEY)),),
        (
            join_accept(NWK_KEY, nonce=0, lorawan_1_1=True),
            stored_check(lambda s: s.keys.lorawan_1_1 and s.mac_version is V1_1),
        ),
    ),
    Scenario(
        "a join replaces the session: new counters, sent confirmed items forgotten",
        Stored(
            devices=(device(stored_session=session(f_cnt_up=500)),),
            queue=(queued(confirmed=True, sent_with_f_cnt=4), queued()),
        ),
        (Uplink(join_request(3)),),
        (stored_session(f_cnt_up=0, n_f_cnt_down=0, conf_f_cnt=None), queue_length(1)),
    ),
    Scenario(
        "join-accept RX1 out of reach: RX2 only",
        NEW_DEVICE,
        (Uplink(join_request(1), after_ns=4_980 * MS),),
        (downlink_windows(("rx2", 869_525_000, 0, 6.0)),),
    ),
    Scenario(
        "US915: the sub-band's channel mask in the CFList, RX1 at 500 kHz",
        replace(NEW_DEVICE, settings=US915),
        (Uplink(join_request(1), tx=UplinkTxInfo(903_900_000, LoRaModulation(125_000, 10))),),
        (
            join_accept(APP_KEY, nonce=1, cf_list=CFListChannelMask((0xFF00, 0, 0, 0, 0x0002))),
            downlink_windows(
                ("rx1", 923_300_000, 10, 5.0), ("rx2", 923_300_000, 8, 6.0), region="US915"
            ),
            stored_session(enabled_uplink_channels=(*range(8, 16), 65)),
        ),
    ),
    Scenario(
        "wrong MIC: refused and logged (a wrong AppKey somewhere)",
        NEW_DEVICE,
        (Uplink(join_request(1, key=AESKey(9))),),
        (no_downlink(), dropped(join_mic_failed=1), log_codes("join_mic_failed")),
    ),
    Scenario(
        "unknown DevEUI: only counted",
        NEW_DEVICE,
        (Uplink(join_request(1, dev_eui=EUI64(99))),),
        (no_downlink(), dropped(unknown_dev_eui=1), log_codes()),
    ),
    Scenario(
        "JoinEUI not the device's: only counted",
        NEW_DEVICE,
        (Uplink(join_request(1, join_eui=EUI64(98))),),
        (no_downlink(), dropped(unknown_dev_eui=1), log_codes()),
    ),
    Scenario(
        "disabled device",
        Stored(devices=(device(enabled=False),)),
        (Uplink(join_request(1)),),
        (no_downlink(), dropped(device_disabled=1), log_codes("device_disabled")),
    ),
    Scenario(
        "a profile without OTAA",
        Stored(devices=(device(profile=NO_OTAA),), profiles=(NO_OTAA,)),
        (Uplink(join_request(1)),),
        (no_downlink(), dropped(otaa_not_supported=1), log_codes("otaa_not_supported")),
    ),
    Scenario(
        "a device whose profile is gone",
        Stored(devices=(device(profile=NO_OTAA),)),
        (Uplink(join_request(1)),),
        (no_downlink(), dropped(device_profile_missing=1)),
    ),
    Scenario(
        "a 1.1 device without NwkKey cannot join",
        Stored(devices=(device(profile=PROFILE_1_1, root_keys=None),)),
        (Uplink(join_request(1, key=NWK_KEY)),),
        (no_downlink(), dropped(no_root_keys=1)),
    ),
    # --- rejoins -----------------------------------------------------------------------------
    Scenario(
        "type 0: accepted with the session's RX settings, a pending session with the defaults",
        Stored(
            devices=(
                device(
                    profile=PROFILE_1_1,
                    stored_session=session(
                        V1_1, tx_power_index=3, rx1_frequencies={0: 869_100_000}
                    ),
                ),
            )
        ),
        (Uplink(rejoin_request(0, 0)),),
        (
            downlink_windows(*ACCEPT_WINDOWS),
            join_accept(JS_ENC_KEY, nonce=0, join_req_type=0, lorawan_1_1=True),
            stored_check(
                lambda s: (
                    s.pending_rejoin_session is not None
                    and s.pending_rejoin_session.tx_power_index == 0
                    and s.pending_rejoin_session.rx1_frequencies == {}
                    and s.pending_rejoin_session.f_cnt_up == 0
                    and s.pending_rejoin_session.rejoin_count_0 == 0
                    and s.rejoin_count_0 == 1
                    and s.keys == KEYS_1_1
                )
            ),
            metric("rejoins", 1),
            event_kinds(),
        ),
    ),
    Scenario(
        "type 2: accepted, the radio settings are kept, no CFList",
        Stored(
            devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1, tx_power_index=3)),)
        ),
        (Uplink(rejoin_request(2, 0)),),
        (
            join_accept(JS_ENC_KEY, nonce=0, join_req_type=2, lorawan_1_1=True, cf_list=None),
            stored_check(
                lambda s: (
                    s.pending_rejoin_session is not None
                    and s.pending_rejoin_session.tx_power_index == 3
                )
            ),
        ),
    ),
    Scenario(
        "type 1: JSIntKey, RJcount1; the counter moves on in both sessions",
        Stored(
            devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1, rejoin_count_1=4)),)
        ),
        (Uplink(rejoin_request(1, 4)),),
        (
            join_accept(JS_ENC_KEY, nonce=4, join_req_type=1, lorawan_1_1=True),
            stored_check(
                lambda s: (
                    s.rejoin_count_1 == 5
                    and s.pending_rejoin_session is not None
                    and s.pending_rejoin_session.rejoin_count_1 == 5
                    and s.pending_rejoin_session.keys
                    == security.derive_session_keys_1_1(
                        NWK_KEY, APP_KEY, join_nonce=0, join_eui=device().join_eui, dev_nonce=4
                    )
                )
            ),
        ),
    ),
    Scenario(
        "type 1 replay: RJcount1 not above the last",
        Stored(
            devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1, rejoin_count_1=5)),)
        ),
        (Uplink(rejoin_request(1, 4)),),
        (
            no_downlink(),
            dropped(rejoin_count_not_increasing=1),
            log_codes("rejoin_count_not_increasing"),
        ),
    ),
    Scenario(
        "type 1 with a wrong MIC",
        DEVICE_1_1,
        (Uplink(rejoin_request(1, 0, key=AESKey(9))),),
        (no_downlink(), dropped(rejoin_mic_failed=1), log_codes("rejoin_mic_failed")),
    ),
    Scenario(
        "type 1 naming another JoinEUI",
        DEVICE_1_1,
        (Uplink(rejoin_request(1, 0, join_eui=EUI64(98))),),
        (no_downlink(), dropped(rejoin_wrong_join_eui=1), log_codes("rejoin_wrong_join_eui")),
    ),
    Scenario(
        "a rejoin-request of an unknown device",
        DEVICE_1_1,
        (Uplink(rejoin_request(2, 0, dev_eui=EUI64(99))),),
        (no_downlink(), dropped(unknown_dev_eui=1), log_codes()),
    ),
    Scenario(
        "type 0 replay: RJcount0 not above the last",
        Stored(
            devices=(device(profile=PROFILE_1_1, stored_session=session(V1_1, rejoin_count_0=3)),)
        ),
        (Uplink(rejoin_request(0, 2)),),
        (no_downlink(), dropped(rejoin_count_not_increasing=1)),
    ),
    Scenario(
        "type 2 from another network",
        DEVICE_1_1,
        (Uplink(rejoin_request(2, 0, net_id=NetID("000001"))),),
        (no_downlink(), dropped(rejoin_wrong_net_id=1), log_codes("rejoin_wrong_net_id")),
    ),
    Scenario(
        "type 0 with a wrong MIC",
        DEVICE_1_1,
        (Uplink(rejoin_request(0, 0, key=AESKey(9))),),
        (no_downlink(), dropped(rejoin_mic_failed=1), log_codes("rejoin_mic_failed")),
    ),
    Scenario(
        "a 1.0 session cannot rejoin",
        Stored(devices=(device(stored_session=session()),)),
        (Uplink(rejoin_request(0, 0)),),
        (no_downlink(), dropped(rejoin_not_lorawan_1_1=1)),
    ),
    Scenario(
        "no session, no rejoin: the device must join",
        Stored(devices=(device(profile=PROFILE_1_1),)),
        (Uplink(rejoin_request(1, 0)),),
        (no_downlink(), dropped(rejoin_without_session=1)),
    ),
    Scenario(
        "the rejoin answers a pending ForceRejoinReq",
        Stored(
            devices=(
                device(
                    profile=PROFILE_1_1,
                    stored_session=session(
                        V1_1,
                        pending_mac_requests={ForceRejoinReq.CID: FORCE_REJOIN},
                        mac_command_error_count={ForceRejoinReq.CID: 1},
                    ),
                ),
            )
        ),
        (Uplink(rejoin_request(2, 0)),),
        (
            stored_session(pending_mac_requests={}, mac_command_error_count={}),
            metric("rejoins", 1),
        ),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_activation(scenario: Scenario, tmp_path: Path) -> None:
    await check(scenario, tmp_path)


async def test_a_join_event_names_the_device_and_its_address(tmp_path: Path) -> None:
    scenario = Scenario(
        "join event", NEW_DEVICE, (Uplink(join_request(1)),), (event(JoinEvent, dev_eui=DEV1),)
    )
    await check(scenario, tmp_path)


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("26011b00", "ADDR/BITS"),
        ("zz/24", "ADDR/BITS"),
        ("26011b00/4", "block of NetID"),
        ("01000000/8", "not inside"),
        ("26011b01/24", "not inside"),
    ],
)
def test_a_dev_addr_prefix_outside_the_net_id_is_refused(prefix: str, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        replace(SETTINGS, dev_addr_prefix=prefix)


def test_the_dev_addr_block_of_the_net_id() -> None:
    assert SETTINGS.dev_addr_block() == (0x26000000, 7)  # NetID 000013: type 0, NwkID 0x13
    assert replace(SETTINGS, dev_addr_prefix="26011b00/24").dev_addr_block() == (0x26011B00, 24)
