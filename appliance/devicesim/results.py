"""What ``EndDevice.on_downlink`` reports: accepted with what it carried, or refused and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.lorawan.maccommands import MACCommand


class Refusal(StrEnum):
    """Why a device dropped a downlink. Values are stable: tests and logs use them."""

    NOT_IN_WINDOW = "not-in-window"  # no receive window open at that time
    WRONG_FREQUENCY = "wrong-frequency"  # a window is open, on another frequency
    WRONG_DATA_RATE = "wrong-data-rate"  # a window is open, at another data rate
    UNDECODABLE = "undecodable"  # the bytes are not a LoRaWAN frame
    NOT_FOR_DEVICE = "not-for-device"  # an uplink, proprietary or other frame a device ignores
    UNEXPECTED_JOIN_ACCEPT = "unexpected-join-accept"  # no join- or rejoin-request pending
    NOT_ACTIVATED = "not-activated"  # a data frame before the device has a session
    DEV_ADDR_MISMATCH = "dev-addr-mismatch"
    MIC_MISMATCH = "mic-mismatch"
    F_CNT_REPLAY = "f-cnt-replay"  # the frame counter is not above the last one accepted
    JOIN_NONCE_REPLAY = "join-nonce-replay"  # JoinNonce not above (1.0.4, 1.1) / equal to the last
    INVALID_JOIN_ACCEPT = "invalid-join-accept"  # settings the device cannot apply


@dataclass(frozen=True, slots=True)
class ApplicationPayload:
    """An FRMPayload for the application, decrypted."""

    f_port: int
    data: bytes


@dataclass(frozen=True, slots=True)
class DownlinkResult:
    """The outcome of one received frame.

    When accepted: ``window`` it came in, ``joined`` for a join-accept, the 32-bit ``f_cnt``,
    whether the frame was ``confirmed`` (an ACK goes in the next uplink), ``ack`` of the
    device's confirmed uplink, ``f_pending``, the application ``payloads``, the MAC commands
    received and the answers queued for the next uplink.
    """

    accepted: bool
    refusal: Refusal | None = None
    reason: str = ""
    window: str | None = None
    joined: bool = False
    f_cnt: int | None = None
    confirmed: bool = False
    ack: bool = False
    f_pending: bool = False
    payloads: tuple[ApplicationPayload, ...] = ()
    mac_commands: tuple[MACCommand, ...] = ()
    mac_answers: tuple[MACCommand, ...] = ()

    @classmethod
    def refused(cls, refusal: Refusal, reason: str, window: str | None = None) -> DownlinkResult:
        return cls(accepted=False, refusal=refusal, reason=reason, window=window)


class DownlinkRefused(Exception):  # noqa: N818 - an outcome, not an error of the simulator
    """Raised inside the receive path to stop at the first failed check; never escapes it."""

    def __init__(self, refusal: Refusal, reason: str) -> None:
        super().__init__(reason)
        self.refusal = refusal
        self.reason = reason
