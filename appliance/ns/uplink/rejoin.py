"""LoRaWAN 1.1 rejoin-requests of types 0, 1 and 2 (LoRaWAN 1.1 section 6.2.4).

A joined 1.1 device sends one to get fresh session keys: type 0 (on its own schedule or after
ForceRejoinReq) also resets its radio settings to the network's defaults, type 2 keeps them;
both are signed with the current session's SNwkSIntKey and counted by RJcount0, which starts
again at 0 with every session and must increase. Type 1 restores a session the device lost
(a context the device and the network no longer share): it names JoinEUI and DevEUI, is
signed by the join server's JSIntKey and counted by RJcount1, which never restarts and must
increase over the device's whole life; it resets the radio settings like type 0. The answer
is a join-accept encrypted with JSEncKey and signed with JSIntKey over JoinReqType (the
rejoin type), JoinEUI and the request's RJcount (standing in for DevNonce).

The new session does not replace the current one yet: the device may miss the accept. It is
kept as the session's ``pending_rejoin_session`` (same DevAddr, so it is found the same way)
and takes over with the first uplink that verifies under it; the device then sends RekeyInd.
A device the network has no session for cannot rejoin: it must join.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from appliance.lorawan import security
from appliance.lorawan.frames import RejoinRequest02, RejoinRequest1
from appliance.lorawan.join_accept import DLSettings
from appliance.lorawan.join_accept import JoinAccept as JoinAcceptValue
from appliance.ns.device import Device
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile
from appliance.ns.session import (
    DEFAULT_ADR_ACK_DELAY_EXP,
    DEFAULT_ADR_ACK_LIMIT_EXP,
    DeviceSession,
    UplinkHistory,
)
from appliance.ns.uplink.join import Accepted, cf_list_and_channels


class RejoinRejection(StrEnum):
    NO_SESSION = "rejoin_without_session"
    NOT_1_1 = "rejoin_not_lorawan_1_1"
    MIC_FAILED = "rejoin_mic_failed"
    WRONG_NET_ID = "rejoin_wrong_net_id"
    RJ_COUNT_REPLAY = "rejoin_count_not_increasing"
    WRONG_JOIN_EUI = "rejoin_wrong_join_eui"


def check_rejoin(
    request: RejoinRequest02, device: Device, settings: NetworkSettings
) -> RejoinRejection | None:
    """What refuses a type 0 or 2 rejoin-request."""
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


def check_rejoin_1(
    request: RejoinRequest1, device: Device, profile: DeviceProfile
) -> RejoinRejection | None:
    """What refuses a type 1 rejoin-request."""
    session = device.session
    if session is None:
        return RejoinRejection.NO_SESSION
    nwk_key = None if device.root_keys is None else device.root_keys.nwk_key
    if not profile.mac_version.is_1_1 or nwk_key is None:
        return RejoinRejection.NOT_1_1
    if request.join_eui != device.join_eui:
        return RejoinRejection.WRONG_JOIN_EUI
    if not security.verify_rejoin_request(
        request, security.derive_js_int_key(nwk_key, device.dev_eui)
    ):
        return RejoinRejection.MIC_FAILED
    if request.rj_count1 < session.rejoin_count_1:
        return RejoinRejection.RJ_COUNT_REPLAY
    return None


def accept_rejoin(
    request: RejoinRequest02 | RejoinRequest1,
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
    rj_count = request.rj_count1 if isinstance(request, RejoinRequest1) else request.rj_count0
    rejoin_count_1 = current.rejoin_count_1
    if isinstance(request, RejoinRequest1):
        rejoin_count_1 = request.rj_count1 + 1
    keys = security.derive_session_keys_1_1(
        nwk_key,
        device.root_keys.app_key,
        join_nonce=join_nonce,
        join_eui=device.join_eui,
        dev_nonce=rj_count,
    )
    # Every type starts new counters (RJcount0 too: the device restarts it with each
    # join-accept) and forgets what the old keys were in the middle of.
    new = replace(
        current,
        keys=keys,
        f_cnt_up=0,
        n_f_cnt_down=0,
        a_f_cnt_down=0,
        conf_f_cnt=None,
        uplink_history=UplinkHistory(),
        pending_mac_requests={},
        mac_command_error_count={},
        pending_rejoin_session=None,
        rejoin_count_0=0,
        rejoin_count_1=rejoin_count_1,
        extra_uplink_channels=dict(current.extra_uplink_channels),
        rx1_frequencies=dict(current.rx1_frequencies),
    )
    cf_list = None
    if request.rejoin_type in (0, 1):
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
            max_duty_cycle=0,
            rx1_frequencies={},
            adr_ack_limit_exp=DEFAULT_ADR_ACK_LIMIT_EXP,
            adr_ack_delay_exp=DEFAULT_ADR_ACK_DELAY_EXP,
            beacon_frequency=0,
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
        dev_nonce=rj_count,
    )
    # The current session refuses a replay of this request (a type 0/2 replay under the new
    # session fails its MIC, the keys having changed); RJcount1 moves on in both.
    updated: DeviceSession = replace(current, pending_rejoin_session=new)
    if isinstance(request, RejoinRequest1):
        updated.rejoin_count_1 = rejoin_count_1
    else:
        updated.rejoin_count_0 = request.rj_count0 + 1
    return Accepted(phy_payload, updated, join_nonce, rj_count)
