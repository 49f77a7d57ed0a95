"""PHYPayload message types as frozen values (LoRaWAN 1.0.4 / 1.1 section 4, 6.2).

Fields hold what is on the air: FOpts and FRMPayload of data frames as sent (encrypted), MICs as
received. ``appliance.lorawan.security`` turns these into plaintext and checks MICs; the codec
(``appliance.lorawan.codec``) turns bytes into these values.

Frames built by the decoder remember their wire bytes (``raw``) so a MIC is checked over exactly
what was received; ``dataclasses.replace`` drops them, so a changed frame is always re-encoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from appliance.lorawan.errors import EncodeError, InvalidValueError
from appliance.lorawan.identifiers import EUI64, DevAddr, NetID
from appliance.lorawan.mhdr import Major, MType, mhdr_byte

MAX_F_OPTS_LEN: Final = 15
_NO_MIC: Final = bytes(4)
_DATA_HEADER: Final = struct.Struct("<BIBH")  # MHDR, DevAddr, FCtrl, FCnt
# Asked several times per frame: plain ints hash and compare fastest (MType is an IntEnum).
_DATA_UP: Final = frozenset({int(MType.UNCONFIRMED_DATA_UP), int(MType.CONFIRMED_DATA_UP)})
_CONFIRMED: Final = frozenset({int(MType.CONFIRMED_DATA_UP), int(MType.CONFIRMED_DATA_DOWN)})


def _check_mic(mic: bytes) -> None:
    if len(mic) != 4:
        raise InvalidValueError(f"MIC must be 4 bytes, got {len(mic)}")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidValueError(f"{name} must be {low}..{high}, got {value}")


@dataclass(frozen=True, slots=True)
class FCtrl:
    """Frame control bits. ``adr_ack_req``/``class_b`` exist only uplink, ``f_pending`` downlink."""

    adr: bool = False
    adr_ack_req: bool = False
    ack: bool = False
    f_pending: bool = False
    class_b: bool = False

    def to_byte(self, f_opts_len: int, *, uplink: bool) -> int:
        if uplink and self.f_pending:
            raise EncodeError("FPending is a downlink bit; an uplink cannot set it")
        if not uplink and (self.adr_ack_req or self.class_b):
            raise EncodeError("ADRACKReq and ClassB are uplink bits; a downlink cannot set them")
        bit4 = self.class_b if uplink else self.f_pending
        return (
            (self.adr << 7) | (self.adr_ack_req << 6) | (self.ack << 5) | (bit4 << 4) | f_opts_len
        )


def _fctrl_table(uplink: bool) -> tuple[FCtrl, ...]:
    # The 16 combinations of the upper nibble, built once: the decoder only indexes.
    table = []
    for nibble in range(16):
        bit4 = bool(nibble & 1)
        table.append(
            FCtrl(
                adr=bool(nibble & 8),
                adr_ack_req=uplink and bool(nibble & 4),
                ack=bool(nibble & 2),
                f_pending=not uplink and bit4,
                class_b=uplink and bit4,
            )
        )
    return tuple(table)


FCTRL_UPLINK: Final = _fctrl_table(True)
FCTRL_DOWNLINK: Final = _fctrl_table(False)


@dataclass(frozen=True, slots=True)
class DataFrame:
    """Unconfirmed/Confirmed Data Up/Down: MHDR | FHDR | FPort | FRMPayload | MIC."""

    mtype: MType
    dev_addr: DevAddr
    f_ctrl: FCtrl = FCtrl()
    f_cnt: int = 0  # the 16 bits on the air; see appliance.lorawan.fcnt for the 32-bit value
    f_opts: bytes = b""
    f_port: int | None = None
    frm_payload: bytes = b""
    mic: bytes = _NO_MIC
    major: int = Major.LORAWAN_R1
    raw: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not MType.UNCONFIRMED_DATA_UP <= self.mtype <= MType.CONFIRMED_DATA_DOWN:
            raise InvalidValueError(f"{MType(self.mtype).label} is not a data message type")
        if not 0 <= self.f_cnt <= 0xFFFF:
            raise InvalidValueError(f"FCnt on the air is 16 bits, got {self.f_cnt}")
        if len(self.f_opts) > MAX_F_OPTS_LEN:
            raise InvalidValueError(f"FOpts holds at most 15 bytes, got {len(self.f_opts)}")
        if self.f_port is None:
            if self.frm_payload:
                raise InvalidValueError("a FRMPayload needs an FPort")
        elif not 0 <= self.f_port <= 255:
            raise InvalidValueError(f"FPort must be 0..255, got {self.f_port}")
        elif self.f_port == 0 and self.f_opts:
            raise InvalidValueError("MAC commands cannot be in FOpts and on FPort 0 at once")
        _check_mic(self.mic)

    @classmethod
    def _decoded(  # noqa: PLR0917 - the dataclass's own fields, in order, and hot
        cls,
        mtype: MType,
        dev_addr: DevAddr,
        f_ctrl: FCtrl,
        f_cnt: int,
        f_opts: bytes,
        f_port: int | None,
        frm_payload: bytes,
        mic: bytes,
        major: int,
        raw: bytes,
    ) -> DataFrame:
        """A frame the decoder sliced from ``raw`` and checked already (``codec``): the
        checks of ``__post_init__`` hold by construction and are not run again."""
        frame = object.__new__(cls)
        set_field = object.__setattr__
        set_field(frame, "mtype", mtype)
        set_field(frame, "dev_addr", dev_addr)
        set_field(frame, "f_ctrl", f_ctrl)
        set_field(frame, "f_cnt", f_cnt)
        set_field(frame, "f_opts", f_opts)
        set_field(frame, "f_port", f_port)
        set_field(frame, "frm_payload", frm_payload)
        set_field(frame, "mic", mic)
        set_field(frame, "major", major)
        set_field(frame, "raw", raw)
        return frame

    @property
    def uplink(self) -> bool:
        return self.mtype in _DATA_UP

    @property
    def confirmed(self) -> bool:
        return self.mtype in _CONFIRMED

    def signed_part(self) -> bytes:
        """The bytes the MIC covers: MHDR up to the end of FRMPayload."""
        if self.raw:
            return self.raw[:-4]
        uplink = self.uplink
        head = _DATA_HEADER.pack(
            mhdr_byte(self.mtype, self.major),
            int(self.dev_addr),
            self.f_ctrl.to_byte(len(self.f_opts), uplink=uplink),
            self.f_cnt,
        )
        if self.f_port is None:
            return head + self.f_opts
        return head + self.f_opts + bytes((self.f_port,)) + self.frm_payload

    def encode(self) -> bytes:
        return self.raw or self.signed_part() + self.mic


@dataclass(frozen=True, slots=True)
class JoinRequest:
    join_eui: EUI64
    dev_eui: EUI64
    dev_nonce: int
    mic: bytes = _NO_MIC
    major: int = Major.LORAWAN_R1
    raw: bytes = field(default=b"", init=False, repr=False, compare=False)

    mtype = MType.JOIN_REQUEST

    def __post_init__(self) -> None:
        _check_range("DevNonce", self.dev_nonce, 0, 0xFFFF)
        _check_mic(self.mic)

    def signed_part(self) -> bytes:
        if self.raw:
            return self.raw[:-4]
        return (
            bytes((mhdr_byte(MType.JOIN_REQUEST, self.major),))
            + self.join_eui.to_wire()
            + self.dev_eui.to_wire()
            + self.dev_nonce.to_bytes(2, "little")
        )

    def encode(self) -> bytes:
        return self.raw or self.signed_part() + self.mic


@dataclass(frozen=True, slots=True)
class RejoinRequest02:
    """Rejoin-request type 0 (reset) or type 2 (rekey): NetID, DevEUI and RJcount0."""

    rejoin_type: int
    net_id: NetID
    dev_eui: EUI64
    rj_count0: int
    mic: bytes = _NO_MIC
    major: int = Major.LORAWAN_R1
    raw: bytes = field(default=b"", init=False, repr=False, compare=False)

    mtype = MType.REJOIN_REQUEST

    def __post_init__(self) -> None:
        if self.rejoin_type not in (0, 2):
            raise InvalidValueError(
                f"this layout is for rejoin types 0 and 2, not {self.rejoin_type}"
            )
        _check_range("RJcount0", self.rj_count0, 0, 0xFFFF)
        _check_mic(self.mic)

    def signed_part(self) -> bytes:
        if self.raw:
            return self.raw[:-4]
        return (
            bytes((mhdr_byte(MType.REJOIN_REQUEST, self.major), self.rejoin_type))
            + self.net_id.to_wire()
            + self.dev_eui.to_wire()
            + self.rj_count0.to_bytes(2, "little")
        )

    def encode(self) -> bytes:
        return self.raw or self.signed_part() + self.mic


@dataclass(frozen=True, slots=True)
class RejoinRequest1:
    """Rejoin-request type 1 (restore a lost session): JoinEUI, DevEUI and RJcount1."""

    join_eui: EUI64
    dev_eui: EUI64
    rj_count1: int
    mic: bytes = _NO_MIC
    major: int = Major.LORAWAN_R1
    raw: bytes = field(default=b"", init=False, repr=False, compare=False)

    mtype = MType.REJOIN_REQUEST
    rejoin_type = 1

    def __post_init__(self) -> None:
        _check_range("RJcount1", self.rj_count1, 0, 0xFFFF)
        _check_mic(self.mic)

    def signed_part(self) -> bytes:
        if self.raw:
            return self.raw[:-4]
        return (
            bytes((mhdr_byte(MType.REJOIN_REQUEST, self.major), 1))
            + self.join_eui.to_wire()
            + self.dev_eui.to_wire()
            + self.rj_count1.to_bytes(2, "little")
        )

    def encode(self) -> bytes:
        return self.raw or self.signed_part() + self.mic


@dataclass(frozen=True, slots=True)
class EncryptedJoinAccept:
    """A join-accept as it travels: everything after the MHDR is encrypted, MIC included."""

    ciphertext: bytes
    major: int = Major.LORAWAN_R1

    mtype = MType.JOIN_ACCEPT

    def __post_init__(self) -> None:
        if len(self.ciphertext) not in (16, 32):
            raise InvalidValueError(
                "an encrypted join-accept is 16 or 32 bytes after the MHDR, "
                f"got {len(self.ciphertext)}"
            )

    def encode(self) -> bytes:
        return bytes((mhdr_byte(MType.JOIN_ACCEPT, self.major),)) + self.ciphertext


@dataclass(frozen=True, slots=True)
class Proprietary:
    """MType 7: the payload is the vendor's; LoRaWAN defines no MIC for it."""

    payload: bytes
    major: int = Major.LORAWAN_R1

    mtype = MType.PROPRIETARY

    def encode(self) -> bytes:
        return bytes((mhdr_byte(MType.PROPRIETARY, self.major),)) + self.payload


Frame = (
    DataFrame | JoinRequest | RejoinRequest02 | RejoinRequest1 | EncryptedJoinAccept | Proprietary
)
