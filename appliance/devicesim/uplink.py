"""Data uplinks: what goes in FOpts, when MAC commands move to FPort 0, and the signed frame.

LoRaWAN 1.0.4/1.1 section 4.3.1.6: FOpts holds at most 15 bytes of MAC commands; more go
alone as the FRMPayload of an FPort 0 frame. The regional maximum MACPayload (M) bounds the
frame: a frame that cannot carry the application payload with the pending MAC commands sends
the commands first and the application payload in the next uplink.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from appliance.devicesim.session import Session
from appliance.lorawan import security
from appliance.lorawan.frames import MAX_F_OPTS_LEN, FCtrl
from appliance.lorawan.maccommands import MACCommand
from appliance.lorawan.mhdr import MType

FHDR_SIZE: Final = 7  # DevAddr, FCtrl, FCnt; FOpts come on top
MAC_PORT: Final = 0


@dataclass(frozen=True, slots=True)
class UplinkPlan:
    """A data uplink in clear, kept to sign it again for each repetition (same FCnt, same
    content; in LoRaWAN 1.1 the MIC still changes with the data rate and channel)."""

    f_cnt: int
    confirmed: bool
    f_ctrl: FCtrl
    f_opts: bytes = b""
    f_port: int | None = None
    payload: bytes = b""
    conf_f_cnt: int = 0  # 1.1: the acknowledged confirmed downlink's counter (ACK set)
    mac_count: int = 0  # how many of the queued MAC commands it carries

    @property
    def carries_application(self) -> bool:
        return self.f_port is not None and self.f_port != MAC_PORT

    def sign(self, session: Session, *, tx_dr: int, tx_ch: int) -> bytes:
        mtype = MType.CONFIRMED_DATA_UP if self.confirmed else MType.UNCONFIRMED_DATA_UP
        frame = security.build_data_frame(
            mtype,
            session.dev_addr,
            session.keys,
            self.f_cnt,
            f_ctrl=self.f_ctrl,
            f_opts=self.f_opts,
            f_port=self.f_port,
            payload=self.payload,
            conf_f_cnt=self.conf_f_cnt,
            tx_dr=tx_dr,
            tx_ch=tx_ch,
        )
        return frame.encode()


def fits_alone(payload: bytes, max_mac_payload: int) -> bool:
    """Whether an application payload fits the data rate with no MAC command beside it."""
    return FHDR_SIZE + 1 + len(payload) <= max_mac_payload


def _prefix(commands: tuple[MACCommand, ...], room: int) -> tuple[bytes, int]:
    """The leading commands that fit in ``room`` bytes, encoded, and how many they are."""
    carried = b""
    count = 0
    for command in commands:
        encoded = command.to_bytes()
        if len(carried) + len(encoded) > room:
            break
        carried += encoded
        count += 1
    return carried, count


def compose_uplink(
    *,
    f_cnt: int,
    f_ctrl: FCtrl,
    commands: tuple[MACCommand, ...],
    application: tuple[int, bytes] | None,
    confirmed: bool,
    max_mac_payload: int,
    conf_f_cnt: int = 0,
    may_defer: bool = True,
) -> UplinkPlan:
    """Lay out one uplink. ``application`` is (FPort, payload) or None for a MAC-only frame.

    The application payload goes with every queued command in FOpts when they fit. If not
    and ``may_defer``, the frame carries the commands alone (in FOpts, or on FPort 0 as many
    as fit) and the caller sends the payload next; otherwise the payload goes with the leading
    commands that fit in FOpts, the rest waiting for a later uplink, so repeated (sticky)
    answers cannot hold the application back for ever. A payload too long for the data rate
    even alone is not carried.
    """
    f_opts = b"".join(command.to_bytes() for command in commands)
    if application is not None and fits_alone(application[1], max_mac_payload):
        f_port, data = application
        size = FHDR_SIZE + len(f_opts) + 1 + len(data)
        if len(f_opts) <= MAX_F_OPTS_LEN and size <= max_mac_payload:
            return UplinkPlan(
                f_cnt, confirmed, f_ctrl, f_opts, f_port, data, conf_f_cnt, len(commands)
            )
        if not may_defer or not commands:
            room = min(MAX_F_OPTS_LEN, max_mac_payload - FHDR_SIZE - 1 - len(data))
            carried, count = _prefix(commands, room)
            return UplinkPlan(f_cnt, confirmed, f_ctrl, carried, f_port, data, conf_f_cnt, count)
    if len(f_opts) <= MAX_F_OPTS_LEN and FHDR_SIZE + len(f_opts) <= max_mac_payload:
        return UplinkPlan(f_cnt, False, f_ctrl, f_opts, None, b"", conf_f_cnt, len(commands))
    carried, count = _prefix(commands, max_mac_payload - FHDR_SIZE - 1)
    return UplinkPlan(f_cnt, False, f_ctrl, b"", MAC_PORT, carried, conf_f_cnt, count)
