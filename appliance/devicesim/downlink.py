"""Checking a data downlink against the session, then opening it (LoRaWAN 1.0.4/1.1 4.3, 4.4).

The steps run in the order a device must take them: the address, the frame counter rebuilt
from its 16 bits (NFCntDown for FPort 0 or no FPort and AFCntDown otherwise in 1.1, the one
FCntDown in 1.0.x), the MIC (1.1: with ConfFCnt when the frame acknowledges an uplink), replay,
then decryption. Each failure raises ``DownlinkRefused`` saying which check failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.devicesim.results import ApplicationPayload, DownlinkRefused, Refusal
from appliance.devicesim.session import Session
from appliance.lorawan import security
from appliance.lorawan.fcnt import MAX_F_CNT, reconstruct_f_cnt
from appliance.lorawan.frames import DataFrame


@dataclass(frozen=True, slots=True)
class OpenedDownlink:
    frame: DataFrame
    f_cnt: int
    application_counter: bool  # counted on AFCntDown (1.1 with FPort > 0)
    mac_commands: bytes  # FOpts, or the FRMPayload of an FPort 0 frame, in clear
    payload: ApplicationPayload | None


def open_data_downlink(
    frame: DataFrame, session: Session, *, acknowledged_f_cnt: int | None
) -> OpenedDownlink:
    """``acknowledged_f_cnt``: FCntUp of the confirmed uplink an ACK would acknowledge."""
    if frame.uplink:
        raise DownlinkRefused(Refusal.NOT_FOR_DEVICE, "an uplink frame, not a downlink")
    if frame.dev_addr != session.dev_addr:
        raise DownlinkRefused(
            Refusal.DEV_ADDR_MISMATCH, f"DevAddr {frame.dev_addr} is not {session.dev_addr}"
        )
    application_counter = session.lorawan_1_1 and bool(frame.f_port)
    expected = session.a_f_cnt_down if application_counter else session.n_f_cnt_down
    f_cnt = reconstruct_f_cnt(frame.f_cnt, expected)
    if f_cnt > MAX_F_CNT:
        raise DownlinkRefused(Refusal.F_CNT_REPLAY, "the downlink frame counter is exhausted")
    conf_f_cnt = acknowledged_f_cnt if acknowledged_f_cnt is not None else 0
    if not security.verify_data_mic(frame, session.keys, f_cnt, conf_f_cnt=conf_f_cnt):
        raise DownlinkRefused(Refusal.MIC_MISMATCH, f"MIC does not verify with FCnt {f_cnt}")
    if f_cnt < expected:
        raise DownlinkRefused(
            Refusal.F_CNT_REPLAY, f"FCnt {f_cnt} was already received (next is {expected})"
        )
    f_opts = security.decrypt_f_opts(frame, session.keys, f_cnt)
    payload = None
    if frame.f_port == 0:
        f_opts = security.decrypt_frm_payload(frame, session.keys, f_cnt)
    elif frame.f_port is not None:
        data = security.decrypt_frm_payload(frame, session.keys, f_cnt)
        payload = ApplicationPayload(frame.f_port, data)
    return OpenedDownlink(frame, f_cnt, application_counter, f_opts, payload)
