"""DeviceTimeReq -> DeviceTimeAns (CID 0x0D): the GPS time at the end of the uplink.

The time comes from the gateways' reception timestamps (the caller converts it to GPS
seconds); without one the request is not answered, since a guessed time would set the
device's clock wrong, which is worse than no answer (the device retries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from appliance.lorawan.maccommands import DeviceTimeAns, DeviceTimeReq, MACCommand
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult
from appliance.ns.session import DeviceSession

GPS_SECONDS_WRAP: Final = 1 << 32  # the answer carries the seconds modulo 2**32


def handle(
    session: DeviceSession, commands: Sequence[MACCommand], ctx: MACContext, result: MACResult
) -> None:
    gps_time = None if ctx.uplink is None else ctx.uplink.gps_time_s
    if gps_time is None or gps_time < 0:
        result.log(
            LogLevel.WARNING,
            MACLogCode.MISSING_METADATA,
            DeviceTimeReq.CID,
            "DeviceTimeReq without a reception time: not answered",
        )
        return
    result.answer(DeviceTimeAns.from_gps_time(gps_time % GPS_SECONDS_WRAP))
