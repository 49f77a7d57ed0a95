"""Which device sent a data uplink, with which 32-bit counter, and whether to accept it.

Several devices may share a DevAddr: each candidate session is tried and the MIC decides
(LoRaWAN 1.0.4 6.1.1, ChirpStack's get_device_for_phy_payload). Counter rules, in order:

- the frame right before the expected one (``f_cnt_up - 1``) is a retransmission: accepted
  for its MIC, processed without a new application event (NbTrans repeats of the device);
- an older counter is a replay and refused, unless the device has relaxed counters (ABP
  devices that restart from 0), which accepts any counter that passes the MIC;
- a jump of more than ``max_f_cnt_gap`` is refused (LoRaWAN 1.0's MAX_FCNT_GAP);
- a counter past 32 bits means the session is exhausted and must be rejoined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from appliance.lorawan import security
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.fcnt import MAX_F_CNT, reconstruct_f_cnt
from appliance.lorawan.frames import DataFrame
from appliance.lorawan.identifiers import EUI64
from appliance.lorawan.regions import Region
from appliance.ns.session import DeviceSession
from appliance.ns.uplink.channels import uplink_channel_index


class Rejection(StrEnum):
    """Why a data uplink was dropped; the metric labels use these names."""

    UNKNOWN_DEV_ADDR = "unknown_dev_addr"
    MIC_FAILED = "mic_failed"
    F_CNT_REPLAY = "f_cnt_replay"
    F_CNT_GAP_TOO_LARGE = "f_cnt_gap_too_large"
    F_CNT_EXHAUSTED = "f_cnt_exhausted"
    FRAME_TOO_LONG = "frame_too_long"


@dataclass(frozen=True, slots=True)
class Accepted:
    dev_eui: EUI64
    session: DeviceSession
    f_cnt: int  # the full 32-bit counter of this frame
    retransmission: bool
    counter_reset: bool  # relaxed-counter device that restarted its counter


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: Rejection
    dev_eui: EUI64 | None = None  # set when the device is known (for a `log` event)
    detail: str = ""


@dataclass(frozen=True, slots=True)
class UplinkRadio:
    """What the 1.1 MIC needs to know about the transmission."""

    data_rate: int
    frequency: int


def _mic_ok(
    frame: DataFrame, session: DeviceSession, f_cnt: int, region: Region, radio: UplinkRadio
) -> bool:
    if not session.keys.lorawan_1_1:
        return security.verify_data_mic(frame, session.keys, f_cnt)
    try:
        tx_ch = uplink_channel_index(region, session, radio.frequency)
    except InvalidValueError:
        return False
    conf = session.conf_f_cnt if session.conf_f_cnt is not None else 0
    return security.verify_data_mic(
        frame, session.keys, f_cnt, conf_f_cnt=conf, tx_dr=radio.data_rate, tx_ch=tx_ch
    )


def _judge(
    frame: DataFrame,
    *,
    dev_eui: EUI64,
    session: DeviceSession,
    region: Region,
    radio: UplinkRadio,
    max_gap: int,
) -> Accepted | Rejected:
    expected = session.f_cnt_up
    f_cnt = reconstruct_f_cnt(frame.f_cnt, expected)
    if f_cnt > MAX_F_CNT:
        # No MIC can be computed past 32 bits; the session cannot go on either way.
        return Rejected(Rejection.F_CNT_EXHAUSTED, dev_eui, "32-bit frame counter exhausted")
    if _mic_ok(frame, session, f_cnt, region, radio):
        if f_cnt < expected:  # only expected - 1 can come back from reconstruct_f_cnt
            return Accepted(dev_eui, session, f_cnt, retransmission=True, counter_reset=False)
        if f_cnt - expected > max_gap and not session.skip_f_cnt_check:
            return Rejected(
                Rejection.F_CNT_GAP_TOO_LARGE,
                dev_eui,
                f"frame counter {f_cnt}, expected {expected}",
            )
        return Accepted(dev_eui, session, f_cnt, retransmission=False, counter_reset=False)
    if session.skip_f_cnt_check:
        # The device may have restarted counting: try the counter as if from zero.
        restarted = frame.f_cnt
        if restarted != f_cnt and _mic_ok(frame, session, restarted, region, radio):
            return Accepted(dev_eui, session, restarted, retransmission=False, counter_reset=True)
    return Rejected(Rejection.MIC_FAILED, dev_eui)


def match_device(
    frame: DataFrame,
    candidates: Sequence[tuple[EUI64, DeviceSession]],
    region: Region,
    radio: UplinkRadio,
    *,
    max_f_cnt_gap: int,
) -> Accepted | Rejected:
    """The candidate whose session verifies the frame, or why none does.

    A replayed counter cannot be told apart from a MIC failure by the MIC alone (the MIC was
    computed over the old counter), so a MIC failure of a known device whose frame counter is
    behind the session is reported as a replay, which is what it almost always is.
    """
    if not candidates:
        return Rejected(Rejection.UNKNOWN_DEV_ADDR)
    first_failure: Rejected | None = None
    for dev_eui, session in candidates:
        verdict = _judge(
            frame,
            dev_eui=dev_eui,
            session=session,
            region=region,
            radio=radio,
            max_gap=max_f_cnt_gap,
        )
        if isinstance(verdict, Accepted):
            return verdict
        if verdict.reason is not Rejection.MIC_FAILED:
            return verdict  # the MIC matched this device; its counter is what is wrong
        if first_failure is None:
            first_failure = verdict
    assert first_failure is not None
    if len(candidates) == 1:
        dev_eui, session = candidates[0]
        older = session.f_cnt_up >= 2 and frame.f_cnt < (session.f_cnt_up - 1) & 0xFFFF
        if older and _replayed(frame, session, region, radio):
            return Rejected(
                Rejection.F_CNT_REPLAY,
                dev_eui,
                f"frame counter {frame.f_cnt} is behind {session.f_cnt_up}",
            )
    return first_failure


_MHDR_AND_MIC = 5


def too_long_for_region(
    phy_payload: bytes, region: Region, data_rate: int, dwell_time: bool
) -> str | None:
    """Why a data frame is longer than the region allows at its data rate, or None."""
    limit = region.max_payload(data_rate, dwell_time).mac_payload
    size = len(phy_payload) - _MHDR_AND_MIC
    if size <= limit:
        return None
    return f"MACPayload of {size} bytes, {region.name} DR{data_rate} allows {limit}"


def _replayed(frame: DataFrame, session: DeviceSession, region: Region, radio: UplinkRadio) -> bool:
    """Whether the frame verifies with its counter taken in the current 16-bit era."""
    same_era = (session.f_cnt_up & ~0xFFFF) | frame.f_cnt
    return _mic_ok(frame, session, same_era, region, radio)
