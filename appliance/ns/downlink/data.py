"""Build a Class A data downlink: MAC commands first, then application data if it fits.

- MAC commands of up to 15 bytes ride in FOpts; more go alone as FRMPayload on FPort 0, and
  application data waits for the next opportunity (FPending tells the device there is more).
- Application data is sent when FHDR + FPort + data fit the data rate's maximum MACPayload;
  otherwise it stays queued and FPending is set. An item larger than the maximum even on its
  own can never be sent at this data rate and is reported as such.
- Counters: LoRaWAN 1.0.x uses one downlink counter; 1.1 uses AFCntDown for FPort > 0 and
  NFCntDown otherwise (LoRaWAN 1.1 4.3.1.5). The caller stores the advanced counter durably
  before the frame leaves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from appliance.lorawan import security
from appliance.lorawan.frames import MAX_F_OPTS_LEN, DataFrame, FCtrl
from appliance.lorawan.mhdr import MType
from appliance.ns.session import DeviceSession

_FHDR_WITHOUT_OPTS = 7  # DevAddr, FCtrl, FCnt
_FPORT = 1


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: uuid.UUID
    f_port: int
    data: bytes  # plaintext; encrypted when the frame is built
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class DataDownlink:
    frame: DataFrame
    f_cnt: int  # the 32-bit counter the frame uses
    application_counter: bool  # True: AFCntDown (1.1, FPort > 0); else NFCntDown / FCntDown
    item: QueueItem | None  # the queue item carried, if any
    mac_commands: bytes  # the MAC commands carried (FOpts or FPort 0)


@dataclass(frozen=True, slots=True)
class DownlinkNeed:
    """What the uplink flow wants to send back."""

    mac_commands: bytes = b""  # already chosen and encoded, in priority order
    ack: bool = False  # the uplink was confirmed
    uplink_f_cnt: int = 0  # for the 1.1 ConfFCnt of the ACK
    item: QueueItem | None = None  # the next queue item, if any
    more_queued: bool = False  # items after ``item``
    adr: bool = True


def fits(item: QueueItem, max_mac_payload: int, f_opts_len: int = 0) -> bool:
    return _FHDR_WITHOUT_OPTS + f_opts_len + _FPORT + len(item.data) <= max_mac_payload


def build(
    session: DeviceSession, need: DownlinkNeed, max_mac_payload: int
) -> tuple[DataDownlink | None, bool]:
    """The downlink to send (None if there is nothing to say) and whether ``need.item`` is
    too large for this data rate even alone (the caller drops it with a log event)."""
    mac = need.mac_commands
    item = need.item
    too_large = item is not None and not fits(item, max_mac_payload)
    if too_large:
        item = None
    in_f_opts = len(mac) <= MAX_F_OPTS_LEN
    if mac and not in_f_opts:
        if _FHDR_WITHOUT_OPTS + _FPORT + len(mac) > max_mac_payload:
            mac = b""  # the MAC engine chose more than the data rate carries: send none now
            in_f_opts = True
        else:
            item = None  # FPort 0 is taken by the MAC commands
    if item is not None and not fits(item, max_mac_payload, len(mac) if in_f_opts else 0):
        item = None
    if not mac and not need.ack and item is None:
        return None, too_large
    f_pending = need.more_queued or (need.item is not None and item is None and not too_large)
    if item is not None:
        f_port: int | None = item.f_port
        payload = item.data
        f_opts = mac
    elif mac and not in_f_opts:
        f_port, payload, f_opts = 0, mac, b""
    else:
        f_port, payload, f_opts = None, b"", mac
    application_counter = session.keys.lorawan_1_1 and bool(f_port)
    f_cnt = session.a_f_cnt_down if application_counter else session.n_f_cnt_down
    confirmed = item is not None and item.confirmed
    frame = security.build_data_frame(
        MType.CONFIRMED_DATA_DOWN if confirmed else MType.UNCONFIRMED_DATA_DOWN,
        session.dev_addr,
        session.keys,
        f_cnt,
        f_ctrl=FCtrl(adr=need.adr, ack=need.ack, f_pending=f_pending),
        f_opts=f_opts,
        f_port=f_port,
        payload=payload,
        conf_f_cnt=need.uplink_f_cnt if need.ack else 0,
    )
    return DataDownlink(frame, f_cnt, application_counter, item, mac), too_large


def advance_counters(session: DeviceSession, sent: DataDownlink) -> None:
    """Move the used counter on and remember a confirmed downlink awaiting its ACK."""
    if sent.application_counter:
        session.a_f_cnt_down = sent.f_cnt + 1
    else:
        session.n_f_cnt_down = sent.f_cnt + 1
    if sent.frame.confirmed:
        session.conf_f_cnt = sent.f_cnt
        session.conf_f_cnt_timed_out = False
