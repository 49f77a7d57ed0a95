"""RekeyInd -> RekeyConf (CID 0x0B, LoRaWAN 1.1 OTAA devices): new session keys are in use.

Switching to the session a rejoin built happens where the frame is validated (the MIC tells
which keys the device used); here the device only gets its confirmation, carrying the highest
LoRaWAN 1.x minor both sides speak. A 1.0 session cannot send this CID legitimately.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from appliance.lorawan.maccommands import MACCommand, RekeyConf, RekeyInd
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult, of_type
from appliance.ns.session import DeviceSession

SERVER_MINOR: Final = 1


def handle(
    session: DeviceSession, commands: Sequence[MACCommand], ctx: MACContext, result: MACResult
) -> None:
    indication = of_type(commands, RekeyInd)[0]
    if not session.mac_version.is_1_1:
        result.log(
            LogLevel.WARNING,
            MACLogCode.UNSUPPORTED,
            RekeyInd.CID,
            f"RekeyInd from a LoRaWAN {session.mac_version} session: ignored",
        )
        return
    result.answer(RekeyConf(minor=min(SERVER_MINOR, indication.minor)))
