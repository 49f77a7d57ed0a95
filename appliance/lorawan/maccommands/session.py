"""Session and device-management commands.

DeviceTime (0x0D) is in LoRaWAN 1.0.4 section 5 and LoRaWAN 1.1 section 5 with the same layout.
ResetInd/Conf (0x01), RekeyInd/Conf (0x0B), ADRParamSetup (0x0C), ForceRejoin (0x0E) and
RejoinParamSetup (0x0F) exist only in LoRaWAN 1.1 section 5; DeviceModeInd/Conf (0x20) comes
from the LoRaWAN 1.1 Class C section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands.base import (
    BoolFields,
    EmptyCommand,
    IntFields,
    MACCommand,
    bits,
)

# The "LoRaWAN version" byte of ResetInd/Conf and RekeyInd/Conf: Minor in bits 3:0, bits 7:4 RFU.
LORAWAN_MINOR_1_1: Final = 1


@dataclass(frozen=True, slots=True)
class _VersionCommand(MACCommand):
    """Shared layout of ResetInd/Conf and RekeyInd/Conf: one version byte."""

    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"minor": bits(4)}

    minor: int

    def payload(self) -> bytes:
        return bytes((self.minor,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(minor=data[0] & 0x0F)


@dataclass(frozen=True, slots=True)
class ResetInd(_VersionCommand):
    """An ABP end-device announces a reset and its LoRaWAN minor version (1 = LoRaWAN 1.1)."""

    CID: ClassVar[int] = 0x01
    UPLINK: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ResetConf(_VersionCommand):
    """The network confirms a ResetInd with its own LoRaWAN minor version."""

    CID: ClassVar[int] = 0x01
    UPLINK: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class RekeyInd(_VersionCommand):
    """An OTAA 1.1 end-device confirms its new session keys, with its LoRaWAN minor version."""

    CID: ClassVar[int] = 0x0B
    UPLINK: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class RekeyConf(_VersionCommand):
    """The network answers RekeyInd with the LoRaWAN minor version it will use."""

    CID: ClassVar[int] = 0x0B
    UPLINK: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class ADRParamSetupReq(MACCommand):
    """The network sets ADR_ACK_LIMIT = 2**limit_exp and ADR_ACK_DELAY = 2**delay_exp."""

    CID: ClassVar[int] = 0x0C
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"limit_exp": bits(4), "delay_exp": bits(4)}

    limit_exp: int
    delay_exp: int

    @property
    def adr_ack_limit(self) -> int:
        return 1 << self.limit_exp

    @property
    def adr_ack_delay(self) -> int:
        return 1 << self.delay_exp

    def payload(self) -> bytes:
        return bytes((self.limit_exp << 4 | self.delay_exp,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(limit_exp=data[0] >> 4, delay_exp=data[0] & 0x0F)

    def _json_extra(self) -> dict[str, Any]:
        return {"adr_ack_limit": self.adr_ack_limit, "adr_ack_delay": self.adr_ack_delay}


@dataclass(frozen=True, slots=True)
class ADRParamSetupAns(EmptyCommand):
    CID: ClassVar[int] = 0x0C
    UPLINK: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class DeviceTimeReq(EmptyCommand):
    """The end-device asks for the network time at the end of this uplink."""

    CID: ClassVar[int] = 0x0D
    UPLINK: ClassVar[bool] = True


_FRACTION_STEPS: Final = 256


@dataclass(frozen=True, slots=True)
class DeviceTimeAns(MACCommand):
    """The network time at the end of the uplink that carried DeviceTimeReq.

    ``gps_seconds`` counts whole seconds since the GPS epoch (1980-01-06T00:00:00Z, no leap
    seconds) modulo 2**32; ``fraction`` adds ``fraction / 256`` of a second.
    """

    CID: ClassVar[int] = 0x0D
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 5
    INT_FIELDS: ClassVar[IntFields] = {"gps_seconds": bits(32), "fraction": bits(8)}

    gps_seconds: int
    fraction: int

    @classmethod
    def from_gps_time(cls, seconds: float) -> Self:
        """Build from seconds since the GPS epoch, rounding down to the 1/256 s the wire carries."""
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidValueError(f"DeviceTimeAns time must be >= 0 seconds, got {seconds!r}")
        steps = math.floor(seconds * _FRACTION_STEPS)
        whole, fraction = divmod(steps, _FRACTION_STEPS)
        return cls(gps_seconds=whole, fraction=fraction)

    @property
    def gps_time(self) -> float:
        """Seconds since the GPS epoch, fraction included."""
        return self.gps_seconds + self.fraction / _FRACTION_STEPS

    def payload(self) -> bytes:
        return self.gps_seconds.to_bytes(4, "little") + bytes((self.fraction,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(gps_seconds=int.from_bytes(data[:4], "little"), fraction=data[4])

    def _json_extra(self) -> dict[str, Any]:
        return {"gps_time": self.gps_time}


REJOIN_TYPE_0: Final = 0
REJOIN_TYPE_2: Final = 2


@dataclass(frozen=True, slots=True)
class ForceRejoinReq(MACCommand):
    """The network orders the end-device to send Rejoin-requests.

    ``period``: wait at least 32 s * 2**period between retries (plus a random 0..32 s);
    ``max_retries``: retries after the first attempt; ``rejoin_type``: 0 or 1 ask for a type 0
    Rejoin-request, 2 for type 2, 3..7 are RFU; ``data_rate``: the regional data-rate index to
    send them with. The end-device answers with the Rejoin-request itself, so no uplink
    command has CID 0x0E.
    """

    CID: ClassVar[int] = 0x0E
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 2
    INT_FIELDS: ClassVar[IntFields] = {
        "period": bits(3),
        "max_retries": bits(3),
        "rejoin_type": bits(3),
        "data_rate": bits(4),
    }

    period: int
    max_retries: int
    rejoin_type: int
    data_rate: int

    @property
    def min_period_seconds(self) -> int:
        return 32 << self.period

    def payload(self) -> bytes:
        # A 16-bit little-endian field: RejoinType and DR in the low byte, Period and
        # Max_Retries in the high byte (bits 15:14 and 7 RFU).
        return bytes((self.rejoin_type << 4 | self.data_rate, self.period << 3 | self.max_retries))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(
            period=data[1] >> 3 & 0x07,
            max_retries=data[1] & 0x07,
            rejoin_type=data[0] >> 4 & 0x07,
            data_rate=data[0] & 0x0F,
        )

    def _json_extra(self) -> dict[str, Any]:
        return {"min_period_seconds": self.min_period_seconds}


@dataclass(frozen=True, slots=True)
class RejoinParamSetupReq(MACCommand):
    """The network asks for a type 0 Rejoin-request every 2**(max_count_n + 4) uplinks or
    every 2**(max_time_n + 10) seconds, whichever comes first."""

    CID: ClassVar[int] = 0x0F
    UPLINK: ClassVar[bool] = False
    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"max_time_n": bits(4), "max_count_n": bits(4)}

    max_time_n: int
    max_count_n: int

    @property
    def max_time_seconds(self) -> int:
        return 1 << (self.max_time_n + 10)

    @property
    def max_count(self) -> int:
        return 1 << (self.max_count_n + 4)

    def payload(self) -> bytes:
        return bytes((self.max_time_n << 4 | self.max_count_n,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(max_time_n=data[0] >> 4, max_count_n=data[0] & 0x0F)

    def _json_extra(self) -> dict[str, Any]:
        return {"max_time_seconds": self.max_time_seconds, "max_count": self.max_count}


@dataclass(frozen=True, slots=True)
class RejoinParamSetupAns(MACCommand):
    """``time_ok`` False means the end-device will only apply the count limit."""

    CID: ClassVar[int] = 0x0F
    UPLINK: ClassVar[bool] = True
    PAYLOAD_SIZE: ClassVar[int] = 1
    BOOL_FIELDS: ClassVar[BoolFields] = ("time_ok",)

    time_ok: bool

    def payload(self) -> bytes:
        return bytes((int(self.time_ok),))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(time_ok=bool(data[0] & 0x01))


# The "Class" byte of DeviceModeInd/Conf; every other value is RFU.
DEVICE_CLASS_A: Final = 0x00
DEVICE_CLASS_C: Final = 0x02
_DEVICE_CLASS_NAMES: Final = {DEVICE_CLASS_A: "A", DEVICE_CLASS_C: "C"}


@dataclass(frozen=True, slots=True)
class _DeviceModeCommand(MACCommand):
    """Shared layout of DeviceModeInd/Conf: one "Class" byte."""

    PAYLOAD_SIZE: ClassVar[int] = 1
    INT_FIELDS: ClassVar[IntFields] = {"device_class": bits(8)}

    device_class: int

    @property
    def device_class_name(self) -> str:
        """The class as a letter, or "RFU" for the values the specification reserves."""
        return _DEVICE_CLASS_NAMES.get(self.device_class, "RFU")

    def payload(self) -> bytes:
        return bytes((self.device_class,))

    @classmethod
    def _from_wire(cls, data: bytes) -> Self:
        return cls(device_class=data[0])

    def _json_extra(self) -> dict[str, Any]:
        return {"device_class_name": self.device_class_name}


@dataclass(frozen=True, slots=True)
class DeviceModeInd(_DeviceModeCommand):
    """The end-device announces it switched to Class A (0) or Class C (2)."""

    CID: ClassVar[int] = 0x20
    UPLINK: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class DeviceModeConf(_DeviceModeCommand):
    """The network confirms the class the end-device announced."""

    CID: ClassVar[int] = 0x20
    UPLINK: ClassVar[bool] = False
