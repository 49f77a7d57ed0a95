"""Bytes to frames: the single entry point for anything received over the air.

``decode_phy_payload`` accepts arbitrary bytes and either returns a frame value or raises
``FrameError`` saying what is wrong; it raises nothing else (checked by property tests).
"""

from __future__ import annotations

import struct
from typing import Final

from appliance.lorawan.errors import FrameError, InvalidValueError
from appliance.lorawan.frames import (
    FCTRL_DOWNLINK,
    FCTRL_UPLINK,
    DataFrame,
    EncryptedJoinAccept,
    Frame,
    JoinRequest,
    Proprietary,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import EUI64, DevAddr, NetID
from appliance.lorawan.mhdr import MType

_DATA_HEADER: Final = struct.Struct("<IBH")
_MIN_DATA_LEN: Final = 12  # MHDR + DevAddr + FCtrl + FCnt + MIC
_JOIN_REQUEST_LEN: Final = 23
_REJOIN_02_LEN: Final = 19
_REJOIN_1_LEN: Final = 24
_MTYPES: Final = tuple(MType(value) for value in range(8))
_DATA_UP: Final = frozenset({int(MType.UNCONFIRMED_DATA_UP), int(MType.CONFIRMED_DATA_UP)})


def _set_raw(
    frame: DataFrame | JoinRequest | RejoinRequest02 | RejoinRequest1, data: bytes
) -> None:
    object.__setattr__(frame, "raw", data)


def _decode_data(data: bytes, mtype: int, major: int) -> DataFrame:
    size = len(data)
    if size < _MIN_DATA_LEN:
        raise FrameError(f"data frame too short: {size} bytes, at least {_MIN_DATA_LEN} needed")
    dev_addr, f_ctrl, f_cnt = _DATA_HEADER.unpack_from(data, 1)
    f_opts_end = 8 + (f_ctrl & 0x0F)
    payload_end = size - 4
    if f_opts_end > payload_end:
        raise FrameError(f"FOptsLen {f_ctrl & 0x0F} runs past the end of the frame ({size} bytes)")
    uplink = mtype in _DATA_UP
    if f_opts_end < payload_end:
        f_port: int | None = data[f_opts_end]
        if f_port == 0 and f_opts_end > 8:
            raise FrameError("FPort 0 with FOpts present: MAC commands may not be in both")
        frm_payload = data[f_opts_end + 1 : payload_end]
    else:
        f_port, frm_payload = None, b""
    # Every check of DataFrame.__post_init__ holds by construction here: the 16-bit FCnt, at
    # most 15 bytes of FOpts, FPort 0 without FOpts (checked above), a 4-byte MIC.
    return DataFrame._decoded(
        _MTYPES[mtype],
        DevAddr._trusted(dev_addr.to_bytes(4, "big")),
        (FCTRL_UPLINK if uplink else FCTRL_DOWNLINK)[f_ctrl >> 4],
        f_cnt,
        data[8:f_opts_end],
        f_port,
        frm_payload,
        data[payload_end:],
        major,
        data,
    )


def _decode_join_request(data: bytes, major: int) -> JoinRequest:
    if len(data) != _JOIN_REQUEST_LEN:
        raise FrameError(f"a join-request is {_JOIN_REQUEST_LEN} bytes, got {len(data)}")
    frame = JoinRequest(
        EUI64.from_wire(data[1:9]),
        EUI64.from_wire(data[9:17]),
        int.from_bytes(data[17:19], "little"),
        data[19:23],
        major,
    )
    _set_raw(frame, data)
    return frame


def _decode_rejoin(data: bytes, major: int) -> RejoinRequest02 | RejoinRequest1:
    if len(data) < 2:
        raise FrameError("rejoin-request too short to hold its type")
    rejoin_type = data[1]
    frame: RejoinRequest02 | RejoinRequest1
    if rejoin_type in (0, 2):
        if len(data) != _REJOIN_02_LEN:
            raise FrameError(
                f"a type {rejoin_type} rejoin-request is {_REJOIN_02_LEN} bytes, got {len(data)}"
            )
        frame = RejoinRequest02(
            rejoin_type,
            NetID.from_wire(data[2:5]),
            EUI64.from_wire(data[5:13]),
            int.from_bytes(data[13:15], "little"),
            data[15:19],
            major,
        )
    elif rejoin_type == 1:
        if len(data) != _REJOIN_1_LEN:
            raise FrameError(f"a type 1 rejoin-request is {_REJOIN_1_LEN} bytes, got {len(data)}")
        frame = RejoinRequest1(
            EUI64.from_wire(data[2:10]),
            EUI64.from_wire(data[10:18]),
            int.from_bytes(data[18:20], "little"),
            data[20:24],
            major,
        )
    else:
        raise FrameError(f"rejoin type {rejoin_type} is not defined (0, 1 or 2)")
    _set_raw(frame, data)
    return frame


def decode_phy_payload(payload: bytes | bytearray | memoryview) -> Frame:
    """Decode a PHYPayload. Raises ``FrameError`` (only) when the bytes are not a valid frame."""
    data = payload if type(payload) is bytes else bytes(payload)
    if not data:
        raise FrameError("empty PHYPayload")
    mhdr = data[0]
    mtype, major = mhdr >> 5, mhdr & 0x03
    if major != 0 and mtype != MType.PROPRIETARY:
        raise FrameError(f"unsupported LoRaWAN major version {major} (only LoRaWAN R1 = 0)")
    try:
        if 2 <= mtype <= 5:
            return _decode_data(data, mtype, major)
        if mtype == MType.JOIN_REQUEST:
            return _decode_join_request(data, major)
        if mtype == MType.JOIN_ACCEPT:
            return EncryptedJoinAccept(data[1:], major)
        if mtype == MType.REJOIN_REQUEST:
            return _decode_rejoin(data, major)
        return Proprietary(data[1:], major)
    except InvalidValueError as exc:
        # A field the decoder sliced out failed its type's check: the frame is at fault.
        raise FrameError(str(exc)) from None
