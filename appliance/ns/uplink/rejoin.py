"""LoRaWAN 1.1 rejoin-requests of types 0 and 2 (LoRaWAN 1.1 section 6.2.4).

A joined 1.1 device sends one (on its own schedule or after ForceRejoinReq) to get fresh
session keys: type 0 also resets its radio settings to the network's defaults, type 2 keeps
them. The request is signed with the current session's SNwkSIntKey and counted by RJcount0,
which must increase. The answer is a join-accept encrypted with JSEncKey and signed with
JSIntKey over JoinReqType (the rejoin type), JoinEUI and RJcount0 (standing in for DevNonce).

The new session does not replace the current one yet: the device may miss the accept. It is
kept as the session's ``pending_rejoin_session`` (same DevAddr, so it is found the same way)
and takes over with the first uplink that verifies under it; the device then sends RekeyInd.
Type 1 (a device that lost its session) is not handled yet.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from appliance.lorawan import security
from appliance.lorawan.frames import RejoinRequest02
from appliance.lorawan.join_accept import DLSettings
from appliance.lorawan.join_accept import JoinAccept as JoinAcceptValue
from appliance.ns.device import Device
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile
from appliance.ns.session import DeviceSession
from appliance.ns.uplink.join import Accepted, Rejected, cf_list_and_channels


class RejoinRejection(StrEnum):
    NO_SESSION = "rejoin_without_session"
    NOT_1_1 = "rejoin_not_lorawan_1_1"
    MIC_FAILED = "rejoin_mic_failed"
    WRONG_NET_ID = "rejoin_wrong_net_id"
    RJ_COUNT_REPLAY = "rejoin_count_not_increasing"


def check_rejoin(
    request: RejoinRequest02, device: Device, settings: NetworkSettings
) -> Rejected | RejoinRejection | None:
    """What refuses a rejoin-request (a ``Rejected`` of the join rules, or a rejoin reason)."""
    session = device.session
    if session is None:
        return RejoinRejection.NO_SESSION
    if not session.keys.lorawan_1_1 or device.root_keys is None or device.root_keys.nwk_key is None:
        return RejoinRejection.NOT_1_1
    if not security.verify_rejoin_request(request, session.keys.s_nwk_s_int_key):
        return RejoinRejection.MIC_FAILED
    if request.net_id != settings.net_id:
        return RejoinRejection.WRONG_NET_ID
    # The session keeps the next RJcount0 it will accept, so 0 is fine for the first one.
    if request.rj_count0 < session.rejoin_count_0:
        return RejoinRejection.RJ_COUNT_REPLAY
    return None


def accept_rejoin(
    request: RejoinRequest02,
    *,
    device: Device,
    profile: DeviceProfile,
    settings: NetworkSettings,
    join_nonce: int,
) -> Accepted:
    """The rejoin-accept and the updated current session (holding the pending new one)."""
    current = device.session
    assert current is not None and device.root_keys is not None
    nwk_key = device.root_keys.nwk_key
    assert nwk_key is not None, "check_rejoin refuses devices without NwkKey"
    keys = security.derive_session_keys_1_1(
        nwk_key,
        device.root_keys.app_key,
        join_nonce=join_nonce,
        join_eui=device.join_eui,
        dev_nonce=request.rj_count0,
    )
    # Both types start new counters and forget what the old keys were in the middle of.
    new = replace(
        current,
        keys=keys,
        f_cnt_up=0,
        n_f_cnt_down=0,
        a_f_cnt_down=0,
        conf_f_cnt=None,
        uplink_history=[],
        pending_mac_requests={},
        pending_rejoin_session=None,
        rejoin_count_0=request.rj_count0 + 1,
    )
    cf_list = None
    if request.rejoin_type == 0:
        cf_list, enabled, extras = cf_list_and_channels(
            settings.region, settings, profile.mac_version
        )
        new = replace(
            new,
            rx1_delay_s=settings.rx1_delay_s,
            rx1_dr_offset=settings.rx1_dr_offset,
            rx2_dr=settings.effective_rx2_dr,
            rx2_frequency=settings.effective_rx2_frequency,
            enabled_uplink_channels=enabled,
            extra_uplink_channels=extras,
            tx_power_index=0,
            nb_trans=1,
        )
    accept_value = JoinAcceptValue(
        join_nonce=join_nonce,
        home_net_id=settings.net_id,
        dev_addr=current.dev_addr,
        dl_settings=DLSettings(new.rx1_dr_offset, new.rx2_dr, opt_neg=True),
        rx_delay=new.rx1_delay_s,
        cf_list=cf_list,
    )
    phy_payload = security.seal_join_accept(
        accept_value,
        mic_key=security.derive_js_int_key(nwk_key, request.dev_eui),
        encryption_key=security.derive_js_enc_key(nwk_key, request.dev_eui),
        join_req_type=request.rejoin_type,
        join_eui=device.join_eui,
        dev_nonce=request.rj_count0,
    )
    # Both sessions remember the next RJcount0 they accept, so a replay is refused whichever
    # of them is current when it arrives.
    updated: DeviceSession = replace(
        current, rejoin_count_0=request.rj_count0 + 1, pending_rejoin_session=new
    )
    return Accepted(phy_payload, updated, join_nonce, request.rj_count0)
