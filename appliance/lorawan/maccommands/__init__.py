"""LoRaWAN MAC commands (LoRaWAN 1.0.4 and 1.1, both directions): value types and codec.

    parsed = decode_mac_commands(fopts, uplink=True)
    for command in parsed.commands:
        print(command.to_json())
    if not parsed.complete:
        print(parsed.error)

    fopts = encode_mac_commands([LinkCheckAns(margin=20, gw_count=2)], uplink=False)

Layouts: LoRaWAN 1.0.4 section 5, LoRaWAN 1.1 section 5 and the Class B and Class C sections
of both; each module's docstring names its part.
"""

from __future__ import annotations

from appliance.lorawan.maccommands.base import (
    FREQUENCY_STEP_HZ,
    MAX_FREQUENCY_HZ,
    IntRange,
    MACCommand,
)
from appliance.lorawan.maccommands.classb import (
    BeaconFreqAns,
    BeaconFreqReq,
    BeaconTimingAns,
    BeaconTimingReq,
    PingSlotChannelAns,
    PingSlotChannelReq,
    PingSlotInfoAns,
    PingSlotInfoReq,
)
from appliance.lorawan.maccommands.codec import (
    ALL_COMMAND_CLASSES,
    MACCommandParse,
    command_class,
    decode_command,
    decode_mac_commands,
    decode_mac_commands_strict,
    encode_mac_commands,
)
from appliance.lorawan.maccommands.link import (
    DevStatusAns,
    DevStatusReq,
    DutyCycleAns,
    DutyCycleReq,
    LinkADRAns,
    LinkADRReq,
    LinkCheckAns,
    LinkCheckReq,
)
from appliance.lorawan.maccommands.radio import (
    MAX_EIRP_DBM,
    DlChannelAns,
    DlChannelReq,
    NewChannelAns,
    NewChannelReq,
    RXParamSetupAns,
    RXParamSetupReq,
    RXTimingSetupAns,
    RXTimingSetupReq,
    TxParamSetupAns,
    TxParamSetupReq,
)
from appliance.lorawan.maccommands.session import (
    DEVICE_CLASS_A,
    DEVICE_CLASS_C,
    ADRParamSetupAns,
    ADRParamSetupReq,
    DeviceModeConf,
    DeviceModeInd,
    DeviceTimeAns,
    DeviceTimeReq,
    ForceRejoinReq,
    RejoinParamSetupAns,
    RejoinParamSetupReq,
    RekeyConf,
    RekeyInd,
    ResetConf,
    ResetInd,
)

__all__ = [
    "ALL_COMMAND_CLASSES",
    "DEVICE_CLASS_A",
    "DEVICE_CLASS_C",
    "FREQUENCY_STEP_HZ",
    "MAX_EIRP_DBM",
    "MAX_FREQUENCY_HZ",
    "ADRParamSetupAns",
    "ADRParamSetupReq",
    "BeaconFreqAns",
    "BeaconFreqReq",
    "BeaconTimingAns",
    "BeaconTimingReq",
    "DevStatusAns",
    "DevStatusReq",
    "DeviceModeConf",
    "DeviceModeInd",
    "DeviceTimeAns",
    "DeviceTimeReq",
    "DlChannelAns",
    "DlChannelReq",
    "DutyCycleAns",
    "DutyCycleReq",
    "ForceRejoinReq",
    "IntRange",
    "LinkADRAns",
    "LinkADRReq",
    "LinkCheckAns",
    "LinkCheckReq",
    "MACCommand",
    "MACCommandParse",
    "NewChannelAns",
    "NewChannelReq",
    "PingSlotChannelAns",
    "PingSlotChannelReq",
    "PingSlotInfoAns",
    "PingSlotInfoReq",
    "RXParamSetupAns",
    "RXParamSetupReq",
    "RXTimingSetupAns",
    "RXTimingSetupReq",
    "RejoinParamSetupAns",
    "RejoinParamSetupReq",
    "RekeyConf",
    "RekeyInd",
    "ResetConf",
    "ResetInd",
    "TxParamSetupAns",
    "TxParamSetupReq",
    "command_class",
    "decode_command",
    "decode_mac_commands",
    "decode_mac_commands_strict",
    "encode_mac_commands",
]
