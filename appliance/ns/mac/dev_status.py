"""DevStatusReq / DevStatusAns (CID 0x06): battery and link margin, asked for periodically.

The device profile's ``device_status_req_interval`` is a count per day (0: never). The time of
the last request is stamped when the frame carrying it is built (``record_sent``), not when it
is chosen, so a request that did not fit does not push the next one back a whole interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from appliance.lorawan.maccommands import DevStatusAns, DevStatusReq, MACCommand
from appliance.ns.mac.context import MACContext
from appliance.ns.mac.events import DeviceStatus
from appliance.ns.mac.state import MACResult, acknowledged, of_type
from appliance.ns.session import DeviceSession

CID = DevStatusReq.CID
NS_PER_DAY: Final = 86_400 * 1_000_000_000
BATTERY_EXTERNAL: Final = 0
BATTERY_UNKNOWN: Final = 255


def due(session: DeviceSession, ctx: MACContext) -> bool:
    per_day = ctx.profile.device_status_req_interval
    if per_day <= 0:
        return False
    last = session.last_device_status_request_ns
    return last is None or ctx.now_ns - last >= NS_PER_DAY // per_day


def request(session: DeviceSession, ctx: MACContext) -> list[DevStatusReq]:
    return [DevStatusReq()] if due(session, ctx) else []


def handle_answer(
    session: DeviceSession,
    answers: Sequence[MACCommand],
    requests: Sequence[MACCommand],
    ctx: MACContext,
    result: MACResult,
) -> None:
    reply = of_type(answers, DevStatusAns)[0]
    level = reply.battery_level
    result.events.append(
        DeviceStatus(
            battery=reply.battery,
            margin=reply.margin,
            external_power=reply.battery == BATTERY_EXTERNAL,
            battery_level_percent=None if level is None else round(level * 100.0, 2),
        )
    )
    acknowledged(session, requests, result)
