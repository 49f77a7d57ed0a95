"""A small LoRa Basics Station stand-in: the client side of the protocol, for tests and benches.

It speaks as Station 2.0.6 does (discovery, ``version``, uplinks split into fields by
``message_from_phy_payload``, ``dntxed`` after a ``dnmsg``, ``timesync``), over a real WebSocket
(``websockets.asyncio.client``). It has no radio: callers say what was "received".
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from websockets.asyncio.client import ClientConnection, connect

from appliance.lorawan.identifiers import EUI64
from hal.basic_station.downlink import PLACEHOLDER_DEV_EUI
from hal.basic_station.uplink import message_from_phy_payload

VERSION: dict[str, Any] = {
    "msgtype": "version",
    "station": "2.0.6(emulator)",
    "firmware": "emulator",
    "package": "",
    "model": "emulator",
    "protocol": 2,
    "features": "rmtsh",
}


def uplink_message(
    phy_payload: bytes,
    *,
    data_rate: int,
    frequency_hz: int,
    xtime: int = 0,
    rctx: int = 0,
    gpstime_us: int = 0,
    fts: int = -1,
    rssi: float = -60,
    snr: float = 9.5,
    rxtime: float = 0.0,
) -> dict[str, Any]:
    """The JSON Station sends for a frame it received (field order as Station writes it)."""
    message = message_from_phy_payload(phy_payload)
    message |= {
        "RefTime": 0.0,
        "DR": data_rate,
        "Freq": frequency_hz,
        "upinfo": {
            "rctx": rctx,
            "xtime": xtime,
            "gpstime": gpstime_us,
            "fts": fts,
            "rssi": rssi,
            "snr": snr,
            "rxtime": rxtime,
        },
    }
    return message


def dntxed_for(dnmsg: Mapping[str, Any], *, rx2: bool = False) -> dict[str, Any]:
    """What Station reports after sending ``dnmsg`` (in RX2 when ``rx2``)."""
    if "RX1DR" in dnmsg and not rx2:
        data_rate, frequency = dnmsg["RX1DR"], dnmsg["RX1Freq"]
        xtime = dnmsg["xtime"] + dnmsg["RxDelay"] * 1_000_000
    elif "RX2DR" in dnmsg:
        data_rate, frequency = dnmsg["RX2DR"], dnmsg["RX2Freq"]
        xtime = dnmsg.get("xtime", 0) + (max(dnmsg.get("RxDelay", 0), 1) + 1) * 1_000_000
    else:
        data_rate, frequency, xtime = dnmsg["DR"], dnmsg["Freq"], 0
    return {
        "msgtype": "dntxed",
        "seqno": dnmsg["diid"],
        "diid": dnmsg["diid"],
        "DR": data_rate,
        "Freq": frequency,
        "DevEui": dnmsg.get("DevEui", PLACEHOLDER_DEV_EUI),
        "rctx": dnmsg.get("rctx", 0),
        "xtime": xtime,
        "txtime": 0.0,
        "gpstime": dnmsg.get("gpstime", 0),
    }


async def discover(
    router_info_uri: str,
    router: object,
    *,
    headers: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """Ask ``/router-info`` where ``router`` (any EUI form) should connect."""
    async with connect(
        router_info_uri, additional_headers=headers, ssl=ssl_context, compression=None
    ) as connection:
        await connection.send(json.dumps({"router": router}))
        answer: dict[str, Any] = json.loads(await connection.recv())
        return answer


class StationEmulator:
    """A connected station: send its messages, read what the LNS sends it."""

    def __init__(self, connection: ClientConnection, gateway_id: EUI64) -> None:
        self.connection = connection
        self.gateway_id = gateway_id

    @classmethod
    async def connect(
        cls,
        uri: str,
        gateway_id: EUI64,
        *,
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> Self:
        connection = await connect(
            uri, additional_headers=headers, ssl=ssl_context, compression=None, max_size=None
        )
        return cls(connection, gateway_id)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.connection.close()

    async def send(self, message: Mapping[str, Any] | str | bytes) -> None:
        if isinstance(message, Mapping):
            message = json.dumps(message)
        await self.connection.send(message)

    async def receive(self) -> dict[str, Any]:
        """The next message from the LNS (callers bound the wait with ``asyncio.timeout``)."""
        message: dict[str, Any] = json.loads(await self.connection.recv())
        return message

    async def hello(self, **version: Any) -> dict[str, Any]:
        """Send ``version`` and return the ``router_config`` answer."""
        await self.send(VERSION | version)
        return await self.receive()

    async def uplink(self, phy_payload: bytes, **radio: Any) -> None:
        await self.send(uplink_message(phy_payload, **radio))

    async def timesync(self, txtime: int) -> dict[str, Any]:
        await self.send({"msgtype": "timesync", "txtime": txtime})
        return await self.receive()
