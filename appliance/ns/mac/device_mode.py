"""DeviceModeInd -> DeviceModeConf (CID 0x20, LoRaWAN 1.1 Class C): the device changed class.

The device class is kept on the device record, not the session, so the change is reported
as an event. An RFU class value is not confirmed: confirming it would tell the device the
network operates it in a class that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.lorawan.maccommands import DeviceModeConf, DeviceModeInd, MACCommand
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import DeviceClassChanged, LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult, of_type
from appliance.ns.session import DeviceSession


def handle(
    session: DeviceSession, commands: Sequence[MACCommand], ctx: MACContext, result: MACResult
) -> None:
    indication = of_type(commands, DeviceModeInd)[0]
    name = indication.device_class_name
    if name == "RFU":
        result.log(
            LogLevel.WARNING,
            MACLogCode.MALFORMED,
            DeviceModeInd.CID,
            f"DeviceModeInd with reserved class 0x{indication.device_class:02X}: not confirmed",
        )
        return
    if name == "C" and not ctx.profile.supports_class_c:
        result.log(
            LogLevel.WARNING,
            MACLogCode.INFO,
            DeviceModeInd.CID,
            "device switched to Class C but its profile does not declare Class C support",
        )
    result.events.append(DeviceClassChanged(name))
    result.answer(DeviceModeConf(indication.device_class))
