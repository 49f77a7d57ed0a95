"""A fixed appliance for the snapshot tests: the same interface as ``HTTPApplianceAPI``, with
answers that never change, so every screen draws the same way on every run.

Only the snapshot tests use it (determinism is their point); the flow tests run the console
against a real appliance on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from tui.client.api import JSON, StreamFilters
from tui.client.errors import NotOfferedError, RejectedError
from tui.client.stream_items import StreamItem, parse_stream_message

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
APP_ID = "5e1f0000-0000-4000-8000-000000000002"
PROFILE_ID = "5e1f0000-0000-4000-8000-000000000001"
GATEWAY = "0016c001ff100001"

STATUS: JSON = {
    "version": "0.1.0",
    "python": "3.11.7",
    "platform": "Linux",
    "region": "EU868",
    "netId": "000000",
    "uptimeS": 9_240.5,
    "devices": 4,
    "dataDir": "/var/lib/appliance",
    "diskFreeBytes": 12 * 1024**3,
    "diskTotalBytes": 32 * 1024**3,
    "uplinks": 1_234,
    "joins": 7,
    "cpuTemperatureC": 48.5,
    "parts": {
        "gateways": {
            "backends": [
                {
                    "name": "sx1302",
                    "description": "RAK2287 on /dev/spidev0.0",
                    "gateways": ["0016c001ff10a235"],
                    "details": {"chip": "SX1302", "temperature": 41.2},
                },
                {
                    "name": "semtech-udp",
                    "description": "semtech-udp on port 1700",
                    "gateways": [GATEWAY],
                },
            ]
        },
        "integrations": {
            "outbox": {"file": "/var/lib/appliance/outbox.db", "commits": 10},
            "backlog": 12,
            "targets": [
                {
                    "name": f"app/{APP_ID}/mqtt",
                    "kind": "mqtt",
                    "application_id": APP_ID,
                    "destination": "mqtt://10.0.0.5:1883",
                    "backlog": 12,
                    "connected": False,
                    "last_error": "connection refused by 10.0.0.5:1883",
                },
                {
                    "name": f"app/{APP_ID}/http/0",
                    "kind": "http",
                    "application_id": APP_ID,
                    "destination": "http://10.0.0.6:8090/events",
                    "backlog": 0,
                    "last_error": None,
                },
            ],
        },
        "bridge": {"connected": True, "backlog": 0, "spool_bytes": 0, "uplinks_sent": 800},
    },
}

METRICS = """\
# TYPE appliance_uplinks_total counter
appliance_uplinks_total 1234
appliance_dropped_frames_total{reason="mic_failed"} 3
appliance_dropped_frames_total{reason="unknown_dev_addr"} 17
appliance_downlinks_total{status="OK"} 40
appliance_downlinks_total{status="TOO_LATE"} 2
appliance_device_queue_items 1
"""


def _device(number: int, name: str, **status: Any) -> JSON:
    return {
        "devEui": f"70b3d57ed00000{number:02x}",
        "joinEui": "70b3d57ed0000000",
        "name": name,
        "description": "",
        "applicationId": APP_ID,
        "deviceProfileId": PROFILE_ID,
        "deviceProfileName": "EU868 class A",
        "macVersion": "1.0.3",
        "enabled": True,
        "skipFCntCheck": False,
        "tags": {},
        "variables": {},
        "devAddr": None,
        "lastSeenAt": None,
        "rssi": None,
        "snr": None,
        "fCntUp": None,
        "dr": None,
        "batteryLevel": None,
        "margin": None,
        "externalPower": None,
        **status,
    }


DEVICES: list[JSON] = [
    _device(
        1,
        "boiler-room",
        lastSeenAt="2026-11-21T11:59:48Z",
        rssi=-71,
        snr=9.5,
        fCntUp=812,
        dr=5,
        batteryLevel=87.0,
        devAddr="01ab3c4d",
    ),
    _device(
        2,
        "cold-store",
        lastSeenAt="2026-11-21T11:41:00Z",
        rssi=-112,
        snr=-6.25,
        fCntUp=97,
        dr=0,
        batteryLevel=23.0,
        devAddr="01ab3c4e",
    ),
    _device(
        3,
        "gate-sensor",
        lastSeenAt="2026-11-20T08:00:00Z",
        rssi=-95,
        snr=2.0,
        fCntUp=4410,
        dr=3,
        externalPower=True,
        devAddr="01ab3c4f",
    ),
    _device(4, "spare-tracker", enabled=False),
]


def _frame(index: int, device: JSON, *, direction: str = "up") -> JSON:
    addr = bytes.fromhex(device["devAddr"])[::-1]
    mhdr = 0x40 if direction == "up" else 0x60
    phy = bytes([mhdr]) + addr + bytes([0x80, index & 0xFF, 0, 1]) + bytes(6) + b"\x11\x22\x33\x44"
    tx_info: JSON = {
        "frequency": (868_100_000, 868_300_000, 868_500_000)[index % 3],
        "modulation": {
            "lora": {"bandwidth": 125_000, "spreadingFactor": 7 + index % 4, "codeRate": "CR_4_5"}
        },
    }
    body: JSON = {"phyPayload": base64.b64encode(phy).decode(), "txInfo": tx_info}
    if direction == "up":
        body["rxInfo"] = [
            {"gatewayId": GATEWAY, "rssi": -70 - index, "snr": 9.5 - index, "channel": index % 3}
        ]
        body["fType"] = "UNCONFIRMED_DATA_UP"
    else:
        tx_info["power"] = 14
        body["fType"] = "UNCONFIRMED_DATA_DOWN"
        body["gatewayId"] = GATEWAY
    return {
        "type": "frame",
        "direction": direction,
        "gatewayId": GATEWAY,
        "devEui": device["devEui"],
        "devAddr": device["devAddr"],
        "fType": "UNCONFIRMED_DATA_UP" if direction == "up" else "UNCONFIRMED_DATA_DOWN",
        "time": f"2026-11-21T11:59:{10 + index:02d}.250Z",
        "txStatus": None if direction == "up" else "OK",
        "body": body,
    }


def _event(index: int, device: JSON, kind: str, **body: Any) -> JSON:
    return {
        "type": "event",
        "kind": kind,
        "devEui": device["devEui"],
        "applicationId": APP_ID,
        "time": f"2026-11-21T11:59:{10 + index:02d}.300Z",
        "body": {
            "time": f"2026-11-21T11:59:{10 + index:02d}.300+00:00",
            "deviceInfo": {
                "deviceName": device["name"],
                "devEui": device["devEui"],
                "applicationId": APP_ID,
            },
            **body,
        },
    }


def stream_messages() -> list[JSON]:
    boiler, cold, gate = DEVICES[0], DEVICES[1], DEVICES[2]
    messages: list[JSON] = []
    for index, device in enumerate((boiler, cold, gate, boiler, cold, gate, boiler, cold)):
        messages.append(_frame(index, device))
        messages.append(
            _event(
                index,
                device,
                "up",
                devAddr=device["devAddr"],
                fCnt=index,
                fPort=1,
                dr=5,
                data="AQI=",
                rxInfo=[{"gatewayId": GATEWAY, "rssi": -70 - index, "snr": 9.5}],
            )
        )
    messages.append(_frame(9, boiler, direction="down"))
    messages.append(
        _event(
            9,
            cold,
            "log",
            level="ERROR",
            code="UPLINK_MIC",
            description="MIC of uplink frame-counter 98 does not match",
        )
    )
    messages.append({"type": "missed", "count": 2})
    return messages


class FakeAPI:
    """Fixed answers; writes change the copy this instance holds, so a test sees them."""

    def __init__(self, *, config_offered: bool = True, stream: bool = True) -> None:
        self.devices = copy.deepcopy(DEVICES)
        running: JSON = {
            "region": "EU868",
            "log_level": "info",
            "backends": [{"kind": "sx1302", "profile": "rak2287", "region": "EU868"}],
            "bridge": {
                "mode": "forwarder",
                "transport": "mqtt",
                "gateway_ids": ["0016c001ff100001"],
                "mqtt": {"url": "mqtt://upstream.example:1883", "topic_prefix": "eu868"},
            },
        }
        self.config: JSON = {
            "running": running,
            "file": copy.deepcopy(running),
            "configFile": "/var/lib/appliance/appliance.toml",
            "restartRequired": False,
            "editable": ["backends", "bridge", "region"],
        }
        self.restarts = 0
        self.config_offered = config_offered
        self.with_stream = stream
        self.queued: list[JSON] = []
        self.requests: list[tuple[str, Any]] = []

    @property
    def url(self) -> str:
        return "http://127.0.0.1:8080"

    async def close(self) -> None:
        return None

    async def system_status(self) -> JSON:
        return copy.deepcopy(STATUS)

    async def metrics(self) -> str:
        return METRICS

    async def get_config(self) -> JSON:
        if not self.config_offered:
            raise NotOfferedError(404, "this appliance has no GET /api/system/config")
        return copy.deepcopy(self.config)

    async def put_config(self, changes: JSON) -> JSON:
        self.requests.append(("put_config", changes))
        self.config["file"].update(copy.deepcopy(changes))
        self.config["restartRequired"] = True
        return copy.deepcopy(self.config)

    async def restart(self) -> None:
        self.restarts += 1

    async def list_devices(self, *, search: str = "", limit: int = 1000) -> list[JSON]:
        return copy.deepcopy(self.devices)

    def _find(self, dev_eui: str) -> JSON:
        for device in self.devices:
            if device["devEui"] == dev_eui:
                return device
        raise RejectedError(404, f"no device {dev_eui}")

    async def get_device(self, dev_eui: str) -> JSON:
        return copy.deepcopy(self._find(dev_eui))

    async def create_device(self, body: JSON) -> JSON:
        self.requests.append(("create_device", body))
        device = _device(0, body["name"]) | {"devEui": body["devEui"]}
        self.devices.append(device)
        return device

    async def update_device(self, dev_eui: str, body: JSON) -> JSON:
        self.requests.append(("update_device", body))
        device = self._find(dev_eui)
        device.update({k: v for k, v in body.items() if k in device})
        return copy.deepcopy(device)

    async def delete_device(self, dev_eui: str) -> None:
        self.devices.remove(self._find(dev_eui))

    async def get_keys(self, dev_eui: str) -> JSON | None:
        return {"appKey": "2b7e151628aed2a6abf7158809cf4f3c", "nwkKey": None}

    async def get_activation(self, dev_eui: str) -> JSON | None:
        device = self._find(dev_eui)
        if device["devAddr"] is None:
            return None
        return {
            "devAddr": device["devAddr"],
            "macVersion": "1.0.3",
            "fCntUp": 812,
            "nFCntDown": 14,
            "aFCntDown": 0,
            "dr": 5,
            "txPowerIndex": 0,
            "nbTrans": 1,
            "adr": True,
            "rx1Delay": 1,
            "rx1DrOffset": 0,
            "rx2Dr": 0,
            "rx2Frequency": 869_525_000,
            "enabledUplinkChannels": [0, 1, 2],
            "appSKey": "000102030405060708090a0b0c0d0e0f",
            "nwkSEncKey": "101112131415161718191a1b1c1d1e1f",
        }

    async def link_metrics(self, dev_eui: str) -> JSON:
        return {
            "devEui": dev_eui,
            "lastSeenAt": None,
            "recentUplinks": 8,
            "maxSnr": [9.5, 8.0, 7.25, 9.0, 3.5, 6.0, 8.5, 9.5],
            "maxRssi": [-71, -75, -80, -72, -98, -85, -74, -71],
            "gatewayCount": [1] * 8,
        }

    async def list_queue(self, dev_eui: str) -> list[JSON]:
        return [
            {
                "id": "9a6b0000-0000-4000-8000-000000000001",
                "fPort": 10,
                "confirmed": True,
                "data": "AQID",
                "pending": True,
                "fCntDown": 15,
            },
            *copy.deepcopy(self.queued),
        ]

    async def enqueue(self, dev_eui: str, body: JSON) -> JSON:
        self.requests.append(("enqueue", body))
        item = {
            "id": f"9a6b0000-0000-4000-8000-{len(self.queued) + 2:012d}",
            "fPort": body["fPort"],
            "confirmed": body.get("confirmed", False),
            "data": body.get("data", ""),
            "pending": False,
            "fCntDown": None,
        }
        self.queued.append(item)
        return item

    async def flush_queue(self, dev_eui: str) -> None:
        self.queued.clear()

    async def device_events(self, dev_eui: str, limit: int = 20) -> list[StreamItem]:
        items = [parse_stream_message(m) for m in stream_messages() if m.get("devEui") == dev_eui]
        return items[-limit:]

    async def list_profiles(self) -> list[JSON]:
        return [
            {"id": PROFILE_ID, "name": "EU868 class A", "region": "EU868", "macVersion": "1.0.3"}
        ]

    async def list_applications(self) -> list[JSON]:
        return [
            {
                "id": APP_ID,
                "name": "building sensors",
                "description": "boiler and cold store",
                "tags": {},
                "createdAt": None,
                "updatedAt": None,
            },
            {
                "id": "5e1f0000-0000-4000-8000-000000000003",
                "name": "trackers",
                "description": "",
                "tags": {},
                "createdAt": None,
                "updatedAt": None,
            },
        ]

    async def create_application(self, body: JSON) -> JSON:
        self.requests.append(("create_application", body))
        return {"id": "5e1f0000-0000-4000-8000-000000000009", **body}

    async def update_application(self, app_id: str, body: JSON) -> JSON:
        self.requests.append(("update_application", body))
        return {"id": app_id, **body}

    async def list_integrations(self, app_id: str) -> list[JSON]:
        if app_id != APP_ID:
            return []
        return [
            {
                "applicationId": APP_ID,
                "kind": "mqtt",
                "config": {"url": "mqtt://10.0.0.5:1883", "json": True},
                "createdAt": None,
                "updatedAt": None,
            },
            {
                "applicationId": APP_ID,
                "kind": "http",
                "config": {"url": "http://10.0.0.6:8090/events"},
                "createdAt": None,
                "updatedAt": None,
            },
        ]

    async def put_integration(self, app_id: str, kind: str, config: JSON) -> JSON:
        self.requests.append(("put_integration", {"kind": kind, "config": config}))
        return {"applicationId": app_id, "kind": kind, "config": config}

    async def delete_integration(self, app_id: str, kind: str) -> None:
        self.requests.append(("delete_integration", kind))

    async def list_gateways(self) -> list[JSON]:
        return [
            {
                "gatewayId": GATEWAY,
                "name": "roof",
                "description": "",
                "location": None,
                "tags": {},
                "createdAt": None,
                "updatedAt": None,
                "lastSeenAt": "2026-11-21T11:59:30Z",
                "connectedThrough": "semtech-udp",
                "stats": {
                    "rxPacketsReceived": 1300,
                    "rxPacketsReceivedOk": 1240,
                    "txPacketsReceived": 44,
                    "txPacketsEmitted": 42,
                },
            },
            {
                "gatewayId": "0000000000000001",
                "name": "gateway-0000000000000001",
                "description": "added when first heard",
                "location": None,
                "tags": {},
                "createdAt": None,
                "updatedAt": None,
                "lastSeenAt": "2026-11-21T11:58:00Z",
                "connectedThrough": "virtual",
                "stats": {},
            },
        ]

    async def stream(
        self, filters: StreamFilters | None = None
    ) -> AsyncGenerator[StreamItem, None]:
        if not self.with_stream:
            raise NotOfferedError(404, "this appliance has no live stream (/api/stream)")
        for message in stream_messages():
            yield parse_stream_message(message)
        await asyncio.Event().wait()  # the stream stays open, quietly
