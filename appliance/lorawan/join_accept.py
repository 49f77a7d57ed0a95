"""The decrypted join-accept and its parts: DLSettings and the CFList (LoRaWAN 1.0.4 6.2.3-6.2.6,
LoRaWAN 1.1 6.2.3, RP002-1.0.4 section 2 for the CFList types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from appliance.lorawan.errors import FrameError, InvalidValueError
from appliance.lorawan.identifiers import DevAddr, NetID
from appliance.lorawan.mhdr import Major, MType, mhdr_byte

CF_LIST_FREQUENCIES: Final = 0
CF_LIST_CHANNEL_MASK: Final = 1


@dataclass(frozen=True, slots=True)
class DLSettings:
    """OptNeg (1.1 network), RX1 data-rate offset and RX2 data rate."""

    rx1_dr_offset: int = 0
    rx2_data_rate: int = 0
    opt_neg: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.rx1_dr_offset <= 7:
            raise InvalidValueError(f"RX1DRoffset must be 0..7, got {self.rx1_dr_offset}")
        if not 0 <= self.rx2_data_rate <= 15:
            raise InvalidValueError(f"RX2DataRate must be 0..15, got {self.rx2_data_rate}")

    def to_byte(self) -> int:
        return (self.opt_neg << 7) | (self.rx1_dr_offset << 4) | self.rx2_data_rate

    @classmethod
    def from_byte(cls, value: int) -> DLSettings:
        return cls((value >> 4) & 0x07, value & 0x0F, bool(value & 0x80))


@dataclass(frozen=True, slots=True)
class CFListFrequencies:
    """CFList type 0: up to five extra channel frequencies in Hz (0 = no channel)."""

    frequencies: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.frequencies) > 5:
            raise InvalidValueError("a CFList carries at most 5 frequencies")
        for freq in self.frequencies:
            if not 0 <= freq <= 0xFFFFFF * 100 or freq % 100:
                raise InvalidValueError(
                    f"CFList frequency must be a multiple of 100 Hz, got {freq}"
                )

    def to_bytes(self) -> bytes:
        padded = self.frequencies + (0,) * (5 - len(self.frequencies))
        return b"".join((f // 100).to_bytes(3, "little") for f in padded) + bytes(
            (CF_LIST_FREQUENCIES,)
        )


@dataclass(frozen=True, slots=True)
class CFListChannelMask:
    """CFList type 1: up to five 16-bit ChMasks (bit n of mask k enables channel 16k+n)."""

    ch_masks: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.ch_masks) > 5:
            raise InvalidValueError("a CFList carries at most 5 channel masks")
        for mask in self.ch_masks:
            if not 0 <= mask <= 0xFFFF:
                raise InvalidValueError(f"ChMask must be 16 bits, got {mask:#x}")

    def to_bytes(self) -> bytes:
        padded = self.ch_masks + (0,) * (5 - len(self.ch_masks))
        body = b"".join(m.to_bytes(2, "little") for m in padded)
        return body + bytes(5) + bytes((CF_LIST_CHANNEL_MASK,))

    def enabled_channels(self) -> tuple[int, ...]:
        return tuple(
            16 * index + bit
            for index, mask in enumerate(self.ch_masks)
            for bit in range(16)
            if mask >> bit & 1
        )


CFList = CFListFrequencies | CFListChannelMask


def decode_cf_list(data: bytes) -> CFList:
    if len(data) != 16:
        raise FrameError(f"a CFList is 16 bytes, got {len(data)}")
    cf_type = data[15]
    if cf_type == CF_LIST_FREQUENCIES:
        return CFListFrequencies(
            tuple(int.from_bytes(data[i : i + 3], "little") * 100 for i in range(0, 15, 3))
        )
    if cf_type == CF_LIST_CHANNEL_MASK:
        return CFListChannelMask(
            tuple(int.from_bytes(data[i : i + 2], "little") for i in range(0, 10, 2))
        )
    raise FrameError(f"CFList type {cf_type} is reserved (known: 0 frequencies, 1 channel mask)")


@dataclass(frozen=True, slots=True)
class JoinAccept:
    """A join-accept in clear: what the join server builds and the device decrypts."""

    join_nonce: int
    home_net_id: NetID
    dev_addr: DevAddr
    dl_settings: DLSettings = DLSettings()
    rx_delay: int = 1  # seconds; 0 on the air also means 1 s
    cf_list: CFList | None = None
    mic: bytes = bytes(4)
    major: int = Major.LORAWAN_R1
    raw: bytes = field(default=b"", init=False, repr=False, compare=False)

    mtype = MType.JOIN_ACCEPT

    def __post_init__(self) -> None:
        if not 0 <= self.join_nonce <= 0xFFFFFF:
            raise InvalidValueError(f"JoinNonce is 24 bits, got {self.join_nonce}")
        if not 0 <= self.rx_delay <= 15:
            raise InvalidValueError(f"RxDelay must be 0..15 s, got {self.rx_delay}")
        if len(self.mic) != 4:
            raise InvalidValueError(f"MIC must be 4 bytes, got {len(self.mic)}")

    def signed_part(self) -> bytes:
        """MHDR | JoinNonce | NetID | DevAddr | DLSettings | RxDelay | CFList (no MIC)."""
        if self.raw:
            return self.raw[:-4]
        body = (
            bytes((mhdr_byte(MType.JOIN_ACCEPT, self.major),))
            + self.join_nonce.to_bytes(3, "little")
            + self.home_net_id.to_wire()
            + self.dev_addr.to_wire()
            + bytes((self.dl_settings.to_byte(), self.rx_delay))
        )
        if self.cf_list is not None:
            body += self.cf_list.to_bytes()
        return body

    def encode_plain(self) -> bytes:
        """The unencrypted frame with its MIC (MHDR included)."""
        return self.raw or self.signed_part() + self.mic

    @classmethod
    def decode_plain(cls, data: bytes) -> JoinAccept:
        """Parse a decrypted join-accept (MHDR included)."""
        if len(data) not in (17, 33):
            raise FrameError(f"a join-accept is 17 or 33 bytes, got {len(data)}")
        if data[0] >> 5 != MType.JOIN_ACCEPT:
            raise FrameError("not a join-accept (MType differs)")
        frame = cls(
            join_nonce=int.from_bytes(data[1:4], "little"),
            home_net_id=NetID.from_wire(data[4:7]),
            dev_addr=DevAddr.from_wire(data[7:11]),
            dl_settings=DLSettings.from_byte(data[11]),
            rx_delay=data[12] & 0x0F,
            cf_list=decode_cf_list(data[13:29]) if len(data) == 33 else None,
            mic=bytes(data[-4:]),
            major=data[0] & 0x03,
        )
        object.__setattr__(frame, "raw", bytes(data))
        return frame
