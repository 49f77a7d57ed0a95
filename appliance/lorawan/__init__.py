"""The LoRaWAN protocol core: pure code (no I/O, no clock reads) used by every other part.

Wire formats, cryptography, MAC commands, regional parameters and time-on-air live here; the
network server and the gateway links import this package, never the reverse. The names below
are the everyday ones; the submodules hold the rest (see docs/protocol-core.md).
"""

from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.errors import (
    EncodeError,
    FrameError,
    InvalidValueError,
    LoRaWANError,
    MACCommandError,
)
from appliance.lorawan.fcnt import reconstruct_f_cnt
from appliance.lorawan.frames import (
    DataFrame,
    EncryptedJoinAccept,
    FCtrl,
    Frame,
    JoinRequest,
    Proprietary,
    RejoinRequest02,
    RejoinRequest1,
)
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, DevEUI, GatewayID, JoinEUI, NetID
from appliance.lorawan.join_accept import DLSettings, JoinAccept
from appliance.lorawan.mhdr import MType
from appliance.lorawan.regions import Region, get_region
from appliance.lorawan.security import SessionKeys

__all__ = [
    "EUI64",
    "AESKey",
    "DLSettings",
    "DataFrame",
    "DevAddr",
    "DevEUI",
    "EncodeError",
    "EncryptedJoinAccept",
    "FCtrl",
    "Frame",
    "FrameError",
    "GatewayID",
    "InvalidValueError",
    "JoinAccept",
    "JoinEUI",
    "JoinRequest",
    "LoRaWANError",
    "MACCommandError",
    "MType",
    "NetID",
    "Proprietary",
    "Region",
    "RejoinRequest02",
    "RejoinRequest1",
    "SessionKeys",
    "decode_phy_payload",
    "get_region",
    "reconstruct_f_cnt",
]
