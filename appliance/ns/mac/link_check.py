"""LinkCheckReq -> LinkCheckAns (CID 0x02): the link margin and gateway count of this uplink.

Margin = best SNR - the demodulation floor of the uplink's spreading factor, in whole dB,
never negative (the device asked because it doubts the link; 0 says "barely"). FSK and
LR-FHSS uplinks get margin 0: there is no LoRa floor to compare with, and the gateway count
alone still tells the device it is heard (ChirpStack does the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from appliance.lorawan.maccommands import LinkCheckAns, LinkCheckReq, MACCommand
from appliance.ns.adr import required_snr_db
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import LogLevel, MACLogCode
from appliance.ns.mac.state import MACResult
from appliance.ns.session import DeviceSession

MAX_MARGIN: Final = 254  # 255 is reserved
MAX_GW_COUNT: Final = 255


def handle(
    session: DeviceSession, commands: Sequence[MACCommand], ctx: MACContext, result: MACResult
) -> None:
    uplink = ctx.uplink
    if uplink is None:
        result.log(
            LogLevel.ERROR,
            MACLogCode.MISSING_METADATA,
            LinkCheckReq.CID,
            "LinkCheckReq without uplink metadata: not answered",
        )
        return
    floor = required_snr_db(ctx.region, uplink.dr)
    margin = 0
    if floor is not None and uplink.max_snr is not None:
        margin = min(MAX_MARGIN, max(0, int(uplink.max_snr - floor)))
    result.answer(LinkCheckAns(margin=margin, gw_count=min(uplink.gateway_count, MAX_GW_COUNT)))
