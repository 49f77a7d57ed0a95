"""The network server's state of one activated device (modelled on ChirpStack's DeviceSession).

Mutable on purpose: a flow step updates the counters and radio settings in place, and the
storage layer persists the record as a whole. Two lossless forms: ``to_record``/``from_record``
(fields by position, what ``session_codec`` stores on every uplink, built for speed) and
``to_dict``/``from_dict`` (fields by name, what earlier versions stored, still read). Counters
hold the *next* value to expect or to use, as 32-bit integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.link_history import UplinkHistory, UplinkHistoryEntry
from appliance.ns.profile import MACVersion

__all__ = [
    "MAX_UPLINK_HISTORY",
    "DeviceSession",
    "ExtraChannel",
    "PendingMACRequest",
    "UplinkHistory",
    "UplinkHistoryEntry",
]

MAX_UPLINK_HISTORY: Final = 20  # uplinks the ADR algorithm looks back over
# ADR_ACK_LIMIT 64 and ADR_ACK_DELAY 32 are the default of every RP002 region.
DEFAULT_ADR_ACK_LIMIT_EXP: Final = 6
DEFAULT_ADR_ACK_DELAY_EXP: Final = 5


@dataclass(frozen=True, slots=True)
class ExtraChannel:
    """A channel added with the CFList or NewChannelReq (dynamic-plan regions)."""

    frequency: int
    min_dr: int
    max_dr: int


@dataclass(frozen=True, slots=True)
class PendingMACRequest:
    """MAC requests sent in a downlink and not yet answered."""

    cid: int
    payloads: tuple[bytes, ...]  # the encoded requests (several for LinkADRReq blocks)
    sent_at_f_cnt_down: int


@dataclass(slots=True)
class DeviceSession:
    dev_addr: DevAddr
    keys: SessionKeys
    mac_version: MACVersion
    region: str
    rx2_dr: int
    rx2_frequency: int
    enabled_uplink_channels: tuple[int, ...]
    f_cnt_up: int = 0
    n_f_cnt_down: int = 0
    a_f_cnt_down: int = 0
    conf_f_cnt: int | None = None  # FCnt of the confirmed downlink awaiting the device's ACK
    # The wait for that ACK timed out and was reported; the next uplink only clears it (a
    # late ACK still signs the 1.1 MIC with ``conf_f_cnt``).
    conf_f_cnt_timed_out: bool = False
    rx1_delay_s: int = 1
    rx1_dr_offset: int = 0
    extra_uplink_channels: dict[int, ExtraChannel] = field(default_factory=dict)
    dr: int = 0
    tx_power_index: int = 0
    nb_trans: int = 1
    adr: bool = False
    max_supported_tx_power_index: int = 0
    uplink_dwell_time_400ms: bool = False
    downlink_dwell_time_400ms: bool = False
    uplink_max_eirp_index: int = 15
    ping_slot_nb: int = 0
    ping_slot_dr: int = 0
    ping_slot_frequency: int = 0
    uplink_history: UplinkHistory = field(default_factory=UplinkHistory)
    pending_mac_requests: dict[int, PendingMACRequest] = field(default_factory=dict)
    mac_command_error_count: dict[int, int] = field(default_factory=dict)
    last_device_status_request_ns: int | None = None
    rejoin_request_enabled: bool = False
    rejoin_max_count_n: int = 0
    rejoin_max_time_n: int = 0
    rejoin_count_0: int = 0
    skip_f_cnt_check: bool = False
    # What the device accepted from DutyCycleReq, ADRParamSetupReq, DlChannelReq and
    # BeaconFreqReq; the defaults are what a device starts with.
    max_duty_cycle: int = 0  # aggregated duty cycle 1 / 2**max_duty_cycle (0: no limit)
    adr_ack_limit_exp: int = DEFAULT_ADR_ACK_LIMIT_EXP
    adr_ack_delay_exp: int = DEFAULT_ADR_ACK_DELAY_EXP
    rx1_frequencies: dict[int, int] = field(default_factory=dict)  # channel -> RX1 frequency
    beacon_frequency: int = 0  # 0: the region's default
    min_supported_tx_power_index: int = 0  # learnt when a device refuses the strongest power
    # LoRaWAN 1.1: the next RJcount1 accepted; kept across sessions (it never wraps).
    rejoin_count_1: int = 0
    # LoRaWAN 1.1: the session built by a rejoin; it replaces this one on RekeyInd.
    pending_rejoin_session: DeviceSession | None = None

    def __post_init__(self) -> None:
        history: object = self.uplink_history
        if not isinstance(history, UplinkHistory):  # a list of entries
            self.uplink_history = UplinkHistory(cast(list[UplinkHistoryEntry], history))

    def add_uplink_history(self, entry: UplinkHistoryEntry) -> None:
        """Record an uplink's link quality; a retransmission (the newest entry's FCnt again)
        carries no new information for ADR and is left out."""
        self.uplink_history = history = UplinkHistory.of(self.uplink_history)
        history.add(entry, MAX_UPLINK_HISTORY)

    # --- lossless serialisation (the storage layer encrypts the result) --------------------

    def to_dict(self) -> dict[str, Any]:
        keys = self.keys
        return {
            "dev_addr": str(self.dev_addr),
            "keys": {
                "f_nwk_s_int_key": str(keys.f_nwk_s_int_key),
                "s_nwk_s_int_key": str(keys.s_nwk_s_int_key),
                "nwk_s_enc_key": str(keys.nwk_s_enc_key),
                "app_s_key": str(keys.app_s_key),
                "lorawan_1_1": keys.lorawan_1_1,
            },
            "mac_version": str(self.mac_version),
            "region": self.region,
            "rx2_dr": self.rx2_dr,
            "rx2_frequency": self.rx2_frequency,
            "enabled_uplink_channels": list(self.enabled_uplink_channels),
            "f_cnt_up": self.f_cnt_up,
            "n_f_cnt_down": self.n_f_cnt_down,
            "a_f_cnt_down": self.a_f_cnt_down,
            "conf_f_cnt": self.conf_f_cnt,
            "conf_f_cnt_timed_out": self.conf_f_cnt_timed_out,
            "rx1_delay_s": self.rx1_delay_s,
            "rx1_dr_offset": self.rx1_dr_offset,
            "extra_uplink_channels": {
                str(index): [c.frequency, c.min_dr, c.max_dr]
                for index, c in self.extra_uplink_channels.items()
            },
            "dr": self.dr,
            "tx_power_index": self.tx_power_index,
            "nb_trans": self.nb_trans,
            "adr": self.adr,
            "max_supported_tx_power_index": self.max_supported_tx_power_index,
            "uplink_dwell_time_400ms": self.uplink_dwell_time_400ms,
            "downlink_dwell_time_400ms": self.downlink_dwell_time_400ms,
            "uplink_max_eirp_index": self.uplink_max_eirp_index,
            "ping_slot": [self.ping_slot_nb, self.ping_slot_dr, self.ping_slot_frequency],
            "uplink_history": [
                [e.f_cnt, e.max_snr, e.max_rssi, e.tx_power_index, e.gateway_count]
                for e in self.uplink_history
            ],
            "pending_mac_requests": {
                str(cid): [[p.hex() for p in r.payloads], r.sent_at_f_cnt_down]
                for cid, r in self.pending_mac_requests.items()
            },
            "mac_command_error_count": {str(k): v for k, v in self.mac_command_error_count.items()},
            "last_device_status_request_ns": self.last_device_status_request_ns,
            "rejoin": [
                self.rejoin_request_enabled,
                self.rejoin_max_count_n,
                self.rejoin_max_time_n,
                self.rejoin_count_0,
            ],
            "skip_f_cnt_check": self.skip_f_cnt_check,
            "max_duty_cycle": self.max_duty_cycle,
            "adr_ack_exp": [self.adr_ack_limit_exp, self.adr_ack_delay_exp],
            "rx1_frequencies": {str(ch): f for ch, f in self.rx1_frequencies.items()},
            "beacon_frequency": self.beacon_frequency,
            "min_supported_tx_power_index": self.min_supported_tx_power_index,
            "rejoin_count_1": self.rejoin_count_1,
            "pending_rejoin_session": (
                None
                if self.pending_rejoin_session is None
                else self.pending_rejoin_session.to_dict()
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceSession:
        """The inverse of ``to_dict``; keys added in later versions may be missing (a session
        stored before them) and take their defaults."""
        k = data["keys"]
        keys = SessionKeys(
            AESKey(k["f_nwk_s_int_key"]),
            AESKey(k["s_nwk_s_int_key"]),
            AESKey(k["nwk_s_enc_key"]),
            AESKey(k["app_s_key"]),
            lorawan_1_1=bool(k["lorawan_1_1"]),
        )
        ping_nb, ping_dr, ping_freq = data["ping_slot"]
        rejoin_enabled, max_count, max_time, count_0 = data["rejoin"]
        pending = data.get("pending_rejoin_session")
        limit_exp, delay_exp = data.get(
            "adr_ack_exp", (DEFAULT_ADR_ACK_LIMIT_EXP, DEFAULT_ADR_ACK_DELAY_EXP)
        )
        return cls(
            dev_addr=DevAddr(data["dev_addr"]),
            keys=keys,
            mac_version=MACVersion(data["mac_version"]),
            region=data["region"],
            rx2_dr=data["rx2_dr"],
            rx2_frequency=data["rx2_frequency"],
            enabled_uplink_channels=tuple(data["enabled_uplink_channels"]),
            f_cnt_up=data["f_cnt_up"],
            n_f_cnt_down=data["n_f_cnt_down"],
            a_f_cnt_down=data["a_f_cnt_down"],
            conf_f_cnt=data["conf_f_cnt"],
            conf_f_cnt_timed_out=data.get("conf_f_cnt_timed_out", False),
            rx1_delay_s=data["rx1_delay_s"],
            rx1_dr_offset=data["rx1_dr_offset"],
            extra_uplink_channels={
                int(index): ExtraChannel(*values)
                for index, values in data["extra_uplink_channels"].items()
            },
            dr=data["dr"],
            tx_power_index=data["tx_power_index"],
            nb_trans=data["nb_trans"],
            adr=data["adr"],
            max_supported_tx_power_index=data["max_supported_tx_power_index"],
            uplink_dwell_time_400ms=data["uplink_dwell_time_400ms"],
            downlink_dwell_time_400ms=data["downlink_dwell_time_400ms"],
            uplink_max_eirp_index=data["uplink_max_eirp_index"],
            ping_slot_nb=ping_nb,
            ping_slot_dr=ping_dr,
            ping_slot_frequency=ping_freq,
            uplink_history=UplinkHistory(
                UplinkHistoryEntry(*entry) for entry in data["uplink_history"]
            ),
            pending_mac_requests={
                int(cid): PendingMACRequest(
                    int(cid), tuple(bytes.fromhex(p) for p in payloads), sent_at
                )
                for cid, (payloads, sent_at) in data["pending_mac_requests"].items()
            },
            mac_command_error_count={int(k): v for k, v in data["mac_command_error_count"].items()},
            last_device_status_request_ns=data["last_device_status_request_ns"],
            rejoin_request_enabled=rejoin_enabled,
            rejoin_max_count_n=max_count,
            rejoin_max_time_n=max_time,
            rejoin_count_0=count_0,
            skip_f_cnt_check=data["skip_f_cnt_check"],
            max_duty_cycle=data.get("max_duty_cycle", 0),
            adr_ack_limit_exp=limit_exp,
            adr_ack_delay_exp=delay_exp,
            rx1_frequencies={int(ch): f for ch, f in data.get("rx1_frequencies", {}).items()},
            beacon_frequency=data.get("beacon_frequency", 0),
            min_supported_tx_power_index=data.get("min_supported_tx_power_index", 0),
            rejoin_count_1=data.get("rejoin_count_1", 0),
            pending_rejoin_session=None if pending is None else cls.from_dict(pending),
        )

    # --- the stored record (``session_codec``): the same fields by position -----------------

    def to_record(self) -> list[Any]:
        """The session as a flat list, in field order with the keys spread over five
        positions: what ``session_codec`` stores. Keys and the DevAddr are bytes, the history
        stays packed, and a LoRaWAN 1.0 session's repeated network key is stored once.
        Released positions never change; a field added later goes at the end."""
        keys = self.keys
        nwk = keys.f_nwk_s_int_key
        s_nwk, nwk_enc = keys.s_nwk_s_int_key, keys.nwk_s_enc_key
        history = UplinkHistory.of(self.uplink_history)
        packed = history.packed
        rejoin = self.pending_rejoin_session
        return [
            bytes(self.dev_addr),
            bytes(nwk),
            None if s_nwk is nwk or s_nwk == nwk else bytes(s_nwk),
            None if nwk_enc is nwk or nwk_enc == nwk else bytes(nwk_enc),
            bytes(keys.app_s_key),
            keys.lorawan_1_1,
            str(self.mac_version),
            self.region,
            self.rx2_dr,
            self.rx2_frequency,
            self.enabled_uplink_channels,
            self.f_cnt_up,
            self.n_f_cnt_down,
            self.a_f_cnt_down,
            self.conf_f_cnt,
            self.conf_f_cnt_timed_out,
            self.rx1_delay_s,
            self.rx1_dr_offset,
            {i: (c.frequency, c.min_dr, c.max_dr) for i, c in self.extra_uplink_channels.items()},
            self.dr,
            self.tx_power_index,
            self.nb_trans,
            self.adr,
            self.max_supported_tx_power_index,
            self.uplink_dwell_time_400ms,
            self.downlink_dwell_time_400ms,
            self.uplink_max_eirp_index,
            self.ping_slot_nb,
            self.ping_slot_dr,
            self.ping_slot_frequency,
            list(history) if packed is None else packed,
            {c: (r.payloads, r.sent_at_f_cnt_down) for c, r in self.pending_mac_requests.items()},
            self.mac_command_error_count,
            self.last_device_status_request_ns,
            self.rejoin_request_enabled,
            self.rejoin_max_count_n,
            self.rejoin_max_time_n,
            self.rejoin_count_0,
            self.skip_f_cnt_check,
            self.max_duty_cycle,
            self.adr_ack_limit_exp,
            self.adr_ack_delay_exp,
            self.rx1_frequencies,
            self.beacon_frequency,
            self.min_supported_tx_power_index,
            self.rejoin_count_1,
            None if rejoin is None else rejoin.to_record(),
        ]

    @classmethod
    def from_record(cls, record: Sequence[Any]) -> DeviceSession:
        """The inverse of ``to_record``; sequences may come back as tuples or lists.
        ``ValueError`` for a record of another length (``RecordLengthError``: a newer one)."""
        if len(record) != RECORD_LENGTH:
            raise RecordLengthError(len(record))
        r = record
        nwk = AESKey(r[1])
        keys = SessionKeys(
            nwk,
            nwk if r[2] is None else AESKey(r[2]),
            nwk if r[3] is None else AESKey(r[3]),
            AESKey(r[4]),
            lorawan_1_1=bool(r[5]),
        )
        history = r[30]
        pending = r[46]
        return cls(
            DevAddr(r[0]),
            keys,
            _MAC_VERSIONS.get(r[6]) or MACVersion(r[6]),
            r[7],
            r[8],
            r[9],
            tuple(r[10]),
            r[11],
            r[12],
            r[13],
            r[14],
            r[15],
            r[16],
            r[17],
            {i: _extra_channel(values) for i, values in r[18].items()} if r[18] else {},
            r[19],
            r[20],
            r[21],
            r[22],
            r[23],
            r[24],
            r[25],
            r[26],
            r[27],
            r[28],
            r[29],
            UplinkHistory.from_packed(history)
            if isinstance(history, bytes)
            else UplinkHistory(UplinkHistoryEntry(*entry) for entry in history),
            {
                cid: PendingMACRequest(cid, tuple(payloads), sent_at)
                for cid, (payloads, sent_at) in r[31].items()
            }
            if r[31]
            else {},
            dict(r[32]),
            r[33],
            r[34],
            r[35],
            r[36],
            r[37],
            r[38],
            r[39],
            r[40],
            r[41],
            dict(r[42]),
            r[43],
            r[44],
            r[45],
            None if pending is None else cls.from_record(pending),
        )


def _extra_channel(values: Sequence[int]) -> ExtraChannel:
    # Every device of a network holds the same few channels: one shared (frozen) object each
    # instead of one per cached session.
    key = tuple(values)
    channel = _extra_channels.get(key)
    if channel is None:
        if len(_extra_channels) >= 256:
            _extra_channels.clear()
        channel = _extra_channels[key] = ExtraChannel(*key)
    return channel


_extra_channels: dict[tuple[int, ...], ExtraChannel] = {}
RECORD_LENGTH: Final = 47  # positions of ``DeviceSession.to_record``
_MAC_VERSIONS: Final = {str(version): version for version in MACVersion}


class RecordLengthError(ValueError):
    """A stored record with more positions (a newer version) or fewer (damage) than known."""

    def __init__(self, length: int) -> None:
        newer = length > RECORD_LENGTH
        super().__init__(
            f"a session record of {length} fields where {RECORD_LENGTH} are known"
            + (" (written by a newer version)" if newer else "")
        )
        self.newer = newer
