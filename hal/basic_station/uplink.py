"""Uplink messages: ``updf``/``jreq``/``rejoin``/``propdf`` to PHYPayload bytes and UplinkFrames.

Station splits a received frame into JSON fields (src/lora.c ``s2e_parse_lora_frame``): DevAddr
and MIC as signed int32 of the little-endian wire words, EUIs MSB first as dashed hex, FOpts and
FRMPayload as upper-case hex, FPort -1 when the frame has none; a proprietary frame (and a
join-accept heard in device mode) is the whole frame in ``FRMPayload``. Station forwards a
rejoin-request only when it has the 23-byte join-request layout, and names its fields the same
way. ``phy_payload_from_message`` undoes the split exactly; ``message_from_phy_payload`` does it,
as Station would (used by the station emulator and the tests).

Every uplink carries ``DR``, ``Freq`` and ``upinfo`` {rctx, xtime, gpstime, fts, rssi, snr,
rxtime}. The downlink answering a Class A uplink needs its ``xtime`` and ``rctx`` back, so both
travel in ``UplinkRxInfo.context`` (``UplinkContext``).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from appliance.lorawan.errors import FrameError, InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.basic_station.datarates import StationDataRates
from hal.basic_station.errors import StationMessageError
from hal.basic_station.eui import parse_eui
from hal.basic_station.fields import bad, get_hex, get_int, get_number, get_optional_int
from hal.basic_station.timing import NS_PER_S, NS_PER_US, fine_timestamp_ns
from hal.model import UplinkFrame, UplinkRxInfo, UplinkTxInfo

UPLINK_MESSAGE_TYPES: Final = frozenset({"updf", "jreq", "rejoin", "propdf"})
MAX_PHY_PAYLOAD: Final = 255
INT32_RANGE: Final = (-(1 << 31), (1 << 32) - 1)  # Station sends signed; accept unsigned too
INT64_MAX: Final = (1 << 63) - 1
_WORD: Final = struct.Struct("<I")
_CONTEXT: Final = struct.Struct(">qq")
_DATA_HEADER: Final = struct.Struct("<BIBH")
_JOIN: Final = struct.Struct("<B8s8sHI")

# Station checks the MHDR type before choosing the message type; a mismatch means the JSON was
# not made from a real frame, and rebuilding it would give bytes no device sent.
_MTYPES: Final = {"updf": (2, 4), "jreq": (0,), "rejoin": (6,), "propdf": (7,)}


@dataclass(frozen=True, slots=True)
class UplinkContext:
    """What a Class A downlink must give back to Station: the uplink's rctx and xtime."""

    rctx: int
    xtime: int

    def to_bytes(self) -> bytes:
        return _CONTEXT.pack(self.rctx, self.xtime)

    @classmethod
    def from_bytes(cls, context: bytes) -> UplinkContext | None:
        """The context of an uplink from this backend, or None for anything else."""
        if len(context) != _CONTEXT.size:
            return None
        rctx, xtime = _CONTEXT.unpack(context)
        return cls(rctx, xtime)


def _mhdr(message: Mapping[str, Any], msgtype: str) -> int:
    mhdr = get_int(message, "MHdr", 0, 255)
    if mhdr >> 5 not in _MTYPES[msgtype]:
        raise bad("MHdr", f"MType {mhdr >> 5} is not a {msgtype} frame")
    return mhdr


def _word(message: Mapping[str, Any], key: str) -> int:
    return get_int(message, key, *INT32_RANGE) & 0xFFFF_FFFF


def _eui(message: Mapping[str, Any], key: str, other_spelling: str) -> EUI64:
    value = message.get(key, message.get(other_spelling))
    if value is None:
        raise StationMessageError(f"missing_field:{key}")
    try:
        return parse_eui(value)
    except InvalidValueError as exc:
        raise bad(key, str(exc)) from None


def _data_frame(message: Mapping[str, Any]) -> bytes:
    mhdr = _mhdr(message, "updf")
    dev_addr = _word(message, "DevAddr")
    f_ctrl = get_int(message, "FCtrl", 0, 255)
    f_cnt = get_int(message, "FCnt", 0, 0xFFFF)
    f_opts = get_hex(message, "FOpts", 15)
    if len(f_opts) != f_ctrl & 0x0F:
        raise bad("FOpts", f"{len(f_opts)} bytes but FOptsLen is {f_ctrl & 0x0F}")
    f_port = get_int(message, "FPort", -1, 255)
    frm_payload = get_hex(message, "FRMPayload", MAX_PHY_PAYLOAD)
    if f_port < 0 and frm_payload:
        raise bad("FRMPayload", "a payload needs an FPort")
    mic = _word(message, "MIC")
    port = b"" if f_port < 0 else bytes((f_port,))
    frame = b"".join(
        (
            _DATA_HEADER.pack(mhdr, dev_addr, f_ctrl, f_cnt),
            f_opts,
            port,
            frm_payload,
            _WORD.pack(mic),
        )
    )
    if len(frame) > MAX_PHY_PAYLOAD:
        raise bad("FRMPayload", f"frame of {len(frame)} bytes")
    return frame


def _join_frame(message: Mapping[str, Any], msgtype: str) -> bytes:
    mhdr = _mhdr(message, msgtype)
    join_eui = _eui(message, "JoinEui", "JoinEUI")
    dev_eui = _eui(message, "DevEui", "DevEUI")
    dev_nonce = get_int(message, "DevNonce", 0, 0xFFFF)
    mic = _word(message, "MIC")
    return _JOIN.pack(mhdr, join_eui.to_wire(), dev_eui.to_wire(), dev_nonce, mic)


def _proprietary_frame(message: Mapping[str, Any]) -> bytes:
    frame = get_hex(message, "FRMPayload", MAX_PHY_PAYLOAD)
    if not frame or frame[0] >> 5 != 7:
        raise bad("FRMPayload", "a proprietary frame starts with MType 7")
    return frame


def phy_payload_from_message(message: Mapping[str, Any]) -> bytes:
    """The exact PHYPayload of an uplink message; ``StationMessageError`` when it has none."""
    msgtype = message.get("msgtype")
    if msgtype == "updf":
        return _data_frame(message)
    if msgtype in ("jreq", "rejoin"):
        return _join_frame(message, msgtype)
    if msgtype == "propdf":
        return _proprietary_frame(message)
    raise StationMessageError("unknown_msgtype")


def message_from_phy_payload(frame: bytes) -> dict[str, Any]:
    """The JSON fields Station makes of a received frame (no radio metadata).

    Raises ``FrameError`` for frames Station drops as "Not a LoRaWAN frame".
    """
    if not frame:
        raise FrameError("empty frame")
    mhdr = frame[0]
    mtype = mhdr >> 5
    if (len(frame) < 12 and mtype != 7) or mhdr & 0x1F:
        raise FrameError("Station drops frames shorter than 12 bytes or not LoRaWAN R1")
    if mtype in (7, 1):
        return {"msgtype": "propdf" if mtype == 7 else "jacc", "FRMPayload": frame.hex().upper()}
    if mtype in (0, 6):
        if len(frame) != _JOIN.size:
            raise FrameError(f"Station forwards only {_JOIN.size}-byte join/rejoin frames")
        _, join_eui, dev_eui, dev_nonce, mic = _JOIN.unpack(frame)
        mic = _signed(mic)
        return {
            "msgtype": "jreq" if mtype == 0 else "rejoin",
            "MHdr": mhdr,
            "JoinEui": EUI64.from_wire(join_eui).dashed(),
            "DevEui": EUI64.from_wire(dev_eui).dashed(),
            "DevNonce": dev_nonce,
            "MIC": mic,
        }
    f_opts_len = frame[5] & 0x0F
    port_offset = 8 + f_opts_len
    if port_offset > len(frame) - 4:
        raise FrameError("FOpts run into the MIC")
    _, dev_addr, f_ctrl, f_cnt = _DATA_HEADER.unpack_from(frame)
    has_port = port_offset < len(frame) - 4
    return {
        "msgtype": "updf" if mtype in (2, 4) else "dndf",
        "MHdr": mhdr,
        "DevAddr": _signed(dev_addr),
        "FCtrl": f_ctrl,
        "FCnt": f_cnt,
        "FOpts": frame[8:port_offset].hex().upper(),
        "FPort": frame[port_offset] if has_port else -1,
        "FRMPayload": frame[port_offset + 1 : -4].hex().upper() if has_port else "",
        "MIC": _signed(int.from_bytes(frame[-4:], "little")),
    }


def _signed(word: int) -> int:
    return word - (1 << 32) if word & 0x8000_0000 else word


def uplink_frame_from_message(
    message: Mapping[str, Any],
    *,
    gateway_id: EUI64,
    rates: StationDataRates,
    uplink_id: int,
    ns_time_ns: int,
    channel_of: Mapping[int, int],
) -> UplinkFrame:
    """An UplinkFrame from an uplink message; ``StationMessageError`` names the bad field.

    ``channel_of`` maps a frequency to its index in the gateway's channel plan.
    """
    phy_payload = phy_payload_from_message(message)
    modulation = rates.uplink_modulation(get_int(message, "DR", 0, 15))
    frequency = get_int(message, "Freq", 1, 0xFFFF_FFFF)
    upinfo = message.get("upinfo")
    if not isinstance(upinfo, dict):
        raise bad("upinfo", "expected an object")
    rctx = get_optional_int(upinfo, "rctx", -INT64_MAX - 1, INT64_MAX, 0)
    xtime = get_optional_int(upinfo, "xtime", 0, INT64_MAX, 0)
    gpstime = get_optional_int(upinfo, "gpstime", 0, INT64_MAX, 0)
    fts = get_optional_int(upinfo, "fts", -1, NS_PER_S - 1, -1)
    rxtime = get_number(upinfo, "rxtime", 0.0)
    if rxtime < 0:
        raise bad("rxtime", "negative")
    rx_info = UplinkRxInfo(
        gateway_id=gateway_id,
        uplink_id=uplink_id,
        rssi=round(get_number(upinfo, "rssi", 0.0)),
        snr=get_number(upinfo, "snr", 0.0),
        channel=channel_of.get(frequency, 0),
        board=rctx & 0x7F,  # the radio unit: which concentrator (or antenna) heard it
        context=UplinkContext(rctx, xtime).to_bytes(),
        gw_time_ns=round(rxtime * NS_PER_S) if rxtime else None,
        ns_time_ns=ns_time_ns,
        time_since_gps_epoch_ns=gpstime * NS_PER_US if gpstime else None,
        fine_time_since_gps_epoch_ns=(
            fine_timestamp_ns(gpstime, fts) if fts >= 0 and gpstime else None
        ),
    )
    return UplinkFrame(phy_payload, UplinkTxInfo(frequency, modulation), rx_info)
