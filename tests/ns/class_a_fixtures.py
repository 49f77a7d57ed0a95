"""The stored state and the frames of the Class A tables: network settings, profiles,
sessions, devices, queue items and the uplinks a device sends (``class_a`` runs them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any, Final

from appliance.lorawan import security
from appliance.lorawan.frames import (
    FCtrl,
    JoinRequest,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys
from appliance.ns.device import Device, RootKeys
from appliance.ns.downlink.data import QueueItem
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession, ExtraChannel
from hal.model import (
    LoRaModulation,
    UplinkTxInfo,
)

S: Final = 1_000_000_000
MS: Final = 1_000_000
NOW: Final = 1_000 * S
NET_ID: Final = NetID("000013")
JOIN_EUI: Final = EUI64("70b3d57ed0000000")
APP_KEY: Final = AESKey(bytes(range(16)))
NWK_KEY: Final = AESKey(bytes(range(16, 32)))
GW1, GW2, GW3 = EUI64(0xA1), EUI64(0xA2), EUI64(0xA3)
DEV1, DEV2 = EUI64(1), EUI64(2)
ADDR: Final = DevAddr.from_net_id(NET_ID, 0x1BDA)
KEYS_1_0: Final = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
KEYS_1_1: Final = SessionKeys(
    AESKey(bytes([3]) * 16),
    AESKey(bytes([4]) * 16),
    AESKey(bytes([5]) * 16),
    AESKey(bytes([6]) * 16),
)
EU868_SF7: Final = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7))
EU868_SF12: Final = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 12))
LINK_CHECK_REQ: Final = b"\x02"  # the FOpts of a LinkCheckReq
EXTRA: Final = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)
SETTINGS: Final = NetworkSettings(net_id=NET_ID, extra_channels=EXTRA, downlink_wait_ms=0)

PROFILE_1_0: Final = DeviceProfile(
    "1.0.3",
    "EU868",
    mac_version=MACVersion.LORAWAN_1_0_3,
    device_status_req_interval=0,
    id=uuid.UUID(int=103),
)
PROFILE_1_0_4: Final = replace(
    PROFILE_1_0, name="1.0.4", mac_version=MACVersion.LORAWAN_1_0_4, id=uuid.UUID(int=104)
)
PROFILE_1_1: Final = replace(
    PROFILE_1_0, name="1.1", mac_version=MACVersion.LORAWAN_1_1_0, id=uuid.UUID(int=110)
)


# --- stored state --------------------------------------------------------------------------


def session(version: MACVersion = MACVersion.LORAWAN_1_0_3, **changes: Any) -> DeviceSession:
    """A session on the network's EU868 plan (default channels and the five extras) at DR5."""
    extras = {3 + i: (f, 0, 5) for i, f in enumerate(EXTRA)}
    stored = DeviceSession(
        ADDR,
        KEYS_1_1 if version.is_1_1 else KEYS_1_0,
        version,
        "EU868",
        0,
        869_525_000,
        tuple(range(8)),
        f_cnt_up=10,
        n_f_cnt_down=5,
        a_f_cnt_down=3,
        dr=5,
        last_device_status_request_ns=NOW,
    )
    stored.extra_uplink_channels = {i: ExtraChannel(*values) for i, values in extras.items()}
    for name, value in changes.items():
        setattr(stored, name, value)
    return stored


def device(
    dev_eui: EUI64 = DEV1,
    profile: DeviceProfile = PROFILE_1_0,
    stored_session: DeviceSession | None = None,
    **changes: Any,
) -> Device:
    nwk_key = NWK_KEY if profile.mac_version.is_1_1 else None
    record = Device(
        dev_eui,
        JOIN_EUI,
        f"device-{dev_eui}",
        profile.id,
        uuid.UUID(int=7),
        RootKeys(APP_KEY, nwk_key),
        session=stored_session,
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


@dataclass(frozen=True)
class Queued:
    dev_eui: EUI64
    item: QueueItem
    expires_at_ns: int | None = None
    sent_with_f_cnt: int | None = None  # a confirmed item already sent, awaiting its ACK


def queued(
    f_port: int = 10,
    data: bytes = b"\x01\x02",
    *,
    confirmed: bool = False,
    dev_eui: EUI64 = DEV1,
    expires_at_ns: int | None = None,
    sent_with_f_cnt: int | None = None,
) -> Queued:
    item = QueueItem(uuid.uuid4(), f_port, data, confirmed)
    return Queued(dev_eui, item, expires_at_ns, sent_with_f_cnt)


@dataclass(frozen=True)
class Stored:
    devices: tuple[Device, ...] = ()
    profiles: tuple[DeviceProfile, ...] = (PROFILE_1_0, PROFILE_1_0_4, PROFILE_1_1)
    queue: tuple[Queued, ...] = ()
    dev_nonces: tuple[tuple[EUI64, int], ...] = ()  # DevNonces the device joined with before
    settings: NetworkSettings = SETTINGS


# --- frames ----------------------------------------------------------------------------------


def data_up(
    f_cnt: int,
    *,
    keys: SessionKeys = KEYS_1_0,
    dev_addr: DevAddr = ADDR,
    confirmed: bool = False,
    f_port: int | None = 1,
    payload: bytes = b"\x11\x22",
    f_opts: bytes = b"",
    f_ctrl: FCtrl | None = None,
    conf_f_cnt: int = 0,
    tx_dr: int = 5,
    tx_ch: int = 0,
) -> bytes:
    mtype = MType.CONFIRMED_DATA_UP if confirmed else MType.UNCONFIRMED_DATA_UP
    return security.build_data_frame(
        mtype,
        dev_addr,
        keys,
        f_cnt,
        f_ctrl=f_ctrl or FCtrl(),
        f_opts=f_opts,
        f_port=f_port,
        payload=payload if f_port is not None else b"",
        conf_f_cnt=conf_f_cnt,
        tx_dr=tx_dr,
        tx_ch=tx_ch,
    ).encode()


def join_request(
    dev_nonce: int, *, dev_eui: EUI64 = DEV1, key: AESKey = APP_KEY, join_eui: EUI64 = JOIN_EUI
) -> bytes:
    return security.sign_join_request(JoinRequest(join_eui, dev_eui, dev_nonce), key).encode()


def rejoin_request(
    rejoin_type: int,
    rj_count: int,
    *,
    dev_eui: EUI64 = DEV1,
    key: AESKey | None = None,
    net_id: NetID = NET_ID,
    join_eui: EUI64 = JOIN_EUI,
) -> bytes:
    frame: RejoinRequest02 | RejoinRequest1
    if rejoin_type == 1:
        frame = RejoinRequest1(join_eui, dev_eui, rj_count)
        key = key or security.derive_js_int_key(NWK_KEY, dev_eui)
    else:
        frame = RejoinRequest02(rejoin_type, net_id, dev_eui, rj_count)
        key = key or KEYS_1_1.s_nwk_s_int_key
    return security.sign_rejoin_request(frame, key).encode()


# --- steps -----------------------------------------------------------------------------------
